package server_test

import (
	"net"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// dialUDP opens a client socket to addr (a loopback address).
func dialUDP(t testing.TB, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("dial %v: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readIDs reads n replies from c (each within 5 s) and returns their IDs,
// sorted; a reply that does not parse fails the test.
func readIDs(t testing.TB, c *net.UDPConn, n int) []uint16 {
	t.Helper()
	buf := make([]byte, 65535)
	ids := make([]uint16, 0, n)
	for range n {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read reply %d of %d: %v", len(ids)+1, n, err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:k]); err != nil {
			t.Fatalf("unpack reply: %v", err)
		}
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
			t.Errorf("reply %d: %s with %d answers, want NOERROR with the address", m.Id, dns.RcodeToString[m.Rcode], len(m.Answer))
		}
		ids = append(ids, m.Id)
	}
	slices.Sort(ids)
	return ids
}

// TestUDPBatches sends bursts of queries without waiting, so the reader
// gets several per read (recvmmsg), and checks every one is answered
// once, with its own ID; a datagram too big for a read slot is dropped
// without disturbing the queries around it.
func TestUDPBatches(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	s := startServer(t, h, nil)
	addr := s.Addrs()[0]
	exchange(t, addr, "udp", question("www.example.org.", dns.TypeA)) // cached from here on

	tests := []struct {
		name      string
		queries   int  // sent back to back before reading
		oversized bool // a 5000-octet datagram in the middle of the burst
	}{
		{"one", 1, false},
		{"a batch", 32, false},
		{"more than a batch", 100, false},
		{"oversized datagram in a burst", 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialUDP(t, addr)
			var want []uint16
			for i := range tt.queries {
				if tt.oversized && i == tt.queries/2 {
					junk := make([]byte, 5000)
					copy(junk, pack(t, question("www.example.org.", dns.TypeA)))
					if _, err := c.Write(junk); err != nil {
						t.Fatal(err)
					}
				}
				q := question("WWW.example.org.", dns.TypeA)
				q.Id = uint16(1000 + i)
				want = append(want, q.Id)
				if _, err := c.Write(pack(t, q)); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want, readIDs(t, c, len(want))); diff != "" {
				t.Errorf("reply IDs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCacheHitAllocs: a packet-cache hit allocates nothing on the query
// path the listeners use (parse, ACL, rate limit, lookup, copy and patch,
// OPT, metrics).
func TestCacheHitAllocs(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, func(c *server.HandlerConfig) { c.Metrics = server.NewMetrics() })
	client := netip.MustParseAddrPort(loopClient)
	tests := []struct {
		name string
		q    *dns.Msg
	}{
		{"plain", question("www.example.org.", dns.TypeA)},
		{"EDNS and DO, other case", withEDNS(question("WwW.Example.ORG.", dns.TypeA), 1232, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := pack(t, tt.q)
			if _, ok := h.Handle(t.Context(), req, client, server.TransportUDP); !ok {
				t.Fatal("dropped")
			}
			out := make([]byte, 0, 1500)
			ctx := t.Context()
			allocs := testing.AllocsPerRun(100, func() {
				out, _ = h.AppendHandle(ctx, out[:0], req, client, server.TransportUDP)
			})
			if allocs != 0 {
				t.Errorf("a cache hit allocates %v times, want 0", allocs)
			}
		})
	}
}

// TestUDPQueueWaitMetric: every UDP query a listener reads is counted in
// addrwalk_udp_queue_wait_seconds with its wait in the socket's queue
// (Linux, where the kernel stamps each datagram), short on an idle server.
func TestUDPQueueWaitMetric(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("receive time stamps are read on Linux only")
	}
	lab := startLab(t)
	m := server.NewMetrics()
	h := newHandler(t, lab, func(c *server.HandlerConfig) { c.Metrics = m })
	s := startServer(t, h, nil)
	const queries = 3
	for range queries {
		exchange(t, s.Addrs()[0], "udp", question("www.example.org.", dns.TypeA))
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	var sum float64
	for _, f := range fams {
		if f.GetName() == "addrwalk_udp_queue_wait_seconds" {
			for _, mt := range f.GetMetric() {
				count += mt.GetHistogram().GetSampleCount()
				sum += mt.GetHistogram().GetSampleSum()
			}
		}
	}
	if count != queries {
		t.Errorf("queue waits counted %d, want %d", count, queries)
	}
	// Generous: an idle reader takes microseconds, a loaded test machine
	// may take milliseconds; a wrong stamp or unit is off by far more.
	if sum < 0 || sum > queries*1.0 {
		t.Errorf("queue waits sum to %v s over %d queries", sum, queries)
	}
}

// BenchmarkUDPCacheHit measures the whole UDP path of a packet-cache hit
// over loopback: client write, the server's read, answer and write, the
// client's read. "serial" waits for each reply (latency); "burst32" sends
// 32 queries, then reads 32 replies (what batching amortises).
func BenchmarkUDPCacheHit(b *testing.B) {
	lab := startLab(b)
	h := newHandler(b, lab, nil)
	s := startServer(b, h, nil)
	addr := s.Addrs()[0]
	exchange(b, addr, "udp", question("www.example.org.", dns.TypeA))
	req := pack(b, question("www.example.org.", dns.TypeA))
	for _, burst := range []int{1, 32} {
		name := "serial"
		if burst > 1 {
			name = "burst32"
		}
		b.Run(name, func(b *testing.B) {
			c := dialUDP(b, addr)
			buf := make([]byte, 1500)
			b.ReportAllocs()
			for b.Loop() {
				for range burst {
					if _, err := c.Write(req); err != nil {
						b.Fatal(err)
					}
				}
				for range burst {
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := c.Read(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/query")
		})
	}
}
