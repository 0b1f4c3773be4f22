//go:build linux

package cli

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/google/go-cmp/cmp"
)

// scanLabHosts is the side-by-side scan lab: the scanner, 30 hosts that
// answer, 2 silent ones, and one more claiming an answering host's IP.
const (
	scanLabHosts  = 34
	scanSilentA   = 32 // hosts 32 and 33 have no address: they never answer
	scanDupHost   = 34 // also holds 192.0.2.5 (host 5's address)
	scanLabPrefix = "192.0.2.0/26"
)

// arpScanView keeps the host lines of arp-scan's output (IP, MAC and the
// DUP flag; vendors come from files that may differ), sorted, plus the
// "N responded" count of the footer.
func arpScanView(out string) []string {
	var v []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		switch {
		case len(f) >= 2 && strings.HasPrefix(f[0], "192.0.2."):
			// Which of two MACs answers first is a race: keep the pair
			// and, apart, that the IP was flagged.
			v = append(v, f[0]+" "+f[1])
			if strings.Contains(line, "(DUP: ") {
				v = append(v, "DUP "+f[0])
			}
		case strings.HasPrefix(line, "Ending "):
			if _, after, ok := strings.Cut(line, "). "); ok {
				v = append(v, "footer: "+after)
			}
		}
	}
	slices.Sort(v)
	return v
}

// TestArpScanSideBySide scans a bridge of 34 namespaced hosts (30
// answering, 2 silent, one duplicate IP) with arp-scan and with `addrwalk
// arp scan` using the same options, and wants the same hosts, the same
// duplicates flagged and the same count of responders. Wall times are
// logged (the ratio is reported, not asserted: timing belongs to bench).
func TestArpScanSideBySide(t *testing.T) {
	netlab.Require(t)
	if _, err := exec.LookPath("arp-scan"); err != nil {
		t.Fatalf("arp-scan (Debian package arp-scan) not found: %v", err)
	}
	lab := netlab.New(t)
	hosts := lab.Bridge(scanLabHosts, scanLabPrefix)
	for _, h := range hosts[scanSilentA-1 : scanDupHost-1] {
		lab.Batch(h.NS, "addr flush dev eth0")
	}
	lab.Batch(hosts[scanDupHost-1].NS, "addr flush dev eth0", "addr add 192.0.2.5/26 dev eth0")
	scanner := hosts[0].NS

	var want []string
	for _, h := range hosts[1 : scanSilentA-1] {
		want = append(want, h.Addr.Addr().String()+" "+h.MAC)
	}
	want = append(want, "192.0.2.5 "+hosts[scanDupHost-1].MAC, "DUP 192.0.2.5", "footer: 30 responded")
	slices.Sort(want)

	tests := []struct {
		name string
		args []string
	}{
		{"defaults", []string{scanLabPrefix}},
		{"quiet plain random", []string{"-q", "-x", "-R", scanLabPrefix}},
		{"short timeout one try", []string{"-t", "100", "-r", "1", "192.0.2.0-192.0.2.63"}},
		{"localnet interval", []string{"-l", "-i", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-I", "eth0"}, tc.args...)
			start := time.Now()
			ref := runInNS(t, scanner, nil, append([]string{"arp-scan"}, args...)...)
			refTime := time.Since(start)
			start = time.Now()
			got := runAddrwalkInNS(t, scanner, append([]string{"arp", "scan"}, args...)...)
			gotTime := time.Since(start)
			// addrwalk here is the test binary, built with -race when the
			// suite runs so: bench/arpscan.sh measures a normal build.
			t.Logf("wall time: arp-scan %v, addrwalk %v (ratio %.2f)", refTime.Round(time.Millisecond),
				gotTime.Round(time.Millisecond), gotTime.Seconds()/refTime.Seconds())
			if ref.code != 0 || got.code != 0 {
				t.Fatalf("exit: arp-scan %d, addrwalk %d\n%s%s\n%s%s", ref.code, got.code, ref.out, ref.err, got.out, got.err)
			}
			wantView := slices.DeleteFunc(slices.Clone(want), func(s string) bool {
				return (slices.Contains(tc.args, "-x") && strings.HasPrefix(s, "footer")) ||
					(slices.Contains(tc.args, "-q") && strings.HasPrefix(s, "DUP")) // -q: ${ip} ${mac} only
			})
			if diff := cmp.Diff(wantView, arpScanView(ref.out)); diff != "" {
				t.Errorf("arp-scan vs the lab (-lab +arp-scan):\n%s\n%s", diff, ref.out)
			}
			if diff := cmp.Diff(arpScanView(ref.out), arpScanView(got.out)); diff != "" {
				t.Errorf("(-arp-scan +addrwalk):\n%s\naddrwalk:\n%s", diff, got.out)
			}
		})
	}
}
