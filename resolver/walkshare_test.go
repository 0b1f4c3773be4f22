package resolver

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// walkLabZones: the root, org. and example.org. on servers of their own;
// b.example.org., a name with names below it but no zone cut;
// _sip._tcp.example.org., a service under an underscored label; and
// sub.example.org., a zone on example.org.'s server, the target of
// alias.example.org.'s CNAME. arpa., served by the root's server as on
// the internet, delegates 2.0.192.in-addr.arpa. (a /24, below the empty
// non-terminals in-addr.arpa. and 192.in-addr.arpa.) and
// 51.198.in-addr.arpa. (a /16) to example.org.'s server, and ip6.arpa.,
// on the root's server too, delegates 2001:db8::/32
// (8.b.d.0.1.0.0.2.ip6.arpa.) to example.org.'s server, which delegates
// 2001:db8:1::/48 to itself.
var walkLabZones = map[string]string{
	".": `
$TTL 86400
@ IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
a.root.lab. IN A 127.56.0.1
org. IN NS ns1.nic.org.
ns1.nic.org. IN A 127.56.1.1
arpa. IN NS a.root.lab.
`,
	"arpa.": `
$TTL 86400
@ IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
2.0.192.in-addr IN NS ns1.example.org.
51.198.in-addr IN NS ns1.example.org.
ip6 IN NS a.root.lab.
`,
	"ip6.arpa.": `
$TTL 86400
@ IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
8.b.d.0.1.0.0.2 IN NS ns1.example.org.
`,
	"8.b.d.0.1.0.0.2.ip6.arpa.": `
$TTL 86400
@ IN SOA ns1.example.org. hostmaster.example.org. 1 1800 900 604800 3600
@ IN NS ns1.example.org.
0.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.0.0.0.0 IN PTR www.example.org.
1.0.0.0 IN NS ns1.example.org.
`,
	"1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.": `
$TTL 86400
@ IN SOA ns1.example.org. hostmaster.example.org. 1 1800 900 604800 3600
@ IN NS ns1.example.org.
3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR www.example.org.
`,
	"2.0.192.in-addr.arpa.": `
$TTL 86400
@ IN SOA ns1.example.org. hostmaster.example.org. 1 1800 900 604800 3600
@ IN NS ns1.example.org.
80 IN PTR www.example.org.
`,
	"51.198.in-addr.arpa.": `
$TTL 86400
@ IN SOA ns1.example.org. hostmaster.example.org. 1 1800 900 604800 3600
@ IN NS ns1.example.org.
1.100 IN PTR www.example.org.
`,
	"org.": `
$TTL 86400
@ IN SOA ns1.nic.org. hostmaster.nic.org. 1 1800 900 604800 3600
@ IN NS ns1.nic.org.
ns1.nic IN A 127.56.1.1
example IN NS ns1.example
ns1.example IN A 127.56.3.1
`,
	"example.org.": `
$TTL 86400
@ IN SOA ns1 hostmaster 1 1800 900 604800 3600
@ IN NS ns1
@ IN MX 10 mail
ns1 IN A 127.56.3.1
mail IN A 192.0.2.25
www IN A 192.0.2.80
a.b IN A 192.0.2.1
c.b IN A 192.0.2.3
_sip._tcp IN SRV 0 5 5060 www
alias IN CNAME h1.sub
sub IN NS ns1
`,
	"sub.example.org.": `
$TTL 86400
@ IN SOA ns1.example.org. hostmaster.example.org. 1 1800 900 604800 3600
@ IN NS ns1.example.org.
h1 IN A 192.0.2.11
`,
}

// countingLab starts walkLabZones and returns a resolver over it whose
// transport counts each question ("name TYPE") that reached a server and
// calls hold, if set, before sending it.
// With signed, every zone is signed and the resolver validates.
func countingLab(t *testing.T, signed bool, hold func(ctx context.Context, key string) error) (*Resolver, func() map[string]int) {
	t.Helper()
	h := resolvertest.Hierarchy{Zones: walkLabZones, Servers: []resolvertest.Host{
		{Name: "a.root.lab.", Addr: "127.56.0.1", Zones: []string{".", "arpa.", "ip6.arpa."}},
		{Name: "ns1.nic.org.", Addr: "127.56.1.1", Zones: []string{"org."}},
		{Name: "ns1.example.org.", Addr: "127.56.3.1", Zones: []string{"example.org.", "sub.example.org.", "2.0.192.in-addr.arpa.", "51.198.in-addr.arpa.",
			"8.b.d.0.1.0.0.2.ip6.arpa.", "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."}},
	}}
	if signed {
		h.Signed = map[string]resolvertest.SignOptions{}
		for origin := range walkLabZones {
			h.Signed[origin] = resolvertest.SignOptions{}
		}
	}
	lab := h.Start(t, resolvertest.Config{})
	hints, err := ParseHints(strings.NewReader(lab.RootHints()), "lab")
	if err != nil {
		t.Fatalf("ParseHints: %v", err)
	}
	var anchors *dnssec.Anchors
	if signed {
		if anchors, err = dnssec.ParseAnchors(lab.TrustAnchor()); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex // guards asked
	asked := map[string]int{}
	nx := &NetExchanger{}
	x := ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
		if !server.Addr().IsLoopback() {
			return nil, fmt.Errorf("test: refusing to send to %s", server)
		}
		key := strings.ToLower(q.Question[0].Name) + " " + dns.TypeToString[q.Question[0].Qtype]
		mu.Lock()
		asked[key]++
		mu.Unlock()
		if hold != nil {
			if err := hold(ctx, key); err != nil {
				return nil, err
			}
		}
		return nx.Exchange(ctx, q, network, server)
	})
	// The smallest per-query timeout is the whole query timeout (as
	// labresolver.LabMinRTO, which this package's tests cannot import):
	// each zone here has one server, and a reply a loaded machine slows
	// down must be waited for, not counted as lost.
	const queryTimeout = 2 * time.Second
	r, err := New(Config{Hints: hints, Port: lab.Port(), Exchanger: x, AllowLoopback: true, QueryTimeout: queryTimeout,
		TrustAnchors: anchors, InfraConfig: cache.InfraConfig{MinRTO: queryTimeout}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(r.Close)
	return r, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(asked)
	}
}

// TestWalkJoinsPendingCut: while one request's shortened question
// "example.org. NS" to org.'s server is held back, a second request for
// "example.org. MX" would ask org.'s server the whole question (it has no
// label to shorten) and get the same referral; instead it asks, and
// shares, the NS question in flight, so the MX question reaches only
// example.org.'s server.
func TestWalkJoinsPendingCut(t *testing.T) {
	release := make(chan struct{}) // closed on the join, or once "example.org. MX" is done without one
	var releaseOnce sync.Once
	releaseHold := func() { releaseOnce.Do(func() { close(release) }) }
	nsSent := make(chan struct{}, 1)
	r, asked := countingLab(t, false, func(ctx context.Context, key string) error {
		if key != "example.org. NS" {
			return nil
		}
		select {
		case nsSent <- struct{}{}:
		default:
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	r.upFlights.onJoin = func(key string) {
		if strings.Contains(key, " example.org. 2 ") {
			releaseHold()
		}
	}
	resolve := func(name string, qtype uint16, out chan<- error) {
		_, err := r.Resolve(t.Context(), name, qtype)
		out <- err
	}
	www, mx := make(chan error, 1), make(chan error, 1)
	go resolve("www.example.org.", dns.TypeA, www)
	// The second request starts once the first one's NS question is in
	// flight (the first one's referral to org. is then cached: the second
	// starts at org., where the question in flight is).
	select {
	case <-nsSent:
	case <-time.After(maxWait):
		t.Fatal("example.org. NS never sent")
	}
	go resolve("example.org.", dns.TypeMX, mx)
	select {
	case err := <-mx:
		releaseHold()
		if err != nil {
			t.Fatalf("example.org. MX: %v", err)
		}
	case <-time.After(maxWait):
		t.Fatal("example.org. MX: no result")
	}
	select {
	case err := <-www:
		if err != nil {
			t.Fatalf("www.example.org. A: %v", err)
		}
	case <-time.After(maxWait):
		t.Fatal("www.example.org. A: no result")
	}
	want := map[string]int{"org. NS": 1, "example.org. NS": 1, "www.example.org. A": 1, "example.org. MX": 1}
	if diff := cmp.Diff(want, asked()); diff != "" {
		t.Errorf("questions sent (-want +got):\n%s", diff)
	}
}

// TestWalkRemembersMinimisation: a second walk for the same name in one
// request (as the retry after a bogus answer makes) starts where the first
// one's minimisation ended: "b.example.org. NS" (no cut there) is asked
// once, the whole question twice.
func TestWalkRemembersMinimisation(t *testing.T) {
	r, asked := countingLab(t, false, nil)
	rq := &request{r: r, class: dns.ClassINET, start: r.cfg.Now()}
	for i := range 2 {
		out, err := rq.lookup(t.Context(), "a.b.example.org.", dns.TypeA)
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if diff := cmp.Diff([]string{"a.b.example.org. 86400 IN A 192.0.2.1"}, rrStrings(out.answer)); diff != "" {
			t.Fatalf("lookup %d answer (-want +got):\n%s", i, diff)
		}
	}
	want := map[string]int{"org. NS": 1, "example.org. NS": 1, "b.example.org. NS": 1, "a.b.example.org. A": 2}
	if diff := cmp.Diff(want, asked()); diff != "" {
		t.Errorf("questions sent (-want +got):\n%s", diff)
	}
}

// TestMinimisationStopsAtUnderscore: minimisation asks no NS question for
// an underscored label (RFC 8552 attribute leaves, not delegation
// points): the name is sent whole from there. Labels before it are still
// minimised.
func TestMinimisationStopsAtUnderscore(t *testing.T) {
	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  map[string]int
	}{
		{"service under _tcp", "_sip._tcp.example.org.", dns.TypeSRV,
			map[string]int{"org. NS": 1, "example.org. NS": 1, "_sip._tcp.example.org. SRV": 1}},
		{"underscored label inside the name", "x._tcp.example.org.", dns.TypeA,
			map[string]int{"org. NS": 1, "example.org. NS": 1, "x._tcp.example.org. A": 1}},
		{"no underscore: minimised as before", "a.b.example.org.", dns.TypeA,
			map[string]int{"org. NS": 1, "example.org. NS": 1, "b.example.org. NS": 1, "a.b.example.org. A": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, asked := countingLab(t, false, nil)
			if _, err := r.Resolve(t.Context(), tt.qname, tt.qtype); err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(tt.want, asked()); diff != "" {
				t.Errorf("questions sent (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMinimisationReverseTree: below arpa., minimisation of a name under
// in-addr.arpa. starts at the /24 (reverseStart), not at in-addr.arpa.,
// and of a name under ip6.arpa. goes by the /32, /48 and /64: the empty
// non-terminals on the way cost no question, a cut above a boundary is
// found by the same question, and no server above the /64 is sent a
// whole address. The NS-address lookups for the glueless delegations
// (ns1.example.org.) are the same either way.
func TestMinimisationReverseTree(t *testing.T) {
	const (
		v6Host      = "0.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa." // 2001:db8:0:2::80
		v6Delegated = "3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa." // 2001:db8:1::53
	)
	glueless := map[string]int{"org. NS": 1, "example.org. NS": 1}
	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  map[string]int
	}{
		{"host in a /24 below empty non-terminals", "80.2.0.192.in-addr.arpa.", dns.TypePTR,
			map[string]int{"arpa. NS": 1, "2.0.192.in-addr.arpa. NS": 1, "80.2.0.192.in-addr.arpa. PTR": 1}},
		{"host in a /16: the /24 question finds the cut above it", "1.100.51.198.in-addr.arpa.", dns.TypePTR,
			map[string]int{"arpa. NS": 1, "100.51.198.in-addr.arpa. NS": 2, "1.100.51.198.in-addr.arpa. PTR": 1}},
		{"the /24 itself: its parent first", "2.0.192.in-addr.arpa.", dns.TypeSOA,
			map[string]int{"arpa. NS": 1, "0.192.in-addr.arpa. NS": 1, "2.0.192.in-addr.arpa. SOA": 2}},
		{"IPv6 host in a /32: the /32, then the /48, an empty non-terminal", v6Host, dns.TypePTR,
			map[string]int{"arpa. NS": 1, "8.b.d.0.1.0.0.2.ip6.arpa. NS": 1,
				"0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. NS": 1, v6Host + " PTR": 1}},
		{"IPv6 host in a delegated /48: the /64 below it next", v6Delegated, dns.TypePTR,
			map[string]int{"arpa. NS": 1, "8.b.d.0.1.0.0.2.ip6.arpa. NS": 1, "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. NS": 1,
				"0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. NS": 1, v6Delegated + " PTR": 1}},
		{"the /32 itself: its parent first", "8.b.d.0.1.0.0.2.ip6.arpa.", dns.TypeSOA,
			map[string]int{"arpa. NS": 1, "b.d.0.1.0.0.2.ip6.arpa. NS": 1, "8.b.d.0.1.0.0.2.ip6.arpa. SOA": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, asked := countingLab(t, false, nil)
			res, err := r.Query(t.Context(), Request{Name: tt.qname, Type: tt.qtype, Class: dns.ClassINET})
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if res.Rcode != dns.RcodeSuccess || len(res.Answer) == 0 {
				t.Fatalf("Query: rcode %d, answer %v; want an answer", res.Rcode, res.Answer)
			}
			want := maps.Clone(tt.want)
			maps.Copy(want, glueless)
			if diff := cmp.Diff(want, asked()); diff != "" {
				t.Errorf("questions sent (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReverseStart: where the next shortened question at a zone stops in
// the reverse trees, and that it never goes past qname's parent.
func TestReverseStart(t *testing.T) {
	const v6 = "0.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa." // 34 labels
	tests := []struct {
		name, qname, zone string
		want              int
	}{
		{"IPv4 from arpa.", "80.2.0.192.in-addr.arpa.", "arpa.", 5},
		{"IPv4 from the root: arpa. first", "80.2.0.192.in-addr.arpa.", ".", 0},
		{"IPv4 shorter than a /24: its parent", "0.192.in-addr.arpa.", "arpa.", 3},
		{"IPv6 from arpa.: the /32", v6, "arpa.", 10},
		{"IPv6 from ip6.arpa.: the /32", v6, "ip6.arpa.", 10},
		{"IPv6 from a /12: the /32", v6, "0.0.2.ip6.arpa.", 10},
		{"IPv6 from the /32: the /48", v6, "8.b.d.0.1.0.0.2.ip6.arpa.", 14},
		{"IPv6 from a /40: the /48", v6, "0.0.8.b.d.0.1.0.0.2.ip6.arpa.", 14},
		{"IPv6 from the /48: the /64", v6, "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", 18},
		{"IPv6 from the /64: label by label", v6, "2.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", 0},
		{"IPv6 shorter than the boundary: its parent", "0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.", 11},
		{"IPv6 from the root: arpa. first", v6, ".", 0},
		{"not a reverse name", "www.example.org.", "org.", 0},
		{"arpa. itself", "arpa.", "arpa.", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reverseStart(tt.qname, tt.zone); got != tt.want {
				t.Errorf("reverseStart(%q, %q) = %d, want %d", tt.qname, tt.zone, got, tt.want)
			}
		})
	}
}

// TestNSECNoCut: a shortened question that the zone's validated NSEC
// records already answer is not asked. az.example.org.'s NXDOMAIN brings
// "alias.example.org. NSEC a.b.example.org.", which proves
// b.example.org. an empty non-terminal: the walk for a.b.example.org.
// then asks no "b.example.org. NS". Without that proof it does.
func TestNSECNoCut(t *testing.T) {
	tests := []struct {
		name   string
		first  string // resolved before a.b.example.org. ("" for none)
		wantNS int    // how often "b.example.org. NS" is asked
	}{
		{"proof cached", "az.example.org.", 0},
		{"no proof cached", "", 1},
		{"proof of another range", "zz.example.org.", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, asked := countingLab(t, true, nil)
			if tt.first != "" {
				res, err := r.Query(t.Context(), Request{Name: tt.first, Type: dns.TypeA, Class: dns.ClassINET, DO: true})
				if err != nil || res.Rcode != dns.RcodeNameError || res.Security != dnssec.Secure {
					t.Fatalf("%s: rcode %d, security %v, err %v; want a secure NXDOMAIN", tt.first, res.Rcode, res.Security, err)
				}
			}
			res, err := r.Query(t.Context(), Request{Name: "a.b.example.org.", Type: dns.TypeA, Class: dns.ClassINET, DO: true})
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff([]string{"a.b.example.org. 86400 IN A 192.0.2.1"}, rrStrings(withoutSigs(res.Answer))); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if res.Security != dnssec.Secure {
				t.Errorf("security %v, want Secure", res.Security)
			}
			got := asked()
			if got["b.example.org. NS"] != tt.wantNS || got["a.b.example.org. A"] != 1 {
				t.Errorf("b.example.org. NS asked %d times (want %d), a.b.example.org. A %d (want 1); queries: %v",
					got["b.example.org. NS"], tt.wantNS, got["a.b.example.org. A"], got)
			}
		})
	}
}

// TestDeeperCut: a walk that chose the root finds the cut for example.org.
// another request cached meanwhile, and nothing deeper than its own cut
// when the cache has none.
func TestDeeperCut(t *testing.T) {
	r, _ := countingLab(t, false, nil)
	rq := &request{r: r, class: dns.ClassINET, start: r.cfg.Now()}
	root := rq.startCut("www.example.org.", dns.TypeA)
	if nz := rq.deeperCut(root, "www.example.org.", dns.TypeA); nz != nil {
		t.Fatalf("deeper cut %s with an empty cache", nz.zone)
	}
	ns, _ := dns.NewRR("example.org. 86400 IN NS ns1.example.org.")
	glue, _ := dns.NewRR("ns1.example.org. 86400 IN A 127.56.3.1")
	r.cache.Insert(cache.RRset{RRs: []dns.RR{ns}, Rank: cache.RankAuthorityNonAuth})
	r.cache.Insert(cache.RRset{RRs: []dns.RR{glue}, Rank: cache.RankAdditional})
	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  string // "" for none
	}{
		{"a name below the cut", "www.example.org.", dns.TypeA, "example.org."},
		{"the cut's own DS stays with the parent", "example.org.", dns.TypeDS, ""},
		{"another zone", "www.example.net.", dns.TypeA, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := &request{r: r, class: dns.ClassINET, start: r.cfg.Now()}
			zs := rq.startCut(".", dns.TypeNS)
			got := ""
			if nz := rq.deeperCut(zs, tt.qname, tt.qtype); nz != nil {
				got = nz.zone
			}
			if got != tt.want {
				t.Errorf("deeperCut = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCachedNoCut: the second request for a name below b.example.org.
// takes "no cut there" from the negative cache (the first request's
// shortened question) instead of asking the shortened question again.
func TestCachedNoCut(t *testing.T) {
	r, asked := countingLab(t, false, nil)
	for _, name := range []string{"a.b.example.org.", "c.b.example.org."} {
		if _, err := r.Resolve(t.Context(), name, dns.TypeA); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	want := map[string]int{"org. NS": 1, "example.org. NS": 1, "b.example.org. NS": 1, "a.b.example.org. A": 1, "c.b.example.org. A": 1}
	if diff := cmp.Diff(want, asked()); diff != "" {
		t.Errorf("questions sent (-want +got):\n%s", diff)
	}
}

// TestCNAMETargetWalkedWhileValidating: the walk to a CNAME's target
// starts while the CNAME is validated. The transport holds the reply to
// "example.org. DNSKEY" (the CNAME's validation needs it) until the
// shortened question on the way to the target, "sub.example.org. NS",
// arrived: walked only after the validation, as before, it never would,
// and the held query times out. The target's question itself is sent
// once, by the request (the walk ahead stops before it).
func TestCNAMETargetWalkedWhileValidating(t *testing.T) {
	cutAsked := make(chan struct{})
	var mu sync.Mutex // guards held and closed
	held, closed := "", false
	r, asked := countingLab(t, true, func(ctx context.Context, key string) error {
		mu.Lock()
		if key == "sub.example.org. NS" && !closed {
			closed = true
			close(cutAsked)
		}
		hold := key == "example.org. DNSKEY" && held == ""
		if hold {
			held = "waiting"
		}
		mu.Unlock()
		if !hold {
			return nil
		}
		select {
		case <-cutAsked:
			mu.Lock()
			held = "released by the target's walk"
			mu.Unlock()
			return nil
		case <-ctx.Done():
			mu.Lock()
			held = "timed out: the target was not walked during the validation"
			mu.Unlock()
			return ctx.Err()
		}
	})
	res, err := r.Query(t.Context(), Request{Name: "alias.example.org.", Type: dns.TypeA, Class: dns.ClassINET, DO: true})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "released by the target's walk"; held != want {
		t.Errorf("the DNSKEY reply was %s, want %s; queries: %v", held, want, asked())
	}
	if res.Security != dnssec.Secure {
		t.Errorf("security %v, want Secure", res.Security)
	}
	got := asked()
	// The cut's NS question too is sent once: when the walk ahead's
	// flight has finished but its referral is not stored yet, the
	// request's own walk joins the finished flight (inflight.finish keeps
	// it until settled) rather than asking again.
	for _, q := range []string{"h1.sub.example.org. A", "alias.example.org. A", "sub.example.org. NS"} {
		if got[q] != 1 {
			t.Errorf("%s asked %d times, want once; queries: %v", q, got[q], got)
		}
	}
}
