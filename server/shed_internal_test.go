package server

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// shedHierarchy delegates example.org. from a lab's root and org.
// servers (127.54.0.0/16, as the other server tests' labs).
var shedHierarchy = resolvertest.Hierarchy{Zones: map[string]string{
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
`,
	"example.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 127.54.3.1
www IN A 192.0.2.10
`,
}, Servers: []resolvertest.Host{
	{Name: "a.root.lab.", Addr: "127.54.0.1", Zones: []string{"."}},
	{Name: "ns1.nic.org.", Addr: "127.54.1.1", Zones: []string{"org."}},
	{Name: "ns1.example.org.", Addr: "127.54.3.1", Zones: []string{"example.org."}},
}}

// TestShedAllocations: a miss shed under a flood (it waited too long in
// the socket's queue, or no slot was free) for a name the resolver does
// not hold is answered SERVFAIL with one allocation (the name as a
// string, which the resolver's API takes; it was 14 before the
// resolver's probe), so shedding stays cheap however many misses a flood
// sends; a name the resolver holds is still answered from its cache.
func TestShedAllocations(t *testing.T) {
	lab := shedHierarchy.Start(t, resolvertest.Config{})
	r := labresolver.New(t, lab, nil)
	h, err := NewHandler(HandlerConfig{Settings: Settings{Resolver: r}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	s, err := New(Config{Handler: h, Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}})
	if err != nil {
		t.Fatal(err)
	}
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	pack := func(name string) []byte {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.SetEdns0(1232, false)
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The zone cut and a name of it in the resolver's cache, as under a
	// random-subdomain flood of a live zone.
	for _, name := range []string{"www.example.org.", "r1.example.org."} {
		if _, ok := h.Handle(context.Background(), pack(name), client, TransportUDP); !ok {
			t.Fatalf("%s: no reply", name)
		}
	}
	h.pc.flush() // answers come from the resolver's cache alone
	tests := []struct {
		name      string
		qname     string
		rcode     int
		maxAllocs float64
	}{
		{name: "a name the resolver does not hold: SERVFAIL", qname: "r2.example.org.", rcode: dns.RcodeServerFailure, maxAllocs: 1},
		// Bounded only against a runaway: the answer is built from the
		// resolver's records (24 allocations now).
		{name: "a name in the resolver's cache: its answer", qname: "www.example.org.", rcode: dns.RcodeSuccess, maxAllocs: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := pack(tt.qname)
			out := make([]byte, 0, maxReplyHint)
			old := time.Now().Add(-time.Hour) // a datagram long in the queue
			var rcode int
			n := testing.AllocsPerRun(100, func() {
				reply, send := s.udpQuery(nil, out[:0], req, client, old, time.Now())
				rcode = -1
				if send && len(reply) >= 4 {
					rcode = int(reply[3] & 0x0F)
				}
			})
			if rcode != tt.rcode {
				t.Errorf("rcode %d, want %d", rcode, tt.rcode)
			}
			if n > tt.maxAllocs {
				t.Errorf("%.0f allocations per shed query, want at most %.0f", n, tt.maxAllocs)
			}
			t.Logf("%.0f allocations per shed query", n)
		})
	}
}
