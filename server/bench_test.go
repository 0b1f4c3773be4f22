package server_test

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// BenchmarkHandleCacheHit measures the query path for a packet-cache hit:
// parse, ACL, lookup, copy and patch, OPT. AppendHandle reuses the reply
// buffer as the UDP listener does; Handle allocates it.
func BenchmarkHandleCacheHit(b *testing.B) {
	lab := startLab(b)
	m := server.NewMetrics()
	h := newHandler(b, lab, func(c *server.HandlerConfig) { c.Metrics = m })
	q := question("WWW.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	req := pack(b, q)
	client := netip.MustParseAddrPort(loopClient)
	if _, ok := h.Handle(b.Context(), req, client, server.TransportUDP); !ok {
		b.Fatal("dropped")
	}
	b.Run("AppendHandle", func(b *testing.B) {
		ctx := b.Context()
		out := make([]byte, 0, 1500)
		b.ReportAllocs()
		for b.Loop() {
			out, _ = h.AppendHandle(ctx, out[:0], req, client, server.TransportUDP)
		}
	})
	b.Run("Handle", func(b *testing.B) {
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			_, _ = h.Handle(ctx, req, client, server.TransportUDP)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			out := make([]byte, 0, 1500)
			for pb.Next() {
				out, _ = h.AppendHandle(b.Context(), out[:0], req, client, server.TransportUDP)
			}
		})
	})
}
