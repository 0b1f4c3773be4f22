package ndptrace

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/arptrace"
)

var (
	macA = arptrace.MAC{0x02, 0, 0x5e, 0, 0x53, 0x01}
	macB = arptrace.MAC{0x02, 0, 0x5e, 0, 0x53, 0x02}
)

func addrCmp() cmp.Option { return cmp.Comparer(func(a, b netip.Addr) bool { return a == b }) }

func TestFrameRoundTrip(t *testing.T) {
	target := netip.MustParseAddr("2001:db8::2")
	snm := netip.MustParseAddr("ff02::1:ff00:2")
	tests := []struct {
		name string
		f    Frame
		enc  func(Frame) ([]byte, error)
		dec  func([]byte) (Frame, error)
	}{
		{"NS with SLLA", Frame{EthDst: MulticastMAC(snm), EthSrc: macA, Src: netip.MustParseAddr("2001:db8::1"), Dst: snm,
			Type: "NS", Target: target, LLAddr: macA}, EncodeNS, DecodeNS},
		{"DAD NS from ::", Frame{EthDst: MulticastMAC(snm), EthSrc: macA, Src: netip.IPv6Unspecified(), Dst: snm,
			Type: "NS", Target: target}, EncodeNS, DecodeNS},
		{"solicited NA", Frame{EthDst: macA, EthSrc: macB, Src: target, Dst: netip.MustParseAddr("2001:db8::1"),
			Type: "NA", Target: target, Solicited: true, Override: true, LLAddr: macB}, EncodeNA, DecodeNA},
		{"router NA without TLLA", Frame{EthDst: MulticastMAC(netip.MustParseAddr("ff02::1")), EthSrc: macB, Src: target,
			Dst: netip.MustParseAddr("ff02::1"), Type: "NA", Target: target, Router: true}, EncodeNA, DecodeNA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.enc(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if b[14+7] != 255 {
				t.Errorf("hop limit %d, want 255", b[14+7])
			}
			got, err := tc.dec(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.f, got, addrCmp()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	if got := MulticastMAC(snm).String(); got != "33:33:ff:00:00:02" {
		t.Errorf("MulticastMAC = %s", got)
	}
}

func TestDecodeNARejects(t *testing.T) {
	good, err := EncodeNA(Frame{EthDst: macA, EthSrc: macB, Src: netip.MustParseAddr("fe80::2"),
		Dst: netip.MustParseAddr("fe80::1"), Target: netip.MustParseAddr("fe80::2"), Solicited: true})
	if err != nil {
		t.Fatal(err)
	}
	hop := append([]byte(nil), good...)
	hop[14+7] = 64
	ns, _ := EncodeNS(Frame{EthDst: macA, EthSrc: macB, Src: netip.MustParseAddr("fe80::2"),
		Dst: netip.MustParseAddr("fe80::1"), Target: netip.MustParseAddr("fe80::1")})
	for name, b := range map[string][]byte{"short": good[:20], "forwarded (hop limit 64)": hop, "an NS": ns,
		"truncated payload": good[:len(good)-4]} {
		if _, err := DecodeNA(b); err == nil {
			t.Errorf("%s: no error", name)
		} else if name != "truncated payload" && !errors.Is(err, ErrNotNA) {
			t.Errorf("%s: %v, want ErrNotNA", name, err)
		}
	}
}

func FuzzDecodeNA(f *testing.F) {
	b, _ := EncodeNA(Frame{EthDst: macA, EthSrc: macB, Src: netip.MustParseAddr("fe80::2"),
		Dst: netip.MustParseAddr("fe80::1"), Target: netip.MustParseAddr("fe80::2"), Override: true, LLAddr: macB})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeNA(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same frame.
		b2, err := EncodeNA(fr)
		if err != nil {
			return // e.g. a v4-mapped source
		}
		fr2, err := DecodeNA(b2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if diff := cmp.Diff(fr, fr2, addrCmp()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
