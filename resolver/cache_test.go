package resolver_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// queriedServers lists the lab servers that received queries, in order.
func queriedServers(lab *resolvertest.Lab) []string {
	var out []string
	for _, q := range lab.Queries() {
		out = append(out, q.Server+" "+q.Name+" "+dns.TypeToString[q.Type])
	}
	return out
}

func mustResolve(t *testing.T, r *resolver.Resolver, name string, qtype uint16) *resolver.Result {
	t.Helper()
	res, err := r.Resolve(context.Background(), name, qtype)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", name, err)
	}
	return res
}

func TestCacheDelegations(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	mustResolve(t, r, "www.example.org.", dns.TypeA)

	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  []string
	}{
		{"fully cached answer", "www.example.org.", dns.TypeA, nil},
		{"same zone goes straight to its servers", "mail.example.org.", dns.TypeA,
			[]string{"example.org. mail.example.org. A"}},
		{"same tld skips the root", "www.two.org.", dns.TypeA,
			[]string{"org. two.org. NS", "two.org. www.two.org. A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab.ResetQueries()
			res := mustResolve(t, r, tt.qname, tt.qtype)
			if len(res.Answer) == 0 {
				t.Fatalf("no answer")
			}
			var got []string
			for _, q := range lab.Queries() {
				zone := ""
				for _, z := range lab.Server(q.Server).Zones() {
					zone = z
				}
				if q.Server == "ns1.two.org." {
					continue // dead server: may or may not be picked first
				}
				got = append(got, zone+" "+q.Name+" "+dns.TypeToString[q.Type])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("upstream queries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCacheTrace(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	mustResolve(t, r, "www.example.org.", dns.TypeA)
	res, err := r.Query(context.Background(), resolver.Request{Name: "www.example.org.", Type: dns.TypeA, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Trace.Steps); n != 1 || res.Trace.Steps[0].Kind != resolver.EventCache || res.Trace.Steps[0].Outcome != "hit" {
		t.Fatalf("trace of a cached answer has %d steps (%+v), want one cache hit", n, res.Trace.Steps)
	}
	res, err = r.Query(context.Background(), resolver.Request{Name: "mail.example.org.", Type: dns.TypeA, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range res.Trace.Steps {
		kinds = append(kinds, s.Kind.String()+"/"+s.Outcome+"/"+s.Zone)
	}
	want := []string{"cache/miss/", "cache/cut/example.org.", "query/answer/example.org.", "done//"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
}

func TestCacheNegative(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	if res := mustResolve(t, r, "nope.example.org.", dns.TypeA); res.Rcode != dns.RcodeNameError {
		t.Fatalf("rcode %d", res.Rcode)
	}
	lab.ResetQueries()
	for _, qtype := range []uint16{dns.TypeA, dns.TypeTXT} {
		res := mustResolve(t, r, "nope.example.org.", qtype)
		if res.Rcode != dns.RcodeNameError || len(res.Authority) == 0 {
			t.Errorf("%s: rcode %s authority %v, want NXDOMAIN with SOA", dns.TypeToString[qtype], dns.RcodeToString[res.Rcode], res.Authority)
		}
	}
	mustResolve(t, r, "www.example.org.", dns.TypeMX)
	lab.ResetQueries()
	if res := mustResolve(t, r, "www.example.org.", dns.TypeMX); res.Rcode != dns.RcodeSuccess || len(res.Authority) == 0 || res.Upstream != 0 {
		t.Errorf("NODATA from cache: rcode %d authority %v upstream %d", res.Rcode, res.Authority, res.Upstream)
	}
	if q := queriedServers(lab); len(q) != 0 {
		t.Errorf("negative answers from cache still sent %v", q)
	}
}

func TestCacheTTL(t *testing.T) {
	lab := startLab(t)
	clock := newFakeClock()
	r := newResolver(t, lab, func(c *resolver.Config) { c.Now = clock.Now })

	first := mustResolve(t, r, "short.example.org.", dns.TypeA)
	if got := first.Answer[0].Header().Ttl; got != 60 {
		t.Fatalf("first TTL %d, want 60", got)
	}
	clock.Advance(25 * time.Second)
	lab.ResetQueries()
	second := mustResolve(t, r, "short.example.org.", dns.TypeA)
	if got := second.Answer[0].Header().Ttl; got != 35 || second.Upstream != 0 {
		t.Errorf("after 25 s: TTL %d upstream %d, want 35 from the cache", got, second.Upstream)
	}
	if first.Answer[0].Header().Ttl != 60 {
		t.Errorf("the first result changed under the cache")
	}
	clock.Advance(36 * time.Second)
	third := mustResolve(t, r, "short.example.org.", dns.TypeA)
	if third.Upstream != 1 || third.Answer[0].Header().Ttl != 60 {
		t.Errorf("after expiry: upstream %d TTL %d, want 1 query and a fresh 60", third.Upstream, third.Answer[0].Header().Ttl)
	}

	// TTL 0: used for its own answer, never stored.
	for i := 0; i < 2; i++ {
		res := mustResolve(t, r, "zero.example.org.", dns.TypeA)
		if res.Upstream != 1 || len(res.Answer) != 1 {
			t.Errorf("TTL 0 resolution %d: upstream %d answer %v, want 1 query each time", i, res.Upstream, res.Answer)
		}
	}
}

// TestCachePoisoning sends the four classic poisoning attempts and checks
// that none of them takes.
func TestCachePoisoning(t *testing.T) {
	victim := "192.0.2.66"
	tests := []struct {
		name   string
		server string
		mutate func(q, resp *dns.Msg)
		check  func(t *testing.T, r *resolver.Resolver, lab *resolvertest.Lab)
	}{
		{
			name: "out-of-bailiwick A in additional", server: "ns1.example.org.",
			mutate: func(q, resp *dns.Msg) {
				resp.Extra = append(resp.Extra, mustRRT("www.example.net. 3600 IN A "+victim))
			},
		},
		{
			name: "unrelated RRs in the answer section", server: "ns1.example.org.",
			mutate: func(q, resp *dns.Msg) {
				resp.Answer = append(resp.Answer, mustRRT("www.example.net. 3600 IN A "+victim))
			},
		},
		{
			name: "cname target supplied from outside the bailiwick", server: "ns1.example.org.",
			mutate: func(q, resp *dns.Msg) {
				if q.Question[0].Name == "www.example.org." {
					resp.Answer = []dns.RR{mustRRT("www.example.org. 3600 IN CNAME www.example.net."),
						mustRRT("www.example.net. 3600 IN A " + victim)}
				}
			},
		},
		{
			name: "referral replacing cached authoritative NS", server: "ns1.nic.org.",
			mutate: func(q, resp *dns.Msg) {
				if len(resp.Ns) > 0 && resp.Ns[0].Header().Name == "example.org." {
					resp.Ns = []dns.RR{mustRRT("example.org. 86400 IN NS ns.evil.org.")}
					resp.Extra = []dns.RR{mustRRT("ns.evil.org. 86400 IN A 127.53.66.66")}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := startLab(t)
			r := newResolver(t, lab, nil)
			// Learn example.org.'s NS set authoritatively first, as a
			// resolver that has been running would have.
			mustResolve(t, r, "example.org.", dns.TypeNS)
			lab.Server("ns2.example.org.").SetFaults(resolvertest.Faults{Drop: true})
			lab.Server(tt.server).SetFaults(resolvertest.Faults{Mutate: tt.mutate})
			r.Resolve(context.Background(), "www.example.org.", dns.TypeA)
			r.Resolve(context.Background(), "other.example.org.", dns.TypeA)
			lab.Server(tt.server).SetFaults(resolvertest.Faults{})

			res := mustResolve(t, r, "www.example.net.", dns.TypeA)
			for _, rr := range res.Answer {
				if a, ok := rr.(*dns.A); ok && a.A.Equal(net.ParseIP(victim)) {
					t.Errorf("poisoned: www.example.net. answered %s", victim)
				}
			}
			res, err := r.Query(context.Background(), resolver.Request{Name: "example.org.", Type: dns.TypeNS, CacheOnly: true})
			if err != nil {
				t.Fatalf("cached NS: %v", err)
			}
			if diff := cmp.Diff([]string{"example.org. NS ns1.example.org.", "example.org. NS ns2.example.org."}, answerStrings(res.Answer)); diff != "" {
				t.Errorf("cached NS set (-want +got):\n%s", diff)
			}
		})
	}
}

func mustRRT(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

func TestCoalescing(t *testing.T) {
	lab := startLab(t)
	lab.Server("ns1.example.org.").SetFaults(resolvertest.Faults{Latency: 100 * time.Millisecond})
	lab.Server("ns2.example.org.").SetFaults(resolvertest.Faults{Latency: 100 * time.Millisecond})
	r := newResolver(t, lab, nil)
	mustResolve(t, r, "example.org.", dns.TypeNS) // warm the delegation
	lab.ResetQueries()
	const clients = 20
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Resolve(context.Background(), "mail.example.org.", dns.TypeA); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if q := lab.Queries(); len(q) != 1 {
		t.Errorf("%d concurrent identical questions sent %d upstream queries, want 1: %v", clients, len(q), queriedServers(lab))
	}
}

func TestServeStale(t *testing.T) {
	lab := startLab(t)
	clock := newFakeClock()
	r := newResolver(t, lab, func(c *resolver.Config) {
		c.Now = clock.Now
		c.CacheConfig.StaleMax = time.Hour
	})
	mustResolve(t, r, "short.example.org.", dns.TypeA)
	clock.Advance(2 * time.Minute)
	for _, s := range []string{"ns1.example.org.", "ns2.example.org."} {
		lab.Server(s).SetFaults(resolvertest.Faults{Drop: true})
	}
	res := mustResolve(t, r, "short.example.org.", dns.TypeA)
	if !res.Stale || res.Answer[0].Header().Ttl != cache.StaleTTL {
		t.Errorf("stale %v TTL %d, want a stale answer with TTL %d", res.Stale, res.Answer[0].Header().Ttl, cache.StaleTTL)
	}
	clock.Advance(2 * time.Hour)
	if _, err := r.Resolve(context.Background(), "short.example.org.", dns.TypeA); err == nil {
		t.Errorf("data older than StaleMax was served")
	}
}

func TestFailureCache(t *testing.T) {
	lab := startLab(t)
	clock := newFakeClock()
	r := newResolver(t, lab, func(c *resolver.Config) {
		c.Now = clock.Now
		c.QueryTimeout = 50 * time.Millisecond
	})
	_, first := r.Resolve(context.Background(), "www.dead.org.", dns.TypeA)
	var ferr *resolver.Error
	if !errors.Is(first, resolver.ErrNoServers) || !errors.As(first, &ferr) || ferr.RetryAfter != cache.DefaultFailureTTL {
		t.Fatalf("first: %v, want ErrNoServers kept for %v", first, cache.DefaultFailureTTL)
	}
	lab.ResetQueries()
	_, err := r.Resolve(context.Background(), "www.dead.org.", dns.TypeA)
	var rerr *resolver.Error
	// The cached failure keeps the original reason: its sentinel and its
	// EDE code (No Reachable Authority).
	if !errors.As(err, &rerr) || !errors.Is(err, resolver.ErrCachedFailure) || !errors.Is(err, resolver.ErrNoServers) ||
		rerr.EDE != dns.ExtendedErrorCodeNoReachableAuthority {
		t.Fatalf("second: %v, want a cached failure keeping ErrNoServers and EDE No Reachable Authority", err)
	}
	if rerr.RetryAfter <= 0 || rerr.RetryAfter > cache.DefaultFailureTTL {
		t.Errorf("second: RetryAfter %v, want the time left of %v", rerr.RetryAfter, cache.DefaultFailureTTL)
	}
	if q := lab.Queries(); len(q) != 0 {
		t.Errorf("a cached failure still sent %d queries", len(q))
	}
	clock.Advance(time.Minute)
	lab.ResetQueries()
	r.Resolve(context.Background(), "www.dead.org.", dns.TypeA)
	if q := lab.Queries(); len(q) == 0 {
		t.Errorf("after the failure window nothing was re-asked")
	}
}

func TestPrefetch(t *testing.T) {
	lab := startLab(t)
	clock := newFakeClock()
	r := newResolver(t, lab, func(c *resolver.Config) {
		c.Now = clock.Now
		c.Prefetch = true
		c.CacheConfig.PrefetchMinHits = 2
	})
	for i := 0; i < 3; i++ {
		mustResolve(t, r, "short.example.org.", dns.TypeA)
	}
	clock.Advance(55 * time.Second) // last tenth of 60 s
	lab.ResetQueries()
	res := mustResolve(t, r, "short.example.org.", dns.TypeA)
	if res.Upstream != 0 {
		t.Errorf("the hit itself went upstream")
	}
	// The prefetch runs in the background; Close would cancel it, so
	// wait for its query to reach the lab first. Bounded: it is sent at
	// once; the deadline only keeps a missing prefetch from hanging.
	for deadline := time.Now().Add(10 * time.Second); len(lab.Queries()) == 0 && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	r.Close() // cancels and waits for background prefetches
	if q := queriedServers(lab); len(q) != 1 {
		t.Errorf("prefetch sent %v, want one query", q)
	}
}

func TestInfraSelection(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	res, err := r.Query(context.Background(), resolver.Request{Name: "www.example.org.", Type: dns.TypeA, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if why := res.Trace.Steps[1].Why; why == "" {
		t.Errorf("first query has no reason")
	}
	snap := r.InfraSnapshot()
	// One record per server and zone asked (root, org, example.org), and
	// one address-wide record per server (Zone ""), which Select uses for
	// zones the server has not answered for yet.
	var zoned, shared []string
	for _, e := range snap {
		if e.Zone == "" {
			shared = append(shared, e.Addr.String())
		} else {
			zoned = append(zoned, e.Addr.String())
		}
	}
	if len(zoned) != 3 {
		t.Fatalf("infra table has %d per-zone entries, want 3 (root, org, example.org server): %+v", len(zoned), snap)
	}
	slices.Sort(zoned)
	slices.Sort(shared)
	if diff := cmp.Diff(slices.Compact(zoned), shared); diff != "" {
		t.Errorf("address-wide records differ from the servers asked (-asked +address-wide):\n%s", diff)
	}
	for _, e := range snap {
		if e.SRTT <= 0 || e.Timeouts != 0 {
			t.Errorf("%s %s: srtt %v timeouts %d", e.Addr, e.Zone, e.SRTT, e.Timeouts)
		}
	}
	res, err = r.Query(context.Background(), resolver.Request{Name: "mail.example.org.", Type: dns.TypeA, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Trace.Steps {
		if s.Kind == resolver.EventQuery && s.Why == "" {
			t.Errorf("query step without a reason: %+v", s.Event)
		}
	}
}

func TestRefresh(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	mustResolve(t, r, "www.example.org.", dns.TypeA)
	lab.ResetQueries()
	res, err := r.Refresh(context.Background(), resolver.Request{Name: "www.example.org", Type: dns.TypeA})
	if err != nil {
		t.Fatal(err)
	}
	if got := queriedServers(lab); len(got) != 1 || res.Upstream != 1 {
		t.Errorf("refresh sent %v (upstream %d), want one query straight to example.org.'s servers", got, res.Upstream)
	}
}

func TestEventKindText(t *testing.T) {
	for k := resolver.EventQuery; k <= resolver.EventValidate; k++ {
		b, _ := k.MarshalText()
		var back resolver.EventKind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%v: round trip gave %v, %v", k, back, err)
		}
	}
	var k resolver.EventKind
	if err := k.UnmarshalText([]byte("nonsense")); err == nil {
		t.Errorf("unknown kind accepted")
	}
}
