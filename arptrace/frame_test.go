package arptrace

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addrCmp() cmp.Option { return cmp.Comparer(func(a, b netip.Addr) bool { return a == b }) }

// mustHex decodes hex with spaces and newlines, for readable golden frames.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	macA = MAC{0x02, 0x00, 0x5e, 0x00, 0x00, 0x01}
	macB = MAC{0x02, 0x00, 0x5e, 0x00, 0x00, 0x02}
	ipA  = netip.MustParseAddr("192.0.2.1")
	ipB  = netip.MustParseAddr("192.0.2.2")
)

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want Frame
		err  error
	}{
		{
			name: "who-has",
			hex: `ffffffffffff 02005e000001 0806` + // eth dst, src, type ARP
				`0001 0800 06 04 0001` + // Ethernet, IPv4, hlen, plen, request
				`02005e000001 c0000201` + // sender MAC, IP 192.0.2.1
				`000000000000 c0000202` + // target MAC, IP 192.0.2.2
				`000000000000000000000000000000000000`, // padding to 60 bytes
			want: Frame{EthDst: Broadcast, EthSrc: macA, Op: 1, Kind: KindRequest, SenderMAC: macA, SenderIP: ipA, TargetIP: ipB},
		},
		{
			name: "is-at",
			hex:  `02005e000001 02005e000002 0806 0001 0800 06 04 0002 02005e000002 c0000202 02005e000001 c0000201`,
			want: Frame{EthDst: macA, EthSrc: macB, Op: 2, Kind: KindReply, SenderMAC: macB, SenderIP: ipB, TargetMAC: macA, TargetIP: ipA},
		},
		{
			name: "probe",
			hex:  `ffffffffffff 02005e000001 0806 0001 0800 06 04 0001 02005e000001 00000000 000000000000 c0000202`,
			want: Frame{EthDst: Broadcast, EthSrc: macA, Op: 1, Kind: KindProbe, SenderMAC: macA,
				SenderIP: netip.IPv4Unspecified(), TargetIP: ipB},
		},
		{
			name: "gratuitous",
			hex:  `ffffffffffff 02005e000001 0806 0001 0800 06 04 0001 02005e000001 c0000201 000000000000 c0000201`,
			want: Frame{EthDst: Broadcast, EthSrc: macA, Op: 1, Kind: KindGratuitous, SenderMAC: macA, SenderIP: ipA, TargetIP: ipA},
		},
		{name: "ipv4 not arp", hex: `ffffffffffff 02005e000001 0800 4500`, err: ErrNotARP},
		{name: "rarp op", hex: `ffffffffffff 02005e000001 0806 0001 0800 06 04 0003 02005e000001 c0000201 000000000000 c0000201`, err: ErrNotARP},
		{name: "not ipv4", hex: `ffffffffffff 02005e000001 0806 0001 86dd 06 04 0001 02005e000001 c0000201 000000000000 c0000201`, err: ErrNotEthernetIPv4},
		{name: "truncated", hex: `ffffffffffff 02005e000001 0806 0001 0800 06 04 0001 02005e`},
		{name: "empty", hex: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeFrame(mustHex(t, tc.hex))
			if tc.want == (Frame{}) {
				if err == nil {
					t.Fatalf("DecodeFrame = %+v, want an error", got)
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, addrCmp()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Round trip: encoding the decoded frame gives the same ARP bytes.
			b, err := EncodeFrame(got)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != 60 {
				t.Errorf("encoded %d bytes, want 60 (padded)", len(b))
			}
			again, err := DecodeFrame(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, again, addrCmp()); diff != "" {
				t.Errorf("round trip (-first +second):\n%s", diff)
			}
		})
	}
}

// FuzzDecodeFrame: decoding never panics, and whatever decodes re-encodes
// to a frame that decodes to the same value.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`ffffffffffff02005e0000010806000108000604000102005e000001c0000201000000000000c0000202`,
		`02005e00000102005e0000020806000108000604000202005e000002c000020202005e000001c0000201`,
		`ffffffffffff02005e0000010806000108000604000102005e00000100000000000000000000c0000202`,
		`ffffffffffff02005e0000018100000108060001080006040001`,
		``,
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			return
		}
		out, err := EncodeFrame(fr)
		if err != nil {
			t.Fatalf("EncodeFrame(%+v): %v", fr, err)
		}
		again, err := DecodeFrame(out)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if diff := cmp.Diff(fr, again, addrCmp()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func TestMACText(t *testing.T) {
	m, err := ParseMAC("02:00:5E:00:00:01")
	if err != nil || m != macA {
		t.Fatalf("ParseMAC = %v, %v", m, err)
	}
	b, _ := m.MarshalText()
	if got, want := string(b), "02:00:5e:00:00:01"; got != want {
		t.Errorf("MarshalText = %q, want %q", got, want)
	}
	if _, err := ParseMAC("00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"); err == nil {
		t.Error("ParseMAC accepted a 20-byte address")
	}
}

func TestNUDStateName(t *testing.T) {
	tests := []struct {
		state uint16
		want  string
	}{
		{0x01, "INCOMPLETE"}, {0x02, "REACHABLE"}, {0x04, "STALE"}, {0x08, "DELAY"}, {0x10, "PROBE"},
		{0x20, "FAILED"}, {0x40, "NOARP"}, {0x80, "PERMANENT"}, {0, "NONE"}, {0x06, "REACHABLE|STALE"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := NUDStateName(tc.state); got != tc.want {
				t.Errorf("NUDStateName(%#x) = %q, want %q", tc.state, got, tc.want)
			}
		})
	}
}
