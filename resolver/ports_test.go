package resolver

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in      string
		want    PortRange
		wantErr bool
	}{
		{"5353", PortRange{5353, 5353}, false},
		{"8000-8100", PortRange{8000, 8100}, false},
		{" 8000 - 8100 ", PortRange{8000, 8100}, false},
		{"8100-8000", PortRange{}, true},
		{"70000", PortRange{}, true},
		{"x", PortRange{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePortRange(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSourcePorts(t *testing.T) {
	all, err := NewSourcePorts(nil)
	if err != nil {
		t.Fatal(err)
	}
	if all.Len() != 65536-1024 {
		t.Errorf("Len %d, want %d", all.Len(), 65536-1024)
	}
	if b := all.EntropyBits(); b < 15.97 || b > 15.98 {
		t.Errorf("EntropyBits %.3f, want log2(64512) = 15.977", b)
	}
	if _, err := NewSourcePorts([]PortRange{{0, 65535}}); err == nil {
		t.Error("every port excluded: no error")
	}

	// Sockets really use the drawn ports: from the whole range by
	// default, never from an excluded range.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	server := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	upper, err := NewSourcePorts([]PortRange{{1024, 59999}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sp   *SourcePorts
		ok   func(uint16) bool
		// minOutsideEphemeral is how many of the draws must fall
		// outside Linux's default ephemeral range 32768-60999.
		minOutsideEphemeral int
	}{
		// Uniform over 64 512 ports, 56% fall outside; 25% of 200 draws
		// is a bound a fair draw misses with negligible probability.
		{"whole range", all, func(p uint16) bool { return p >= 1024 }, 50},
		{"exclude 1024-59999", upper, func(p uint16) bool { return p >= 60000 }, 1},
	}
	// A nil Dialer is NetExchanger's default (net.DialUDP); a given one
	// dials through net.Dialer.
	dialers := []struct {
		name string
		d    *net.Dialer
	}{{"default", nil}, {"given dialer", &net.Dialer{}}}
	for _, tt := range tests {
		for _, dt := range dialers {
			t.Run(tt.name+"/"+dt.name, func(t *testing.T) {
				outside := 0
				for range 200 {
					c, err := dialUDP(t.Context(), dt.d, tt.sp, server)
					if err != nil {
						t.Fatal(err)
					}
					p := netip.MustParseAddrPort(c.LocalAddr().String()).Port()
					c.Close()
					if !tt.ok(p) {
						t.Fatalf("source port %d outside the set", p)
					}
					if p < 32768 || p > 60999 {
						outside++
					}
				}
				if outside < tt.minOutsideEphemeral {
					t.Errorf("%d of 200 ports outside the kernel's ephemeral range, want >= %d", outside, tt.minOutsideEphemeral)
				}
			})
		}
	}
}
