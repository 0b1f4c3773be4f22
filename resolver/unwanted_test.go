package resolver

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// forgingServer answers every query with `wrong` replies carrying another
// ID (a blind forger's guesses from the server's own address), then the
// real reply.
func forgingServer(t *testing.T, wrong int) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			r := new(dns.Msg)
			r.SetReply(q)
			for i := range wrong {
				r.Id = q.Id + uint16(i) + 1
				b, _ := r.Pack()
				_, _ = pc.WriteTo(b, from)
			}
			r.Id = q.Id
			b, _ := r.Pack()
			_, _ = pc.WriteTo(b, from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestUnwantedReplies(t *testing.T) {
	server := forgingServer(t, 3)
	var seen atomic.Int64
	x := &NetExchanger{Timeout: 2 * time.Second, OnUnwanted: func(netip.AddrPort) { seen.Add(1) }}
	q := new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	if _, err := x.Exchange(t.Context(), q, "udp", server); err != nil {
		t.Fatalf("the real reply after three forgeries: %v", err)
	}
	if got := seen.Load(); got != 3 {
		t.Errorf("unwanted replies seen: %d, want 3", got)
	}

	tests := []struct {
		name      string
		threshold int64
		calls     int
		wantTrips uint64
	}{
		{"below the threshold", 5, 4, 0},
		{"at the threshold", 5, 5, 1},
		{"twice past it", 5, 12, 2},
		{"off", -1, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(Config{UnwantedReplyThreshold: tt.threshold})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for range tt.calls {
				r.unwantedReply(server)
			}
			total, trips := r.UnwantedReplies()
			if total != uint64(tt.calls) || trips != tt.wantTrips {
				t.Errorf("UnwantedReplies() = %d, %d; want %d, %d", total, trips, tt.calls, tt.wantTrips)
			}
		})
	}
}
