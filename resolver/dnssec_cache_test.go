package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// startSharedServerLab starts a signed hierarchy in which child.org. is
// served by org.'s own server, so without QNAME minimisation no referral
// ever shows the cut: answers for child.org come straight back
// authoritative. child.org is signed with NSEC3 and has a wildcard at its
// apex.
func startSharedServerLab(t *testing.T) (*resolvertest.Lab, *dnssec.Anchors) {
	t.Helper()
	return startSharedServerLabWith(t, resolvertest.Config{})
}

// startSharedServerLabWith is startSharedServerLab with the lab's
// configuration (an OnQuery hook).
func startSharedServerLabWith(t *testing.T, cfg resolvertest.Config) (*resolvertest.Lab, *dnssec.Anchors) {
	t.Helper()
	zones := map[string]string{
		".": `
$TTL 86400
@ IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
a.root.lab. IN A 127.53.0.1
org. IN NS ns1.nic.org.
ns1.nic.org. IN A 127.53.1.1
`,
		"org.": `
$TTL 86400
@ IN SOA ns1.nic.org. hostmaster.nic.org. 1 1800 900 604800 3600
@ IN NS ns1.nic.org.
ns1.nic IN A 127.53.1.1
child IN NS ns1.nic.org.
`,
		"child.org.": `
$TTL 3600
@ IN SOA ns1.nic.org. hostmaster.nic.org. 1 1800 900 604800 3600
@ IN NS ns1.nic.org.
@ IN TXT "apex"
www IN A 192.0.2.1
* IN A 192.0.2.99
`,
	}
	lab := resolvertest.Hierarchy{
		Zones:  zones,
		Signed: map[string]resolvertest.SignOptions{".": {}, "org.": {}, "child.org.": {NSEC3: true}},
		Servers: []resolvertest.Host{
			{Name: "a.root.lab.", Addr: "127.53.0.1", Zones: []string{"."}},
			{Name: "ns1.nic.org.", Addr: "127.53.1.1", Zones: []string{"org.", "child.org."}},
		},
	}.Start(t, cfg)
	return lab, labresolver.TrustAnchors(t, lab)
}

// TestAggressiveUnseenCut checks that validated NSEC3 records of a zone
// whose cut was never seen in a referral still answer from memory: the
// zone that signed them, not the deepest cached cut (org.), is the one
// searched.
func TestAggressiveUnseenCut(t *testing.T) {
	lab, anchors := startSharedServerLab(t)
	r := newResolver(t, lab, func(c *resolver.Config) {
		c.TrustAnchors = anchors
		c.DisableQNAMEMinimisation = true
	})
	ask := func(t *testing.T, name string, qtype uint16) *resolver.Result {
		t.Helper()
		res, err := r.Query(context.Background(), resolver.Request{Name: name, Type: qtype, DO: true})
		if err != nil {
			t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
		}
		if res.Security != dnssec.Secure {
			t.Errorf("%s %s: security %v, want Secure", name, dns.TypeToString[qtype], res.Security)
		}
		return res
	}
	t.Run("NODATA at the apex, then another type", func(t *testing.T) {
		if res := ask(t, "child.org.", dns.TypeMX); res.Upstream == 0 || len(res.Answer) != 0 {
			t.Fatalf("first NODATA: %d upstream, answer %v; want upstream and no answer", res.Upstream, res.Answer)
		}
		res := ask(t, "child.org.", dns.TypeSRV)
		if res.Upstream != 0 || res.Rcode != dns.RcodeSuccess || len(res.Answer) != 0 {
			t.Errorf("second NODATA: %d upstream, rcode %s, answer %v; want 0 upstream, NOERROR, no answer",
				res.Upstream, dns.RcodeToString[res.Rcode], res.Answer)
		}
	})
	t.Run("wildcard at the apex", func(t *testing.T) {
		ask(t, "first.child.org.", dns.TypeA) // learns the wildcard and one NSEC3 range
		checkWildcardHosts(t, "child.org.", func(name string, qtype uint16) *resolver.Result { return ask(t, name, qtype) })
	})
}

// TestWildcardAuthorityNS checks what a DO client sees in the authority
// section of a wildcard answer: the proof always, and the zone's signed
// NS set only in the fresh reply that carried it (Result.FreshOnly), not
// in later answers from the cache; a forged NS set is dropped without
// making the answer bogus.
func TestWildcardAuthorityNS(t *testing.T) {
	lab, anchors := startSharedServerLab(t)
	// The zone's signed NS RRset, as the server itself gives it.
	q := new(dns.Msg)
	q.SetQuestion("child.org.", dns.TypeNS)
	q.SetEdns0(1232, true)
	in, _, err := (&dns.Client{}).Exchange(q, lab.Server("ns1.nic.org.").AddrPort().String())
	if err != nil {
		t.Fatal(err)
	}
	signedNS := in.Answer
	if len(signedNS) != 2 {
		t.Fatalf("child.org NS with DO: %v, want the NS and its RRSIG", in.Answer)
	}
	forgedNS := []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: "child.org.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 3600}, Ns: "evil.example."},
		dns.Copy(signedNS[1])}
	tests := []struct {
		name      string
		add       []dns.RR
		wantFresh bool
	}{
		{"signed NS passed on", signedNS, true},
		{"forged NS dropped", forgedNS, false},
		{"no NS sent", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lab.Server("ns1.nic.org.").SetFaults(resolvertest.Faults{Mutate: func(q, resp *dns.Msg) {
				if len(resp.Answer) > 0 && q.Question[0].Qtype == dns.TypeA {
					for _, rr := range tc.add {
						resp.Ns = append(resp.Ns, dns.Copy(rr))
					}
				}
			}})
			t.Cleanup(func() { lab.Server("ns1.nic.org.").SetFaults(resolvertest.Faults{}) })
			r := newResolver(t, lab, func(c *resolver.Config) { c.TrustAnchors = anchors })
			for i, wantNS := range []bool{tc.wantFresh, false} {
				res, err := r.Query(context.Background(), resolver.Request{Name: "wild.child.org.", Type: dns.TypeA, DO: true})
				if err != nil {
					t.Fatal(err)
				}
				var ns, nsec3 int
				for _, rr := range res.Authority {
					switch rr.Header().Rrtype {
					case dns.TypeNS:
						ns++
					case dns.TypeNSEC3:
						nsec3++
					}
				}
				if res.Security != dnssec.Secure || nsec3 == 0 {
					t.Errorf("query %d: security %v, %d NSEC3; want Secure with the proof", i, res.Security, nsec3)
				}
				if (ns > 0) != wantNS || res.FreshOnly != wantNS {
					t.Errorf("query %d (upstream %d): %d NS in authority, FreshOnly %v; want NS and FreshOnly %v", i, res.Upstream, ns, res.FreshOnly, wantNS)
				}
			}
		})
	}
}

// TestInsecureDelegationRemembered checks that once a zone is proven
// insecure (its parent's signed NSEC denies a DS), later requests for
// other names in it send one query each, the question itself: no DS
// lookup, whether the proof came with a referral (QNAME minimisation on)
// or from a DS query.
func TestInsecureDelegationRemembered(t *testing.T) {
	lab := startSim(t)
	anchors := labresolver.TrustAnchors(t, lab)
	for _, noQmin := range []bool{false, true} {
		t.Run(map[bool]string{false: "qmin", true: "no qmin"}[noQmin], func(t *testing.T) {
			r := newResolver(t, lab, func(c *resolver.Config) {
				c.TrustAnchors = anchors
				c.DisableQNAMEMinimisation = noQmin
			})
			for i, name := range []string{"www.acme.test.", "api.acme.test.", "cdn.acme.test.", "shop.acme.test."} {
				lab.ResetQueries()
				res, err := r.Query(context.Background(), resolver.Request{Name: name, Type: dns.TypeA, DO: true})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if res.Security != dnssec.Insecure {
					t.Errorf("%s: security %v, want Insecure", name, res.Security)
				}
				var sent []string
				for _, q := range lab.Queries() {
					sent = append(sent, q.Name+" "+dns.TypeToString[q.Type])
				}
				if i > 0 && len(sent) != 1 {
					t.Errorf("%s: sent %v, want only the question", name, sent)
				}
			}
		})
	}
}

// answeredExchanges wraps the lab's exchanger and counts, per question
// (lower-case name and type), the exchanges that brought back a reply. An
// exchange that timed out and was retried counts once, when it is
// answered: the counts measure the fetches the resolver made, not the
// attempts a loaded machine forced on it, so the tests that read them do
// not depend on how fast the lab answers.
type answeredExchanges struct {
	mu sync.Mutex
	n  map[string]int // guarded by mu
}

func (a *answeredExchanges) wrap(x resolver.Exchanger) resolver.Exchanger {
	return resolver.ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
		resp, err := x.Exchange(ctx, q, network, server)
		if err == nil && resp != nil && len(q.Question) == 1 {
			a.mu.Lock()
			a.n[answeredKey(q.Question[0].Name, q.Question[0].Qtype)]++
			a.mu.Unlock()
		}
		return resp, err
	})
}

// count returns how many exchanges for name and qtype were answered.
func (a *answeredExchanges) count(name string, qtype uint16) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[answeredKey(name, qtype)]
}

// counts returns how many exchanges were answered for each name of qtype.
func (a *answeredExchanges) counts(qtype uint16) map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	suffix := "/" + dns.TypeToString[qtype]
	out := map[string]int{}
	for k, n := range a.n {
		if name, ok := strings.CutSuffix(k, suffix); ok {
			out[name] = n
		}
	}
	return out
}

func answeredKey(name string, qtype uint16) string {
	return dns.CanonicalName(name) + "/" + dns.TypeToString[qtype]
}

// newCountingResolver is newResolver with trust anchors and an
// answeredExchanges counting what its exchanger brought back. The query
// timeout is the default's, not the lab's 300 ms: under -race on a loaded
// machine a lab reply can take longer, and a build that timed out on
// every server would fail the request rather than test the sharing.
func newCountingResolver(t *testing.T, lab *resolvertest.Lab, anchors *dnssec.Anchors) (*resolver.Resolver, *answeredExchanges) {
	t.Helper()
	a := &answeredExchanges{n: map[string]int{}}
	r := newResolver(t, lab, func(c *resolver.Config) {
		c.TrustAnchors = anchors
		c.Exchanger = a.wrap(c.Exchanger)
		c.QueryTimeout = 0
	})
	return r, a
}

// TestZoneKeysFetchedOnce checks the cost of keys: concurrent cold
// requests for names of one signed zone share one DNSKEY fetch per zone of
// the chain, and a zone whose keys are bogus is not asked for them again
// by later requests while the failure is cached (RFC 9520). Fetches are
// counted as answered exchanges (answeredExchanges), so a timed-out
// attempt that the resolver retried is not taken for a second fetch.
func TestZoneKeysFetchedOnce(t *testing.T) {
	lab := startSim(t)
	anchors := labresolver.TrustAnchors(t, lab)
	t.Run("concurrent requests share the build", func(t *testing.T) {
		r, fetched := newCountingResolver(t, lab, anchors)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("host%d.wild.dnssec-test.org.", i)
				res, err := r.Query(context.Background(), resolver.Request{Name: name, Type: dns.TypeA, DO: true})
				if err != nil || res.Security != dnssec.Secure {
					t.Errorf("%s: %v, security %v; want Secure", name, err, res.Security)
				}
			}()
		}
		wg.Wait()
		got := fetched.counts(dns.TypeDNSKEY)
		want := map[string]int{".": 1, "org.": 1, "dnssec-test.org.": 1}
		for zone := range got {
			if _, ok := want[zone]; !ok {
				want[zone] = 1 // a zone of the chain the test does not name: once too
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DNSKEY fetches by 20 concurrent requests, per zone (-want +got):\n%s", diff)
		}
	})
	t.Run("bogus keys are remembered", func(t *testing.T) {
		r, fetched := newCountingResolver(t, lab, anchors)
		for i, name := range []string{"www.expired.dnssec-test.org.", "a.wild.expired.dnssec-test.org.", "nope.expired.dnssec-test.org."} {
			_, err := r.Query(context.Background(), resolver.Request{Name: name, Type: dns.TypeA, DO: true})
			var rerr *resolver.Error
			if !errors.Is(err, resolver.ErrBogus) || !errors.As(err, &rerr) || rerr.EDE != dns.ExtendedErrorCodeSignatureExpired {
				t.Errorf("%s: %v, want Bogus with EDE Signature Expired", name, err)
			}
			// The first request may try the zone's other server once
			// (bogus retries); later ones fetch nothing.
			if n := fetched.count("expired.dnssec-test.org.", dns.TypeDNSKEY); i > 0 && n > 2 {
				t.Errorf("after %s: DNSKEY of the bogus zone fetched %d times", name, n)
			}
			// The keys are the problem, not one server's copy of the
			// answer: the question is not retried at other servers.
			if asked := fetched.count(name, dns.TypeA); asked != 1 {
				t.Errorf("%s A answered %d times, want once", name, asked)
			}
		}
		// Checking disabled: the data, although its failure is cached.
		res, err := r.Query(context.Background(), resolver.Request{Name: "www.expired.dnssec-test.org.", Type: dns.TypeA, DO: true, CD: true})
		if err != nil || len(res.Answer) == 0 {
			t.Errorf("CD after a cached bogus failure: %v, answer %v; want the data", err, res)
		}
	})
}

// TestKeyTagSignal checks RFC 8145 §5 signalling: off by default (no
// query the user did not ask for); when on, one "_ta-<tag>." NULL query
// for the root anchor's key tag when the root's keys are validated.
func TestKeyTagSignal(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("KeyTagSignal=%v", on), func(t *testing.T) {
			// The signal is background work, which Close cancels: wait
			// until the lab received it (10 s bounds a hang) first.
			signalled := make(chan struct{}, 1)
			lab, anchors := startSharedServerLabWith(t, resolvertest.Config{OnQuery: func(q resolvertest.Query) {
				if strings.HasPrefix(q.Name, "_ta-") {
					select {
					case signalled <- struct{}{}:
					default:
					}
				}
			}})
			ds, _ := anchors.Lookup(".")
			if len(ds) != 1 {
				t.Fatalf("root anchor: %v", ds)
			}
			want := fmt.Sprintf("_ta-%04x.", ds[0].KeyTag)
			r := newResolver(t, lab, func(c *resolver.Config) {
				c.TrustAnchors = anchors
				c.KeyTagSignal = on
			})
			if _, err := r.Query(context.Background(), resolver.Request{Name: "www.child.org.", Type: dns.TypeA, DO: true}); err != nil {
				t.Fatal(err)
			}
			r.Query(context.Background(), resolver.Request{Name: "child.org.", Type: dns.TypeTXT, DO: true})
			if on {
				select {
				case <-signalled:
				case <-time.After(10 * time.Second):
				}
			}
			r.Close()
			var signals []string
			for _, q := range lab.Queries() {
				if strings.HasPrefix(q.Name, "_ta-") {
					signals = append(signals, q.Name+" "+dns.TypeToString[q.Type]+" to "+q.Server)
				}
			}
			var wantSignals []string
			if on {
				wantSignals = []string{want + " NULL to a.root.lab."}
			}
			if diff := cmp.Diff(wantSignals, signals); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRefreshTrustAnchors checks the RFC 5011 active refresh against a
// signed lab: a trust point seeded with the root's DS learns the root's
// KSK (Valid, state saved), answers validate, and the next refresh is due
// per RFC 5011 §2.3. A trust point left with no trusted key makes the
// zone Bogus, never unvalidated.
func TestRefreshTrustAnchors(t *testing.T) {
	lab, anchors := startSharedServerLab(t)
	seed, _ := anchors.Lookup(".")
	var saved []string
	at := dnssec.NewAutoTrust([]*dnssec.TrustPoint{{Zone: ".", Seed: seed}}, func(tps []*dnssec.TrustPoint) error {
		var b strings.Builder
		if err := dnssec.WriteTrustPoints(&b, tps); err != nil {
			return err
		}
		saved = append(saved, b.String())
		return nil
	})
	r := newResolver(t, lab, func(c *resolver.Config) { c.AutoTrust = at })
	if _, err := r.RefreshTrustAnchors(context.Background()); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	next, err := r.RefreshTrustAnchors(context.Background())
	if err != nil || next < time.Hour || next > 15*24*time.Hour {
		t.Errorf("second refresh: next in %v, err %v; want 1 h to 15 days", next, err)
	}
	points := at.Points()
	if len(points) != 1 || len(points[0].Seed) != 0 || len(points[0].Keys) != 1 || points[0].Keys[0].State != dnssec.KeyValid ||
		points[0].Keys[0].Key.KeyTag() != seed[0].KeyTag {
		t.Errorf("trust point after refresh: %+v, want the seeded KSK Valid", points)
	}
	if len(saved) != 1 || !strings.Contains(saved[0], "state=VALID") {
		t.Errorf("saved states %q, want one save with the key VALID", saved)
	}
	res, err := r.Query(context.Background(), resolver.Request{Name: "www.child.org.", Type: dns.TypeA, DO: true})
	if err != nil || res.Security != dnssec.Secure {
		t.Errorf("with the learned key: %v, security %v; want Secure", err, res)
	}

	t.Run("no trusted key left", func(t *testing.T) {
		nothing := dnssec.NewAutoTrust([]*dnssec.TrustPoint{{Zone: ".", Keys: []dnssec.AutoKey{{Key: lab.DNSKEYs(".")[0], State: dnssec.KeyRevoked, Since: time.Now()}}}}, nil)
		r := newResolver(t, lab, func(c *resolver.Config) { c.AutoTrust = nothing })
		_, err := r.Query(context.Background(), resolver.Request{Name: "www.child.org.", Type: dns.TypeA, DO: true})
		if !errors.Is(err, resolver.ErrBogus) {
			t.Errorf("err %v, want Bogus", err)
		}
	})
	t.Run("exclusive with TrustAnchors", func(t *testing.T) {
		if _, err := resolver.New(resolver.Config{AutoTrust: at, TrustAnchors: anchors}); err == nil {
			t.Error("no error")
		}
	})
}
