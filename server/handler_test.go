package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/server"
)

const loopClient = "127.0.0.1:40000"

func TestAnswerFlagsCaseAndMinimal(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	s := startServer(t, h, nil)
	addr := s.Addrs()[0]

	type summary struct {
		Rcode          string
		QR, AA, RA, RD bool
		Question       string
		Answer, Ns     []string
		Extra          int
		OPTSize        uint16
	}
	tests := []struct {
		name  string
		qname string
		qtype uint16
		edns  bool
		want  summary
	}{
		{"positive mixed case", "WwW.ExAmPlE.oRg.", dns.TypeA, true, summary{
			Rcode: "NOERROR", QR: true, RA: true, RD: true, Question: "WwW.ExAmPlE.oRg.",
			Answer: []string{"www.example.org.\t0\tIN\tA\t192.0.2.10"}, Extra: 1, OPTSize: server.DefaultUDPSize}},
		{"cname chain", "ALIAS.example.org.", dns.TypeA, false, summary{
			Rcode: "NOERROR", QR: true, RA: true, RD: true, Question: "ALIAS.example.org.",
			Answer: []string{"alias.example.org.\t0\tIN\tCNAME\twww.example.org.", "www.example.org.\t0\tIN\tA\t192.0.2.10"}}},
		{"nxdomain carries SOA", "NoSuch.example.org.", dns.TypeA, true, summary{
			Rcode: "NXDOMAIN", QR: true, RA: true, RD: true, Question: "NoSuch.example.org.",
			Ns: []string{"example.org.\t0\tIN\tSOA\tns1.example.org. hostmaster.example.org. 1 1800 900 604800 300"}, Extra: 1, OPTSize: server.DefaultUDPSize}},
		{"nodata carries SOA", "www.example.org.", dns.TypeMX, false, summary{
			Rcode: "NOERROR", QR: true, RA: true, RD: true, Question: "www.example.org.",
			Ns: []string{"example.org.\t0\tIN\tSOA\tns1.example.org. hostmaster.example.org. 1 1800 900 604800 300"}}},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				m := question(tt.qname, tt.qtype)
				if tt.edns {
					withEDNS(m, 4096, false)
				}
				// Twice: the second reply comes from the packet cache
				// and must look the same.
				for i := range 2 {
					r := exchange(t, addr, network, m)
					// Owner names may be compressed to the question and
					// so carry its case: compare them folded.
					got := summary{Rcode: dns.RcodeToString[r.Rcode], QR: r.Response, AA: r.Authoritative, RA: r.RecursionAvailable,
						RD: r.RecursionDesired, Question: r.Question[0].Name, Answer: lower(rrTexts(r.Answer)), Ns: lower(rrTexts(r.Ns)), Extra: len(r.Extra)}
					if opt := r.IsEdns0(); opt != nil {
						got.OPTSize = opt.UDPSize()
					}
					if r.Id != m.Id {
						t.Errorf("reply %d: ID %d, want %d", i, r.Id, m.Id)
					}
					want := tt.want
					want.Answer, want.Ns = lower(want.Answer), lower(want.Ns)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("reply %d (-want +got):\n%s", i, diff)
					}
				}
			})
		}
	}
}

func TestPacketCacheTTLCountsDown(t *testing.T) {
	lab := startLab(t)
	clock := newFakeClock()
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Now = clock.Now
		c.Settings.Resolver = newResolver(t, lab, func(rc *resolver.Config) { rc.Now = clock.Now })
	})
	req := pack(t, question("www.example.org.", dns.TypeA))
	first := handle(t, h, loopClient, req)
	// Every lab server is dead for the second query, so only a cache can
	// answer it. (Counting upstream queries instead can fail on a loaded
	// machine: a retry of a query answered late reaches the lab after the
	// count is taken.)
	dropAll(lab, true)
	clock.Advance(100 * time.Second)
	second := handle(t, h, loopClient, req)
	if len(first.Answer) != 1 || len(second.Answer) != 1 {
		t.Fatalf("answers: %v / %v; want the second from a cache, with every upstream dead", first.Answer, second.Answer)
	}
	if got, want := second.Answer[0].Header().Ttl, first.Answer[0].Header().Ttl-100; got != want {
		t.Errorf("TTL after 100 s = %d, want %d", got, want)
	}
	dropAll(lab, false)
	before := lab.queries.Load()
	clock.Advance(3600 * time.Second)
	handle(t, h, loopClient, req)
	if lab.queries.Load() == before {
		t.Errorf("expired entry was served from the packet cache")
	}
}

func TestTruncation(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	addr := startServer(t, h, nil).Addrs()[0]
	tests := []struct {
		name    string
		network string
		edns    uint16 // 0: no EDNS
		wantTC  bool
	}{
		{"udp without EDNS", "udp", 0, true},
		{"udp EDNS 4096 capped by our 1232", "udp", 4096, true},
		{"tcp", "tcp", 0, false},
		{"tcp with EDNS", "tcp", 1232, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := question("big.example.org.", dns.TypeTXT)
			if tt.edns > 0 {
				withEDNS(m, tt.edns, false)
			}
			r := exchange(t, addr, tt.network, m)
			got := []any{r.Truncated, len(r.Answer) > 0, r.Question[0].Name, r.Rcode}
			want := []any{tt.wantTC, !tt.wantTC, "big.example.org.", dns.RcodeSuccess}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.edns > 0 && r.IsEdns0() == nil {
				t.Errorf("no OPT in reply")
			}
		})
	}
}

func TestEDNS(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	tests := []struct {
		name      string
		version   uint8
		do        bool
		wantRcode int
		wantDO    bool
	}{
		{"version 0", 0, false, dns.RcodeSuccess, false},
		{"DO echoed", 0, true, dns.RcodeSuccess, true},
		{"unknown version", 1, false, dns.RcodeBadVers, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := withEDNS(question("www.example.org.", dns.TypeA), 1400, tt.do)
			m.IsEdns0().SetVersion(tt.version)
			r := handle(t, h, loopClient, pack(t, m))
			opt := r.IsEdns0()
			if opt == nil {
				t.Fatal("no OPT record in reply")
			}
			got := []any{dns.RcodeToString[r.Rcode], opt.Do(), opt.UDPSize(), opt.Version()}
			want := []any{dns.RcodeToString[tt.wantRcode], tt.wantDO, uint16(server.DefaultUDPSize), uint8(0)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no EDNS no OPT", func(t *testing.T) {
		r := handle(t, h, loopClient, pack(t, question("www.example.org.", dns.TypeA)))
		if r.IsEdns0() != nil {
			t.Errorf("OPT in reply to a query without EDNS")
		}
	})
}

// sigResolver answers with an A record and its RRSIG, as a resolver does
// for a signed zone when asked with DO, and records the DO bit it got.
type sigResolver struct{ sawDO chan bool }

func (r sigResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	r.sawDO <- req.DO
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: "signed.example.org.", Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	a := &dns.A{Hdr: hdr(dns.TypeA), A: []byte{192, 0, 2, 11}}
	sig := &dns.RRSIG{Hdr: hdr(dns.TypeRRSIG), TypeCovered: dns.TypeA, Algorithm: 8, Labels: 3, OrigTtl: 60,
		Expiration: 1, Inception: 0, KeyTag: 1, SignerName: "example.org.", Signature: "ZmFrZQ=="}
	res := &resolver.Result{Name: req.Name, Type: req.Type, Class: req.Class, Answer: []dns.RR{a, sig}}
	if req.Type == dns.TypeRRSIG {
		res.Answer = []dns.RR{sig}
	}
	return res, nil
}

func TestDNSSECRecordsAndDO(t *testing.T) {
	sr := sigResolver{sawDO: make(chan bool, 1)}
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: sr}, PacketCacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tests := []struct {
		name      string
		qtype     uint16
		do        bool
		wantTypes []string
	}{
		{"no DO strips RRSIG", dns.TypeA, false, []string{"A"}},
		{"DO keeps RRSIG", dns.TypeA, true, []string{"A", "RRSIG"}},
		{"RRSIG asked for is kept", dns.TypeRRSIG, false, []string{"RRSIG"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := handle(t, h, loopClient, pack(t, withEDNS(question("signed.example.org.", tt.qtype), 1232, tt.do)))
			if do := <-sr.sawDO; do != tt.do {
				t.Errorf("resolver got DO=%v, want %v", do, tt.do)
			}
			var got []string
			for _, rr := range r.Answer {
				got = append(got, dns.TypeToString[rr.Header().Rrtype])
			}
			if diff := cmp.Diff(tt.wantTypes, got); diff != "" {
				t.Errorf("answer types (-want +got):\n%s", diff)
			}
		})
	}
}

func TestACL(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Settings.ACL = server.ACL{
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("198.51.100.0/24")},
			Deny:  []netip.Prefix{netip.MustParsePrefix("198.51.100.66/32")},
		}
	})
	tests := []struct {
		client    string
		wantRcode int
	}{
		{"127.0.0.1:1000", dns.RcodeSuccess},
		{"198.51.100.1:1000", dns.RcodeSuccess},
		{"198.51.100.66:1000", dns.RcodeRefused},
		{"192.0.2.1:1000", dns.RcodeRefused},
		{"[2001:db8::1]:1000", dns.RcodeRefused},
		{"[::ffff:192.0.2.1]:1000", dns.RcodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.client, func(t *testing.T) {
			// Over TCP: a refusal over UDP carries no EDE text (see
			// TestRefusalDoesNotAmplify).
			resp, ok := h.Handle(t.Context(), pack(t, withEDNS(question("www.example.org.", dns.TypeA), 1232, false)), netip.MustParseAddrPort(tt.client), server.TransportTCP)
			if !ok {
				t.Fatal("query dropped")
			}
			r := new(dns.Msg)
			if err := r.Unpack(resp); err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tt.wantRcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.wantRcode])
			}
			if tt.wantRcode == dns.RcodeRefused {
				if e := ede(r); e == nil || e.InfoCode != dns.ExtendedErrorCodeProhibited {
					t.Errorf("EDE = %v, want Prohibited", e)
				}
			}
		})
	}
	t.Run("default allows loopback only", func(t *testing.T) {
		h := newHandler(t, lab, nil)
		if r := handle(t, h, "[::1]:53000", pack(t, question("www.example.org.", dns.TypeA))); r.Rcode != dns.RcodeSuccess {
			t.Errorf("::1 got %s", dns.RcodeToString[r.Rcode])
		}
		if r := handle(t, h, "192.0.2.1:53000", pack(t, question("www.example.org.", dns.TypeA))); r.Rcode != dns.RcodeRefused {
			t.Errorf("192.0.2.1 got %s", dns.RcodeToString[r.Rcode])
		}
	})
}

func TestRateLimit(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Settings.RateLimit = server.RateLimit{QPS: 0.001, Burst: 2}
	})
	req := pack(t, question("www.example.org.", dns.TypeA))
	client := netip.MustParseAddrPort("127.0.0.9:5000")
	var got []bool
	for range 3 {
		_, ok := h.Handle(t.Context(), req, client, server.TransportUDP)
		got = append(got, ok)
	}
	// Another /24 has its own bucket.
	_, ok := h.Handle(t.Context(), req, netip.MustParseAddrPort("127.0.1.9:5000"), server.TransportUDP)
	got = append(got, ok)
	if diff := cmp.Diff([]bool{true, true, false, true}, got); diff != "" {
		t.Errorf("answered (-want +got):\n%s", diff)
	}
}

func TestRecursionNotDesired(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	norec := func(name string) []byte {
		m := question(name, dns.TypeA)
		m.RecursionDesired = false
		return pack(t, withEDNS(m, 1232, false))
	}
	before := lab.queries.Load()
	r := handle(t, h, loopClient, norec("www.example.org."))
	if r.Rcode != dns.RcodeServerFailure || len(r.Answer) != 0 {
		t.Errorf("RD=0 miss: %s with %d answers, want SERVFAIL and none", dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	if lab.queries.Load() != before {
		t.Errorf("RD=0 query sent %d upstream queries", lab.queries.Load()-before)
	}
	handle(t, h, loopClient, pack(t, question("www.example.org.", dns.TypeA)))
	r = handle(t, h, loopClient, norec("www.example.org."))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.RecursionDesired {
		t.Errorf("RD=0 after caching: %s, %d answers, RD=%v", dns.RcodeToString[r.Rcode], len(r.Answer), r.RecursionDesired)
	}
}

func TestUnsupportedQueries(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	tests := []struct {
		name      string
		mod       func(*dns.Msg)
		wantRcode int
	}{
		{"opcode NOTIFY", func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }, dns.RcodeNotImplemented},
		{"opcode STATUS", func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }, dns.RcodeNotImplemented},
		{"opcode UPDATE with records", func(m *dns.Msg) {
			m.Opcode = dns.OpcodeUpdate
			m.Ns = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "x.example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: []byte{192, 0, 2, 1}}}
		}, dns.RcodeNotImplemented},
		{"class CH", func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }, dns.RcodeRefused},
		{"class ANY", func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }, dns.RcodeRefused},
		{"AXFR", func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAXFR }, dns.RcodeRefused},
		{"MAILB", func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeMAILB }, dns.RcodeNotImplemented},
		{"type 0", func(m *dns.Msg) { m.Question[0].Qtype = 0 }, dns.RcodeFormatError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := question("www.example.org.", dns.TypeA)
			tt.mod(m)
			r := handle(t, h, loopClient, pack(t, m))
			if r.Rcode != tt.wantRcode || r.Id != m.Id || !r.Response {
				t.Errorf("rcode %s id %d, want %s id %d", dns.RcodeToString[r.Rcode], r.Id, dns.RcodeToString[tt.wantRcode], m.Id)
			}
		})
	}
}

func TestLocalData(t *testing.T) {
	lab := startLab(t)
	local := server.NewLocal()
	if err := local.AddRecord("router.example.org. 60 IN A 192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := local.AddHosts(stringsReader("192.0.2.7 printer.example.org printer # office\n2001:db8::7 printer.example.org\n"), "hosts"); err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, lab, func(c *server.HandlerConfig) { c.Settings.Local = local })
	tests := []struct {
		name   string
		qtype  uint16
		want   []string
		wantAA bool
	}{
		{"ROUTER.example.org.", dns.TypeA, []string{"router.example.org.\t0\tIN\tA\t192.0.2.1"}, true},
		{"router.example.org.", dns.TypeAAAA, nil, true},
		{"printer.example.org.", dns.TypeAAAA, []string{"printer.example.org.\t0\tIN\tAAAA\t2001:db8::7"}, true},
		{"printer.", dns.TypeA, []string{"printer.\t0\tIN\tA\t192.0.2.7"}, true},
		{"7.2.0.192.in-addr.arpa.", dns.TypePTR, []string{"7.2.0.192.in-addr.arpa.\t0\tIN\tPTR\tprinter.example.org."}, true},
		{"www.example.org.", dns.TypeA, []string{"www.example.org.\t0\tIN\tA\t192.0.2.10"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
			before := lab.queries.Load()
			r := handle(t, h, loopClient, pack(t, question(tt.name, tt.qtype)))
			if diff := cmp.Diff(tt.want, rrTexts(r.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if r.Authoritative != tt.wantAA || r.Rcode != dns.RcodeSuccess || r.Question[0].Name != tt.name {
				t.Errorf("AA=%v rcode=%s question=%s", r.Authoritative, dns.RcodeToString[r.Rcode], r.Question[0].Name)
			}
			if tt.wantAA && lab.queries.Load() != before {
				t.Errorf("local answer went upstream")
			}
		})
	}
}

func TestLocalDataConcurrent(t *testing.T) {
	local := server.NewLocal()
	for _, rr := range []string{"a.example.org. 60 IN A 192.0.2.1", "a.example.org. 60 IN A 192.0.2.2"} {
		if err := local.AddRecord(rr); err != nil {
			t.Fatal(err)
		}
	}
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: echoResolver{}, Local: local}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	req := pack(t, question("a.example.org.", dns.TypeA))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if r := handle(t, h, loopClient, req); len(r.Answer) != 2 {
					t.Errorf("answer %v", r.Answer)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestForwardZone(t *testing.T) {
	lab := startLab(t)
	fwd := lab.Addrs()["ns1.fwd.org."]
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Settings.Resolver = newResolverWithForward(t, lab, "fwd.org.", fwd)
	})
	lab.ResetQueries()
	resp := handle(t, h, loopClient, pack(t, question("www.fwd.org.", dns.TypeA)))
	if diff := cmp.Diff([]string{"www.fwd.org.\t0\tIN\tA\t192.0.2.50"}, rrTexts(resp.Answer)); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	var servers []string
	for _, q := range lab.Queries() {
		servers = append(servers, q.Server)
		if !q.RD {
			t.Errorf("forwarded query without RD")
		}
	}
	if diff := cmp.Diff([]string{"ns1.fwd.org."}, servers); diff != "" {
		t.Errorf("servers asked (-want +got):\n%s", diff)
	}
}

func TestOverload(t *testing.T) {
	lab := startLab(t)
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(time.Second))
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.MaxInflight = 1
		c.JostleTimeout = -1 // shedding, not jostling (TestJostle)
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.Handle(t.Context(), pack(t, question("a.slow.org.", dns.TypeA)), netip.MustParseAddrPort(loopClient), server.TransportUDP)
	}()
	<-lab.arrived // the first resolution holds the only slot
	r := handle(t, h, loopClient, pack(t, withEDNS(question("www.example.org.", dns.TypeA), 1232, false)))
	if r.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
	if e := ede(r); e == nil || e.ExtraText == "" {
		t.Errorf("EDE %v, want one saying why", e)
	}
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(0))
	<-done
}

func TestServfailCarriesEDE(t *testing.T) {
	lab := startLab(t)
	lab.Server("ns1.slow.org.").SetFaults(resolvertest.Faults{Drop: true})
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Settings.Resolver = newResolver(t, lab, func(rc *resolver.Config) {
			rc.QueryTimeout = 50 * time.Millisecond
			rc.RequestTimeout = time.Second
		})
	})
	r := handle(t, h, loopClient, pack(t, withEDNS(question("www.slow.org.", dns.TypeA), 1232, false)))
	if r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
	e := ede(r)
	if e == nil || e.InfoCode != dns.ExtendedErrorCodeNoReachableAuthority || e.ExtraText == "" {
		t.Errorf("EDE %v, want No Reachable Authority with a reason", e)
	}
	// Asked again within the failure window (RFC 9520): the original
	// reason first, then Cached Error, in one OPT record.
	again := handle(t, h, loopClient, pack(t, withEDNS(question("www.slow.org.", dns.TypeA), 1232, false)))
	if diff := cmp.Diff([]uint16{dns.ExtendedErrorCodeNoReachableAuthority, dns.ExtendedErrorCodeCachedError}, edeCodes(again)); diff != "" {
		t.Errorf("cached failure EDE codes (-want +got):\n%s", diff)
	}
	// Without EDNS there is no OPT to carry it, but the rcode stands.
	if r := handle(t, h, loopClient, pack(t, question("www.slow.org.", dns.TypeA))); r.Rcode != dns.RcodeServerFailure || r.IsEdns0() != nil {
		t.Errorf("without EDNS: %s, OPT %v", dns.RcodeToString[r.Rcode], r.IsEdns0())
	}
}

// countingResolver answers every A question with a fresh 100 s record
// and counts the calls.
type countingResolver struct{ calls atomic.Int64 }

func (r *countingResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	r.calls.Add(1)
	a := &dns.A{Hdr: dns.RR_Header{Name: req.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 100}, A: []byte{192, 0, 2, 1}}
	return &resolver.Result{Name: req.Name, Type: req.Type, Class: req.Class, Answer: []dns.RR{a}}, nil
}

func TestPrefetchRefreshesPacketCache(t *testing.T) {
	clock := newFakeClock()
	cr := &countingResolver{}
	h, err := server.NewHandler(server.HandlerConfig{Now: clock.Now, Settings: server.Settings{Resolver: cr, Prefetch: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	req := pack(t, question("www.example.org.", dns.TypeA))
	handle(t, h, loopClient, req)
	clock.Advance(50 * time.Second)
	handle(t, h, loopClient, req) // mid-life hit: no refresh
	clock.Advance(45 * time.Second)
	handle(t, h, loopClient, req) // last tenth: refresh in the background
	if err := h.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := cr.calls.Load(); got != 2 {
		t.Errorf("resolver calls after the prefetch: %d, want 2", got)
	}
	clock.Advance(10 * time.Second) // past the first entry's life
	r := handle(t, h, loopClient, req)
	if got := cr.calls.Load(); got != 2 || len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 90 {
		t.Errorf("after expiry of the first entry: %d calls, answer %v; want 2 calls and TTL 90", got, r.Answer)
	}
}

func TestQueryLog(t *testing.T) {
	lab := startLab(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Logger = log
		c.Settings.QueryLog = true
	})
	handle(t, h, loopClient, pack(t, question("WWW.example.org.", dns.TypeAAAA)))
	line := buf.String()
	for _, want := range []string{"msg=query", "client=" + loopClient, "name=WWW.example.org.", "type=AAAA", "rcode=NOERROR", "transport=udp"} {
		if !strings.Contains(line, want) {
			t.Errorf("query log %q lacks %q", line, want)
		}
	}
	st := h.Settings()
	st.QueryLog = false
	st.KeepAnswers = true
	if err := h.Reload(st); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	handle(t, h, loopClient, pack(t, question("www.example.org.", dns.TypeAAAA)))
	if buf.Len() != 0 {
		t.Errorf("query logged with the log off: %s", buf.String())
	}
}

// staleResolver answers with stale data, as the resolver does under
// serve-stale when every server failed.
type staleResolver struct{ countingResolver }

func (r *staleResolver) Query(ctx context.Context, req resolver.Request) (*resolver.Result, error) {
	res, err := r.countingResolver.Query(ctx, req)
	res.Stale = true
	res.Answer[0].Header().Ttl = 30
	return res, err
}

func TestStaleAnswerCarriesEDE(t *testing.T) {
	sr := &staleResolver{}
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: sr}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	req := pack(t, withEDNS(question("www.example.org.", dns.TypeA), 1232, false))
	for range 2 {
		r := handle(t, h, loopClient, req)
		if e := ede(r); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || e == nil || e.InfoCode != dns.ExtendedErrorCodeStaleAnswer {
			t.Errorf("stale reply: %s, %d answers, EDE %v", dns.RcodeToString[r.Rcode], len(r.Answer), e)
		}
	}
	if got := sr.calls.Load(); got != 2 {
		t.Errorf("resolver asked %d times, want 2: stale answers are not kept", got)
	}
}

// secureResolver answers with data it says it validated.
type secureResolver struct{ countingResolver }

func (r *secureResolver) Query(ctx context.Context, req resolver.Request) (*resolver.Result, error) {
	res, err := r.countingResolver.Query(ctx, req)
	res.Security = dnssec.Secure
	return res, err
}

func TestADBit(t *testing.T) {
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: &secureResolver{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tests := []struct {
		name   string
		do, ad bool
		wantAD bool
	}{
		{"plain query", false, false, false},
		{"DO", true, false, true},
		{"AD in query", false, true, true},
	}
	// Twice each: the second reply comes from the packet cache.
	for _, round := range []string{"resolved", "cached"} {
		for _, tt := range tests {
			t.Run(round+"/"+tt.name, func(t *testing.T) {
				m := withEDNS(question("www.example.org.", dns.TypeA), 1232, tt.do)
				m.AuthenticatedData = tt.ad
				r := handle(t, h, loopClient, pack(t, m))
				if r.AuthenticatedData != tt.wantAD {
					t.Errorf("AD = %v, want %v", r.AuthenticatedData, tt.wantAD)
				}
			})
		}
	}
}

// manyResolver answers with n A records and counts the questions it got;
// with freshOnly its results say a cache hit would answer differently.
type manyResolver struct {
	n         int
	calls     *atomic.Int32
	freshOnly bool
}

func (r manyResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	r.calls.Add(1)
	res := &resolver.Result{Name: req.Name, Type: req.Type, Class: req.Class, FreshOnly: r.freshOnly}
	for i := 0; i < r.n; i++ {
		res.Answer = append(res.Answer, &dns.A{Hdr: dns.RR_Header{Name: req.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A: []byte{192, 0, 2, byte(i)}})
	}
	return res, nil
}

// TestPacketCacheManyRecords is the regression test for a crash: a reply
// with more records than the packet cache keeps TTLs for was cached with
// mismatched offsets, and the next hit indexed out of range.
func TestPacketCacheManyRecords(t *testing.T) {
	for _, n := range []int{63, 64, 65, 70} { // 70 A records still fit in 1232 bytes
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			calls := new(atomic.Int32)
			h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: manyResolver{n: n, calls: calls}}})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			for i := 0; i < 3; i++ {
				r := handle(t, h, loopClient, pack(t, withEDNS(question("many.example.org.", dns.TypeA), 4096, false)))
				if len(r.Answer) != n {
					t.Fatalf("answer %d: %d records, want %d", i, len(r.Answer), n)
				}
			}
			wantCalls := int32(1) // kept in the packet cache
			if n > 64 {
				wantCalls = 3 // too many records to keep: resolved each time
			}
			if got := calls.Load(); got != wantCalls {
				t.Errorf("resolver asked %d times, want %d", got, wantCalls)
			}
		})
	}
}

// TestPacketCacheSkipsFreshOnly checks that a reply the resolver marks
// FreshOnly (its authority holds records a cache hit would not give) is
// not replayed from the packet cache.
func TestPacketCacheSkipsFreshOnly(t *testing.T) {
	for _, tc := range []struct {
		name      string
		freshOnly bool
		wantCalls int32
	}{{"ordinary reply kept", false, 1}, {"fresh-only reply not kept", true, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			calls := new(atomic.Int32)
			h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: manyResolver{n: 1, calls: calls, freshOnly: tc.freshOnly}}})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			for i := 0; i < 3; i++ {
				handle(t, h, loopClient, pack(t, question("one.example.org.", dns.TypeA)))
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("resolver asked %d times, want %d", got, tc.wantCalls)
			}
		})
	}
}

// failingResolver fails every question the way a resolver with a failure
// cache does (RFC 9520: RetryAfter set) and counts the calls.
type failingResolver struct {
	calls      atomic.Int32
	retryAfter time.Duration
}

func (r *failingResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	r.calls.Add(1)
	return nil, &resolver.Error{Name: req.Name, Type: req.Type, Err: resolver.ErrBogus, EDE: dns.ExtendedErrorCodeSignatureExpired,
		Detail: "fake", RetryAfter: r.retryAfter}
}

// TestPacketCacheKeepsFailures checks that a SERVFAIL the resolver keeps
// in its failure cache is repeated from the packet cache, with the
// original EDE and Cached Error, until the resolver would retry; and that
// a failure it does not keep is not kept either.
func TestPacketCacheKeepsFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter time.Duration
		wantCalls  int32
	}{{"kept for RetryAfter", 5 * time.Second, 1}, {"not kept without RetryAfter", 0, 3}, {"under a second is not kept", 500 * time.Millisecond, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			fr := &failingResolver{retryAfter: tc.retryAfter}
			h, err := server.NewHandler(server.HandlerConfig{Now: clock.Now, Settings: server.Settings{Resolver: fr}})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			for i := 0; i < 3; i++ {
				r := handle(t, h, loopClient, pack(t, withEDNS(question("Bogus.Example.org.", dns.TypeA), 1232, true)))
				if r.Rcode != dns.RcodeServerFailure || r.Question[0].Name != "Bogus.Example.org." {
					t.Fatalf("reply %d: %s for %v, want SERVFAIL echoing the question", i, dns.RcodeToString[r.Rcode], r.Question)
				}
				want := []uint16{dns.ExtendedErrorCodeSignatureExpired}
				if i > 0 && tc.wantCalls == 1 {
					want = append(want, dns.ExtendedErrorCodeCachedError)
				}
				if diff := cmp.Diff(want, edeCodes(r)); diff != "" {
					t.Errorf("reply %d EDE codes (-want +got):\n%s", i, diff)
				}
			}
			if got := fr.calls.Load(); got != tc.wantCalls {
				t.Errorf("resolver asked %d times, want %d", got, tc.wantCalls)
			}
			clock.Advance(6 * time.Second)
			handle(t, h, loopClient, pack(t, question("bogus.example.org.", dns.TypeA)))
			if got := fr.calls.Load(); got != tc.wantCalls+1 {
				t.Errorf("after the failure window: resolver asked %d times, want %d", got, tc.wantCalls+1)
			}
		})
	}
}

// TestRateLimitSlip: over the limit, every Slip-th UDP query gets an
// empty TC=1 reply no larger than the query; the others get nothing.
func TestRateLimitSlip(t *testing.T) {
	tests := []struct {
		name string
		slip int
		want []string // per UDP query after the first (which is answered)
	}{
		{"default slip 2", 0, []string{"drop", "tc", "drop", "tc"}},
		{"slip 3", 3, []string{"drop", "drop", "tc", "drop"}},
		{"never", -1, []string{"drop", "drop", "drop", "drop"}},
	}
	lab := startLab(t)
	req := pack(t, question("www.example.org.", dns.TypeA))
	client := netip.MustParseAddrPort("127.0.0.9:5000")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, lab, func(c *server.HandlerConfig) {
				c.Settings.RateLimit = server.RateLimit{QPS: 0.001, Burst: 1, Slip: tt.slip}
			})
			if _, ok := h.Handle(t.Context(), req, client, server.TransportUDP); !ok {
				t.Fatal("the first query was not answered")
			}
			var got []string
			for range len(tt.want) {
				b, ok := h.Handle(t.Context(), req, client, server.TransportUDP)
				if !ok {
					got = append(got, "drop")
					continue
				}
				m := new(dns.Msg)
				if err := m.Unpack(b); err != nil {
					t.Fatal(err)
				}
				if !m.Truncated || len(m.Answer) != 0 || len(b) > len(req) {
					t.Errorf("slipped reply: TC=%v, %d answers, %d bytes for a %d-byte query", m.Truncated, len(m.Answer), len(b), len(req))
				}
				got = append(got, "tc")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("limited queries (-want +got):\n%s", diff)
			}
		})
	}
}
