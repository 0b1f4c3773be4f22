package resolver_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// memShared is an in-memory cache.Shared, a stand-in for Redis that copies
// what goes in and out as a real store's encoding would.
type memShared struct {
	mu      sync.Mutex
	m       map[cache.SharedKey]cache.SharedEntry
	gets    int
	hits    int
	disable bool // Get misses, Put drops: Redis down
}

func newMemShared() *memShared { return &memShared{m: map[cache.SharedKey]cache.SharedEntry{}} }

func copyEntry(e cache.SharedEntry) cache.SharedEntry {
	cp := func(rrs []dns.RR) []dns.RR {
		var out []dns.RR
		for _, rr := range rrs {
			out = append(out, dns.Copy(rr))
		}
		return out
	}
	e.Answer, e.Sigs, e.Authority, e.Proof = cp(e.Answer), cp(e.Sigs), cp(e.Authority), cp(e.Proof)
	return e
}

func (s *memShared) Get(_ context.Context, k cache.SharedKey) (cache.SharedEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	e, ok := s.m[k]
	if !ok || s.disable {
		return cache.SharedEntry{}, false
	}
	s.hits++
	return copyEntry(e), true
}

func (s *memShared) Put(k cache.SharedKey, e cache.SharedEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.disable {
		s.m[k] = copyEntry(e)
	}
}

func (s *memShared) entry(name string, qtype uint16) (cache.SharedEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[cache.SharedKey{Name: name, Type: qtype, Class: dns.ClassINET}]
	return e, ok
}

func (s *memShared) counts() (gets, hits int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets, s.hits
}

// answerText is a result's rcode and records without TTLs, to compare
// what two resolvers answered.
func answerText(res *resolver.Result) []string {
	out := []string{dns.RcodeToString[res.Rcode]}
	for _, rrs := range [][]dns.RR{res.Answer, res.Authority} {
		for _, rr := range rrs {
			cp := dns.Copy(rr)
			cp.Header().Ttl = 0
			out = append(out, cp.String())
		}
	}
	return out
}

// TestSharedCacheSecondResolver checks the point of a shared cache: what
// resolver A resolved, resolver B (another instance, its own local cache)
// answers identically without one upstream query, marked in the trace;
// B's next lookup is then local.
func TestSharedCacheSecondResolver(t *testing.T) {
	lab := startLab(t)
	shared := newMemShared()
	a := newResolver(t, lab, func(c *resolver.Config) { c.Shared = shared })
	b := newResolver(t, lab, func(c *resolver.Config) { c.Shared = shared })
	questions := []struct {
		name  string
		qname string
		qtype uint16
	}{
		{"answer", "www.example.org.", dns.TypeA},
		{"cname across zones", "alias.example.org.", dns.TypeA},
		{"cname chain back", "c1.example.org.", dns.TypeA},
		{"dname", "www.old.example.org.", dns.TypeA},
		{"nxdomain", "nope.example.org.", dns.TypeA},
		{"nodata", "mail.example.org.", dns.TypeAAAA},
		{"glueless zone", "www.glueless.org.", dns.TypeA},
	}
	for _, q := range questions {
		t.Run(q.name, func(t *testing.T) {
			resA, err := a.Resolve(context.Background(), q.qname, q.qtype)
			if err != nil {
				t.Fatalf("A: %v", err)
			}
			if resA.Upstream == 0 {
				t.Fatalf("A answered %s from nothing", q.qname)
			}
			lab.ResetQueries()
			resB, err := b.Query(context.Background(), resolver.Request{Name: q.qname, Type: q.qtype, Trace: true})
			if err != nil {
				t.Fatalf("B: %v", err)
			}
			if resB.Upstream != 0 || len(lab.Queries()) != 0 {
				t.Errorf("B sent %d upstream queries (%v), want 0", resB.Upstream, queriedServers(lab))
			}
			if diff := cmp.Diff(answerText(resA), answerText(resB)); diff != "" {
				t.Errorf("B's answer differs from A's (-A +B):\n%s", diff)
			}
			marked := false
			for _, e := range resB.Trace.Steps {
				marked = marked || e.Kind == resolver.EventCache && strings.HasPrefix(e.Detail, "shared hit: ")
			}
			if !marked {
				t.Errorf("B's trace has no shared hit")
			}
			gets, _ := shared.counts()
			if _, err := b.Resolve(context.Background(), q.qname, q.qtype); err != nil {
				t.Fatalf("B again: %v", err)
			}
			if g, _ := shared.counts(); g != gets {
				t.Errorf("B asked the shared cache again (%d lookups, was %d): the hit did not fill its local cache", g, gets)
			}
		})
	}
}

// TestSharedCacheWhatIsStored checks what goes to the shared cache: the
// TTL after the local clamps, an absolute expiry by the resolver's clock;
// nothing for a CD question, nothing bogus; secure data marked secure.
func TestSharedCacheWhatIsStored(t *testing.T) {
	t.Run("ttl clamps and expiry", func(t *testing.T) {
		lab := startLab(t)
		shared := newMemShared()
		clock := newFakeClock()
		r := newResolver(t, lab, func(c *resolver.Config) {
			c.Shared, c.Now = shared, clock.Now
			c.CacheConfig.MaxTTL = 100 * time.Second
			c.CacheConfig.MaxNegTTL = 20 * time.Second
		})
		for _, q := range []struct {
			qname string
			qtype uint16
			want  time.Duration
		}{
			{"www.example.org.", dns.TypeA, 100 * time.Second}, // 3600 clamped
			{"short.example.org.", dns.TypeA, 60 * time.Second},
			{"nope.example.org.", dns.TypeA, 20 * time.Second}, // SOA MINIMUM 300 clamped
		} {
			mustResolveAny(t, r, q.qname, q.qtype)
			e, ok := shared.entry(q.qname, q.qtype)
			if !ok {
				t.Errorf("%s not stored", q.qname)
				continue
			}
			if got := e.Expires.Sub(clock.Now()); got != q.want {
				t.Errorf("%s expires in %v, want %v", q.qname, got, q.want)
			}
		}
		mustResolveAny(t, r, "zero.example.org.", dns.TypeA)
		if _, ok := shared.entry("zero.example.org.", dns.TypeA); ok {
			t.Errorf("TTL 0 data stored")
		}
	})
	t.Run("expired entry is not used", func(t *testing.T) {
		lab := startLab(t)
		shared := newMemShared()
		clock := newFakeClock()
		a := newResolver(t, lab, func(c *resolver.Config) { c.Shared, c.Now = shared, clock.Now })
		b := newResolver(t, lab, func(c *resolver.Config) { c.Shared, c.Now = shared, clock.Now })
		mustResolve(t, a, "short.example.org.", dns.TypeA)
		clock.Advance(61 * time.Second)
		lab.ResetQueries()
		if res := mustResolve(t, b, "short.example.org.", dns.TypeA); res.Upstream == 0 {
			t.Errorf("B answered from an expired shared entry")
		}
	})
	t.Run("entry under the wrong key is not used", func(t *testing.T) {
		lab := startLab(t)
		shared := newMemShared()
		a := newResolver(t, lab, func(c *resolver.Config) { c.Shared = shared })
		b := newResolver(t, lab, func(c *resolver.Config) { c.Shared = shared })
		mustResolve(t, a, "www.example.org.", dns.TypeA)
		e, _ := shared.entry("www.example.org.", dns.TypeA)
		shared.Put(cache.SharedKey{Name: "mail.example.org.", Type: dns.TypeA, Class: dns.ClassINET}, e)
		res := mustResolve(t, b, "mail.example.org.", dns.TypeA)
		if res.Upstream == 0 || !strings.Contains(res.Answer[0].String(), "192.0.2.11") {
			t.Errorf("B served www's record for mail: %v", res.Answer)
		}
	})
	t.Run("secure, not CD, not bogus", func(t *testing.T) {
		lab := startSim(t)
		anchors := labresolver.TrustAnchors(t, lab)
		shared := newMemShared()
		a := newResolver(t, lab, func(c *resolver.Config) { c.Shared, c.TrustAnchors = shared, anchors })
		b := newResolver(t, lab, func(c *resolver.Config) { c.Shared, c.TrustAnchors = shared, anchors })
		ctx := context.Background()
		for _, name := range []string{"www.dnssec-test.org.", "nope.dnssec-test.org.", "anything.wild.dnssec-test.org.", "www.nsec3.dnssec-test.org.", "nope.example.org.", "www.example.org."} {
			resA, err := a.Query(ctx, resolver.Request{Name: name, Type: dns.TypeA, DO: true})
			if err != nil {
				t.Fatal(err)
			}
			if e, ok := shared.entry(name, dns.TypeA); !ok || e.Security != cache.SecuritySecure {
				t.Errorf("%s: secure answer stored as %v (ok %t), want secure", name, e.Security, ok)
			}
			lab.ResetQueries()
			res, err := b.Query(ctx, resolver.Request{Name: name, Type: dns.TypeA, DO: true})
			if err != nil || res.Security != dnssec.Secure || res.Upstream != 0 {
				t.Errorf("B %s: %v, security %v, %d upstream; want Secure from the shared cache", name, err, res.Security, res.Upstream)
				continue
			}
			if diff := cmp.Diff(answerText(resA), answerText(res)); diff != "" {
				t.Errorf("B's answer for %s differs from A's (-A +B):\n%s", name, diff)
			}
		}
		if e, _ := shared.entry("www.dnssec-test.org.", dns.TypeA); len(e.Sigs) == 0 {
			t.Errorf("secure answer stored without its RRSIGs")
		}
		if _, err := a.Query(ctx, resolver.Request{Name: "www.insecure.dnssec-test.org.", Type: dns.TypeA, CD: true}); err != nil {
			t.Fatal(err)
		}
		if _, ok := shared.entry("www.insecure.dnssec-test.org.", dns.TypeA); ok {
			t.Errorf("an answer to a CD question was stored")
		}
		for _, name := range []string{"www.expired.dnssec-test.org.", "www.bad-sig.dnssec-test.org."} {
			if _, err := a.Query(ctx, resolver.Request{Name: name, Type: dns.TypeA}); err == nil {
				t.Errorf("%s validated", name)
			}
			if _, err := a.Query(ctx, resolver.Request{Name: name, Type: dns.TypeA, CD: true}); err != nil {
				t.Errorf("%s with CD: %v", name, err)
			}
			if e, ok := shared.entry(name, dns.TypeA); ok {
				t.Errorf("bogus %s stored as %v", name, e.Security)
			}
		}
	})
	t.Run("shared cache down", func(t *testing.T) {
		lab := startLab(t)
		shared := newMemShared()
		shared.disable = true
		r := newResolver(t, lab, func(c *resolver.Config) { c.Shared = shared })
		if res := mustResolve(t, r, "www.example.org.", dns.TypeA); len(res.Answer) == 0 {
			t.Errorf("no answer with the shared cache down")
		}
	})
}

func mustResolveAny(t *testing.T, r *resolver.Resolver, name string, qtype uint16) {
	t.Helper()
	if _, err := r.Resolve(context.Background(), name, qtype); err != nil {
		t.Fatalf("Resolve(%s): %v", name, err)
	}
}

// TestSharedCacheWildcard checks a wildcard answer (RFC 4035 §3.1.3.3)
// taken from the shared cache: it is copied into the local cache with its
// NSEC/NSEC3 proof attached to the expanded RRset, so the next, local
// answer carries the proof to a DO client and stays Secure; its TTLs
// never exceed what is left of the shared entry, and the local copy dies
// with it.
func TestSharedCacheWildcard(t *testing.T) {
	simLab := func(t *testing.T) (*resolvertest.Lab, *dnssec.Anchors) {
		lab := startSim(t)
		anchors := labresolver.TrustAnchors(t, lab)
		return lab, anchors
	}
	for _, tc := range []struct {
		name  string
		lab   func(*testing.T) (*resolvertest.Lab, *dnssec.Anchors)
		qname string
		proof uint16
	}{
		{"NSEC", simLab, "anything.wild.dnssec-test.org.", dns.TypeNSEC},
		{"NSEC3, wildcard at the apex", startSharedServerLab, "first.child.org.", dns.TypeNSEC3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab, anchors := tc.lab(t)
			shared := newMemShared()
			// A clock of our own, started now: the lab's signatures are
			// valid from an hour ago.
			clock := &fakeClock{t: time.Now()}
			mod := func(c *resolver.Config) { c.Shared, c.TrustAnchors, c.Now = shared, anchors, clock.Now }
			a, b := newResolver(t, lab, mod), newResolver(t, lab, mod)
			ask := func(r *resolver.Resolver) *resolver.Result {
				t.Helper()
				res, err := r.Query(context.Background(), resolver.Request{Name: tc.qname, Type: dns.TypeA, DO: true})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			resA := ask(a)
			e, ok := shared.entry(tc.qname, dns.TypeA)
			if !ok || !e.Wildcard || resA.Security != dnssec.Secure {
				t.Fatalf("A: security %v; shared entry %t, wildcard %t: want a Secure wildcard answer shared", resA.Security, ok, e.Wildcard)
			}
			if !hasType(resA.Authority, tc.proof) {
				t.Fatalf("A's answer has no %s proof: %v", dns.TypeToString[tc.proof], resA.Authority)
			}
			lab.ResetQueries()
			if res := ask(b); res.Upstream != 0 || res.Security != dnssec.Secure {
				t.Fatalf("B from the shared cache: %d upstream, %v", res.Upstream, res.Security)
			}
			gets, _ := shared.counts()
			clock.Advance(10 * time.Second)
			res := ask(b)
			if g, _ := shared.counts(); g != gets || res.Upstream != 0 {
				t.Fatalf("B's second answer: %d shared lookups more, %d upstream; want it local", g-gets, res.Upstream)
			}
			if diff := cmp.Diff(answerText(resA), answerText(res)); diff != "" {
				t.Errorf("B's local answer differs from A's (-A +B):\n%s", diff)
			}
			if res.Security != dnssec.Secure {
				t.Errorf("B's local answer is %v, want Secure", res.Security)
			}
			left := uint32(e.Expires.Sub(clock.Now()) / time.Second)
			for _, rr := range append(append([]dns.RR{}, res.Answer...), res.Authority...) {
				if rr.Header().Ttl > left {
					t.Errorf("TTL %d above the %d s the shared entry has left: %v", rr.Header().Ttl, left, rr)
				}
			}
			clock.Advance(e.Expires.Sub(clock.Now()) + time.Second)
			if res := ask(b); res.Upstream == 0 {
				t.Errorf("B answered from a local copy that outlived the shared entry")
			}
		})
	}
}

func hasType(rrs []dns.RR, t uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}
