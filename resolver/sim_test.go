package resolver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// startSim starts the built-in simulated internet without latency.
func startSim(tb testing.TB) *resolvertest.Lab {
	tb.Helper()
	lab, err := sim.New(sim.Config{NoLatency: true})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	if err := lab.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lab.Close() })
	return lab
}

// TestSimExamples resolves every showcase name of the simulation.
func TestSimExamples(t *testing.T) {
	lab := startSim(t)
	r := newResolver(t, lab, nil)
	for _, ex := range sim.Examples() {
		t.Run(ex.ID, func(t *testing.T) {
			res, err := r.Resolve(context.Background(), ex.Name, ex.Type)
			if err != nil {
				t.Fatalf("%s %s: %v", ex.Name, dns.TypeToString[ex.Type], err)
			}
			wantRcode := dns.RcodeSuccess
			if ex.ID == "nxdomain" {
				wantRcode = dns.RcodeNameError
			}
			if res.Rcode != wantRcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[res.Rcode], dns.RcodeToString[wantRcode])
			}
			if ex.ID != "nxdomain" && ex.ID != "nodata" && len(res.Answer) == 0 {
				t.Errorf("no answer")
			}
		})
	}
}

// TestBulkUpstreamCounts resolves the 100 names of one TLD cold, then
// again after the cache has expired nothing but the names themselves are
// new: with delegations cached, each name needs one query.
func TestBulkUpstreamCounts(t *testing.T) {
	lab := startSim(t)
	names := sim.BulkNames()
	if len(names) < 100 {
		t.Fatalf("only %d bulk names", len(names))
	}
	count := func(r *resolver.Resolver) int {
		total := 0
		for _, n := range names {
			res, err := r.Resolve(context.Background(), n, dns.TypeA)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			total += res.Upstream
		}
		return total
	}
	cold := count(newResolver(t, lab, nil))
	// Warm only the delegations: resolve each zone's NS set, then the
	// hosts, which are all new to this resolver.
	warm := newResolver(t, lab, nil)
	zones := map[string]bool{}
	for _, n := range names {
		zones[n[strings.Index(n, ".")+1:]] = true
	}
	for z := range zones {
		if _, err := warm.Resolve(context.Background(), z, dns.TypeNS); err != nil {
			t.Fatal(err)
		}
	}
	lab.ResetQueries()
	warmCount := count(warm)
	t.Logf("100 names in one TLD: %d upstream queries cold, %d with delegations cached", cold, warmCount)
	// With the delegations cached, no root or TLD server is asked again
	// and each name costs one query (more only if a reply was slow
	// enough to be retried on a loaded machine).
	for _, q := range lab.Queries() {
		for _, z := range lab.Server(q.Server).Zones() {
			if z == "." || z == "test." {
				t.Errorf("warm resolution of %s asked %s, a server for %s", q.Name, q.Server, z)
			}
		}
	}
	if warmCount < len(names) || warmCount > len(names)+len(names)/10 {
		t.Errorf("with delegations cached, %d names took %d queries, want about one each", len(names), warmCount)
	}
	if cold >= 3*len(names) {
		t.Errorf("cold resolution of %d names took %d queries: delegations are not reused", len(names), cold)
	}
}

// BenchmarkSimResolve compares a cold resolution (new resolver each time)
// with a warm one (answer in the cache) on the simulated hierarchy.
func BenchmarkSimResolve(b *testing.B) {
	lab := startSim(b)
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		q := 0
		for b.Loop() {
			r := newResolver(b, lab, nil)
			res, err := r.Resolve(context.Background(), "www.example.org.", dns.TypeA)
			if err != nil {
				b.Fatal(err)
			}
			q += res.Upstream
			r.Close()
		}
		b.ReportMetric(float64(q)/float64(b.N), "upstream/op")
	})
	b.Run("warm", func(b *testing.B) {
		r := newResolver(b, lab, nil)
		if _, err := r.Resolve(context.Background(), "www.example.org.", dns.TypeA); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Resolve(context.Background(), "www.example.org.", dns.TypeA); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkValidation measures what DNSSEC validation adds to a
// resolution on the signed simulated internet: cold (new resolver: the
// whole chain of trust is fetched and checked) and warm (the answer and
// its validated status come from the cache).
func BenchmarkValidation(b *testing.B) {
	lab := startSim(b)
	anchors := labresolver.TrustAnchors(b, lab)
	const name = "www.dnssec-test.org."
	for _, validate := range []bool{false, true} {
		mode := "off"
		mod := func(c *resolver.Config) {}
		if validate {
			mode = "on"
			mod = func(c *resolver.Config) { c.TrustAnchors = anchors }
		}
		b.Run("cold/validation-"+mode, func(b *testing.B) {
			b.ReportAllocs()
			q := 0
			for b.Loop() {
				r := newResolver(b, lab, mod)
				res, err := r.Resolve(context.Background(), name, dns.TypeA)
				if err != nil {
					b.Fatal(err)
				}
				if validate && res.Security != dnssec.Secure {
					b.Fatalf("security %v", res.Security)
				}
				q += res.Upstream
				r.Close()
			}
			b.ReportMetric(float64(q)/float64(b.N), "upstream/op")
		})
		b.Run("warm/validation-"+mode, func(b *testing.B) {
			r := newResolver(b, lab, mod)
			if _, err := r.Resolve(context.Background(), name, dns.TypeA); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Resolve(context.Background(), name, dns.TypeA); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAggressiveNSEC checks RFC 8198 on the signed simulated internet:
// after one validated NXDOMAIN (or NODATA), other names (types) that the
// same NSEC records deny are answered with no upstream query, still
// Secure.
func TestAggressiveNSEC(t *testing.T) {
	lab := startSim(t)
	anchors := labresolver.TrustAnchors(t, lab)
	r := newResolver(t, lab, func(c *resolver.Config) { c.TrustAnchors = anchors })
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		wantRcode int
		fromCache bool
	}{
		{"first NXDOMAIN goes upstream", "nope1.dnssec-test.org.", dns.TypeA, dns.RcodeNameError, false},
		{"another name in the same NSEC range", "nope2.dnssec-test.org.", dns.TypeA, dns.RcodeNameError, true},
		{"another type of that name", "nope2.dnssec-test.org.", dns.TypeMX, dns.RcodeNameError, true},
		{"first NODATA goes upstream", "www.dnssec-test.org.", dns.TypeTXT, dns.RcodeSuccess, false},
		{"another missing type at the same name", "www.dnssec-test.org.", dns.TypeMX, dns.RcodeSuccess, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Query(context.Background(), resolver.Request{Name: tt.qname, Type: tt.qtype, DO: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rcode != tt.wantRcode || res.Security != dnssec.Secure || len(res.Answer) != 0 {
				t.Errorf("rcode %s security %v answer %v, want %s, Secure, empty", dns.RcodeToString[res.Rcode], res.Security, res.Answer, dns.RcodeToString[tt.wantRcode])
			}
			if tt.fromCache != (res.Upstream == 0) {
				t.Errorf("upstream queries %d; answered from validated NSEC records: want %v", res.Upstream, tt.fromCache)
			}
			var soa, nsec bool
			for _, rr := range res.Authority {
				soa = soa || rr.Header().Rrtype == dns.TypeSOA
				nsec = nsec || rr.Header().Rrtype == dns.TypeNSEC
			}
			if !soa || !nsec {
				t.Errorf("authority %v lacks the SOA or the NSEC proof", res.Authority)
			}
		})
	}
}

// TestAggressiveNSEC3 does the same for an NSEC3 zone: once NSEC3 ranges
// are known, names whose hashes fall in them are denied from memory. The
// hashes depend only on the names, so which ones hit is fixed.
func TestAggressiveNSEC3(t *testing.T) {
	lab := startSim(t)
	anchors := labresolver.TrustAnchors(t, lab)
	r := newResolver(t, lab, func(c *resolver.Config) { c.TrustAnchors = anchors })
	fromMemory := 0
	for i := 1; i <= 20; i++ {
		name := fmt.Sprintf("nope%d.nsec3.dnssec-test.org.", i)
		res, err := r.Query(context.Background(), resolver.Request{Name: name, Type: dns.TypeA, DO: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Rcode != dns.RcodeNameError || res.Security != dnssec.Secure {
			t.Errorf("%s: rcode %s security %v, want a Secure NXDOMAIN", name, dns.RcodeToString[res.Rcode], res.Security)
		}
		if res.Upstream == 0 {
			fromMemory++
		}
	}
	if fromMemory == 0 {
		t.Errorf("none of 19 further names was denied from the cached NSEC3 ranges")
	}
	t.Logf("%d of 20 names denied from cached NSEC3 records", fromMemory)
}

// TestWildcardSynthesis checks RFC 8198 §5.3: after one validated
// wildcard answer, other names the wildcard covers are answered from the
// cache, with the proof, still Secure.
func TestWildcardSynthesis(t *testing.T) {
	lab := startSim(t)
	anchors := labresolver.TrustAnchors(t, lab)
	for _, zone := range []struct{ wild, proof string }{{"wild.dnssec-test.org.", "NSEC"}, {"wild.nsec3.dnssec-test.org.", "NSEC3"}} {
		t.Run(zone.proof, func(t *testing.T) { testWildcardSynthesis(t, lab, anchors, zone.wild, dns.StringToType[zone.proof]) })
	}
}

func testWildcardSynthesis(t *testing.T, lab *resolvertest.Lab, anchors *dnssec.Anchors, wild string, proofType uint16) {
	r := newResolver(t, lab, func(c *resolver.Config) { c.TrustAnchors = anchors })
	for i, name := range []string{"anything." + wild, "other." + wild} {
		res, err := r.Query(context.Background(), resolver.Request{Name: name, Type: dns.TypeA, DO: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Security != dnssec.Secure || len(res.Answer) == 0 || !strings.EqualFold(res.Answer[0].Header().Name, name) {
			t.Errorf("%s: security %v answer %v, want a Secure answer owned by the name", name, res.Security, res.Answer)
		}
		// With NSEC the first answer's proof covers the whole wildcard's
		// span; an NSEC3 wildcard proof covers only one hashed range, so
		// the second name may need its own proof from upstream.
		if wantUpstream := i == 0; proofType == dns.TypeNSEC && (res.Upstream > 0) != wantUpstream {
			t.Errorf("%s: %d upstream queries, want upstream %v", name, res.Upstream, wantUpstream)
		}
		var proof bool
		for _, rr := range res.Authority {
			proof = proof || rr.Header().Rrtype == proofType
		}
		if !proof {
			t.Errorf("%s: no %s proof in authority %v", name, dns.TypeToString[proofType], res.Authority)
		}
	}
}

// TestWildcardSynthesisNSEC3 exercises NSEC3 wildcard synthesis: once
// the closest encloser's and the wildcard's own NSEC3 records are known
// (from two NODATA answers) and a name's next closer name falls in a
// known hashed range, the wildcard answer comes from the cache. The
// hashes depend only on the names, so which names hit is fixed.
func TestWildcardSynthesisNSEC3(t *testing.T) {
	lab := startSim(t)
	anchors := labresolver.TrustAnchors(t, lab)
	r := newResolver(t, lab, func(c *resolver.Config) { c.TrustAnchors = anchors })
	ask := func(name string, qtype uint16) *resolver.Result {
		t.Helper()
		res, err := r.Query(context.Background(), resolver.Request{Name: name, Type: qtype, DO: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Security != dnssec.Secure {
			t.Errorf("%s %s: security %v, want Secure", name, dns.TypeToString[qtype], res.Security)
		}
		return res
	}
	ask("wild.nsec3.dnssec-test.org.", dns.TypeTXT)   // NODATA: the closest encloser's NSEC3
	ask("*.wild.nsec3.dnssec-test.org.", dns.TypeTXT) // NODATA: the wildcard's NSEC3
	checkWildcardHosts(t, "wild.nsec3.dnssec-test.org.", ask)
}

// checkWildcardHosts asks A for host1 to host20 under a wildcard's parent
// and checks each answer is the wildcard's, owned by the name, and that
// some came from cached NSEC3 records with no upstream query. The hashes
// depend only on the names, so the count is fixed.
func checkWildcardHosts(t *testing.T, parent string, ask func(name string, qtype uint16) *resolver.Result) {
	t.Helper()
	fromCache := 0
	for i := 1; i <= 20; i++ {
		name := fmt.Sprintf("host%d.%s", i, parent)
		res := ask(name, dns.TypeA)
		if len(res.Answer) == 0 || !strings.EqualFold(res.Answer[0].Header().Name, name) {
			t.Errorf("%s: answer %v, want the wildcard's A owned by the name", name, res.Answer)
		}
		if res.Upstream == 0 {
			fromCache++
		}
	}
	if fromCache == 0 {
		t.Errorf("no wildcard answer was synthesised from cached NSEC3 records")
	}
	t.Logf("%d of 20 wildcard answers synthesised from cached NSEC3 records", fromCache)
}
