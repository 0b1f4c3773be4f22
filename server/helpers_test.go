package server_test

import (
	"context"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
	"github.com/addrwalk/addrwalk/server"
)

// labHierarchy is the hierarchy these tests resolve in. Every lab server
// is on 127.54.0.0/16; servers under test listen on 127.55.0.0/16. Other
// packages' labs use other /16s.
var labHierarchy = resolvertest.Hierarchy{Zones: map[string]string{
	".": `
$TTL 86400
@ IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
a.root.lab. IN A 127.54.0.1
org. IN NS ns1.nic.org.
ns1.nic.org. IN A 127.54.1.1
`,
	"org.": `
$TTL 86400
@ IN SOA ns1.nic.org. hostmaster.nic.org. 1 1800 900 604800 3600
@ IN NS ns1.nic.org.
ns1.nic IN A 127.54.1.1
example IN NS ns1.example
ns1.example IN A 127.54.3.1
slow IN NS ns1.slow
ns1.slow IN A 127.54.4.1
fwd IN NS ns1.fwd
ns1.fwd IN A 127.54.5.1
`,
	"example.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 127.54.3.1
www IN A 192.0.2.10
www IN AAAA 2001:db8::10
alias IN CNAME www
big IN TXT "` + strings.Repeat("x", 250) + `" "` + strings.Repeat("y", 250) + `" "` + strings.Repeat("z", 250) + `"
big IN TXT "` + strings.Repeat("a", 250) + `" "` + strings.Repeat("b", 250) + `" "` + strings.Repeat("c", 250) + `"
`,
	"slow.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 127.54.4.1
www IN A 192.0.2.40
a IN A 192.0.2.41
b IN A 192.0.2.42
`,
	"fwd.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 127.54.5.1
www IN A 192.0.2.50
`,
}, Servers: []resolvertest.Host{
	{Name: "a.root.lab.", Addr: "127.54.0.1", Zones: []string{"."}},
	{Name: "ns1.nic.org.", Addr: "127.54.1.1", Zones: []string{"org."}},
	{Name: "ns1.example.org.", Addr: "127.54.3.1", Zones: []string{"example.org."}},
	{Name: "ns1.slow.org.", Addr: "127.54.4.1", Zones: []string{"slow.org."}},
	{Name: "ns1.fwd.org.", Addr: "127.54.5.1", Zones: []string{"fwd.org."}},
}}

// testLab is a started lab and a count of queries it received.
type testLab struct {
	*resolvertest.Lab
	queries atomic.Int64
	// arrived receives the name of each query to the slow server.
	arrived chan string
}

func startLab(t testing.TB) *testLab {
	t.Helper()
	tl := &testLab{arrived: make(chan string, 64)}
	tl.Lab = labHierarchy.Start(t, resolvertest.Config{OnQuery: func(q resolvertest.Query) {
		tl.queries.Add(1)
		if q.Server == "ns1.slow.org." {
			select {
			case tl.arrived <- q.Name:
			default:
			}
		}
	}})
	return tl
}

// newResolver returns a resolver pointed at the lab.
func newResolver(t testing.TB, lab *testLab, mod func(*resolver.Config)) *resolver.Resolver {
	t.Helper()
	return labresolver.New(t, lab.Lab, func(c *resolver.Config) {
		c.QueryTimeout = 2 * time.Second
		if mod != nil {
			mod(c)
		}
	})
}

// newHandler returns a handler resolving through the lab.
func newHandler(t testing.TB, lab *testLab, mod func(*server.HandlerConfig)) *server.Handler {
	t.Helper()
	cfg := server.HandlerConfig{Settings: server.Settings{Resolver: newResolver(t, lab, nil)}}
	if mod != nil {
		mod(&cfg)
	}
	h, err := server.NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// nextListen hands out a distinct listen address per server under test.
var listenSeq atomic.Uint32

func listenAddr() netip.AddrPort {
	n := listenSeq.Add(1)
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 55, byte(n >> 8), byte(n)}), 0)
}

// startServer starts a server for h on a fresh 127.55.x.y address.
func startServer(t testing.TB, h *server.Handler, mod func(*server.Config)) *server.Server {
	t.Helper()
	cfg := server.Config{Listen: []netip.AddrPort{listenAddr()}, Handler: h}
	if mod != nil {
		mod(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// exchange sends m to addr over network and returns the reply.
func exchange(t testing.TB, addr netip.AddrPort, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr.String())
	if err != nil {
		t.Fatalf("exchange %s %s: %v", network, m.Question[0].Name, err)
	}
	return r
}

// question builds a query with RD set.
func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// withEDNS adds an OPT record.
func withEDNS(m *dns.Msg, size uint16, do bool) *dns.Msg {
	m.SetEdns0(size, do)
	return m
}

// pack packs m or fails the test.
func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	return b
}

// handle runs the query path directly and unpacks the reply.
func handle(t testing.TB, h *server.Handler, client string, req []byte) *dns.Msg {
	t.Helper()
	resp, ok := h.Handle(t.Context(), req, netip.MustParseAddrPort(client), server.TransportUDP)
	if !ok {
		t.Fatalf("query dropped")
	}
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	return m
}

// ede returns the Extended DNS Error of m, or nil.
func ede(m *dns.Msg) *dns.EDNS0_EDE {
	opt := m.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok {
			return e
		}
	}
	return nil
}

// edeCodes returns the codes of every Extended DNS Error of m, in order.
func edeCodes(m *dns.Msg) []uint16 {
	var out []uint16
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				out = append(out, e.InfoCode)
			}
		}
	}
	return out
}

// rrTexts returns the records as text with TTLs zeroed.
func rrTexts(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		out = append(out, c.String())
	}
	return out
}

// newResolverWithForward returns a resolver that forwards zone to server.
func newResolverWithForward(t testing.TB, lab *testLab, zone string, server netip.AddrPort) *resolver.Resolver {
	return newResolver(t, lab, func(c *resolver.Config) {
		c.Forward = []resolver.ZoneConfig{{Zone: zone, Servers: []netip.AddrPort{server}}}
	})
}

// slowFaults delays every reply by d.
func slowFaults(d time.Duration) resolvertest.Faults { return resolvertest.Faults{Latency: d} }

// dropAll makes every server of lab drop every query (dead), or answer
// again.
func dropAll(lab *testLab, drop bool) {
	for _, srv := range labHierarchy.Servers {
		lab.Server(srv.Name).SetFaults(resolvertest.Faults{Drop: drop})
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// lower folds the texts to lower case.
func lower(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, strings.ToLower(s))
	}
	return out
}

// fakeClock is a clock tests move by hand; safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
