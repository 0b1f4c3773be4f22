package arptrace

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestScanTargets(t *testing.T) {
	tests := []struct {
		prefix      string
		force       bool
		n           int
		first, last string
		err         error
	}{
		{prefix: "192.0.2.0/24", n: 256, first: "192.0.2.0", last: "192.0.2.255"},
		{prefix: "192.0.2.77/24", n: 256, first: "192.0.2.0", last: "192.0.2.255"},
		{prefix: "192.0.2.0/30", n: 4, first: "192.0.2.0", last: "192.0.2.3"},
		{prefix: "192.0.2.9/32", n: 1, first: "192.0.2.9", last: "192.0.2.9"},
		{prefix: "10.0.0.0/20", n: 4096, first: "10.0.0.0", last: "10.0.15.255"},
		{prefix: "10.0.0.0/19", err: ErrTooLarge},
		{prefix: "10.0.0.0/16", force: true, n: 65536, first: "10.0.0.0", last: "10.0.255.255"},
		{prefix: "10.0.0.0/8", force: true, err: ErrTooLarge},
		{prefix: "2001:db8::/120", err: ErrInvalidAddress},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			got, err := ScanTargets(netip.MustParsePrefix(tc.prefix), tc.force)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n || got[0].String() != tc.first || got[len(got)-1].String() != tc.last {
				t.Errorf("got %d addresses %v..%v, want %d %s..%s", len(got), got[0], got[len(got)-1], tc.n, tc.first, tc.last)
			}
		})
	}
}

func TestParseScanTargets(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		force bool
		want  string // first..last/count
		err   error
	}{
		{"cidr", []string{"192.0.2.0/30"}, false, "192.0.2.0..192.0.2.3/4", nil},
		{"range", []string{"192.0.2.250-192.0.3.1"}, false, "192.0.2.250..192.0.3.1/8", nil},
		{"net:mask", []string{"192.0.2.8:255.255.255.252"}, false, "192.0.2.8..192.0.2.11/4", nil},
		{"list", []string{"192.0.2.7", "192.0.2.1"}, false, "192.0.2.7..192.0.2.1/2", nil},
		{"backwards range", []string{"192.0.2.9-192.0.2.1"}, false, "", ErrInvalidAddress},
		{"non-contiguous mask", []string{"192.0.2.0:255.0.255.0"}, false, "", ErrInvalidAddress},
		{"ipv6", []string{"2001:db8::1"}, false, "", ErrInvalidAddress},
		{"name with --numeric", []string{"printer.example.org"}, false, "", ErrInvalidAddress},
		{"too many in total", []string{"10.0.0.0/20", "10.1.0.0"}, false, "", ErrTooLarge},
		{"huge range", []string{"10.0.0.0-10.255.255.255"}, true, "", ErrTooLarge},
		{"none", nil, false, "", ErrInvalidAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseScanTargets(t.Context(), tc.args, nil, tc.force)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprintf("%v..%v/%d", got[0], got[len(got)-1], len(got)); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}

func TestOUI(t *testing.T) {
	const data = "# arp-scan style\n" +
		"00005E\tICANN, IANA Department\n" +
		"0050C27D5\tDEUTA-WERKE GmbH\n" + // MA-S entry: not a 24-bit OUI, skipped
		"00-1B-21   (hex)\t\tIntel Corporate\n" +
		"001B21     (base 16)\t\tIntel Corporate\n" +
		"garbage line\n"
	db, err := ParseOUI(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mac  string
		want string
	}{
		{"00:00:5e:00:53:01", "ICANN, IANA Department"},
		{"00:1b:21:aa:bb:cc", "Intel Corporate"},
		{"02:00:5e:00:00:01", "(Unknown: locally administered)"},
		{"00:50:c2:7d:50:00", "(Unknown)"},
	}
	for _, tc := range tests {
		t.Run(tc.mac, func(t *testing.T) {
			m, _ := ParseMAC(tc.mac)
			if got := db.Vendor(m); got != tc.want {
				t.Errorf("Vendor = %q, want %q", got, tc.want)
			}
		})
	}
	if db.Len() != 2 {
		t.Errorf("Len = %d, want 2", db.Len())
	}
	var none *OUIDB
	if got := none.Vendor(MAC{0, 0x1b, 0x21}); got != "(Unknown)" {
		t.Errorf("nil db Vendor = %q", got)
	}
	if _, err := LoadOUI(t.TempDir() + "/nope.txt"); err == nil {
		t.Error("LoadOUI of a missing file: no error")
	}
}
