//go:build linux

package cli

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/addrwalk/addrwalk/ndptrace"
)

// dadPolls bounds the wait for DAD to finish on the lab's addresses: the
// kernel's DAD takes one second (dad_transmits 1, retrans_time 1 s); 400
// polls 10 ms apart allow four before the test fails with the reason.
const dadPolls = 400

// waitNotTentative waits until no IPv6 address of dev (default eth0) in
// ns is still tentative (in duplicate address detection): a tentative
// address does not answer solicitations. It polls the kernel's own flag.
func waitNotTentative(t *testing.T, lab *netlab.Lab, ns string, dev ...string) {
	t.Helper()
	ifname := "eth0"
	if len(dev) > 0 {
		ifname = dev[0]
	}
	for i := 0; ; i++ {
		out, err := lab.Exec(ns, "ip", "-6", "-o", "addr", "show", "dev", ifname, "tentative")
		if err == nil && strings.TrimSpace(string(out)) == "" {
			return
		}
		if i >= dadPolls {
			t.Fatalf("addresses in %s still tentative after %d polls: %s %v", ns, dadPolls, out, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNdpCLI runs `addrwalk ndp` in two veth labs, one whose addresses
// skip DAD (nodad) and one where the kernel runs DAD, and checks the NS
// and NA on the wire, DAD from ::, and that ndisc6 sees the same MAC.
func TestNdpCLI(t *testing.T) {
	netlab.Require(t)
	if _, err := exec.LookPath("ndisc6"); err != nil {
		t.Fatalf("ndisc6 (Debian package ndisc6) not found: %v", err)
	}
	for _, dad := range []bool{false, true} {
		name := "dad off"
		if dad {
			name = "dad on"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lab := netlab.New(t)
			h1, h2 := lab.Pair("", "")
			flag := " nodad"
			if dad {
				flag = ""
			}
			lab.Batch(h1.NS, "addr add 2001:db8::1/64 dev eth0"+flag)
			lab.Batch(h2.NS, "addr add 2001:db8::2/64 dev eth0"+flag)
			waitNotTentative(t, lab, h1.NS)
			waitNotTentative(t, lab, h2.NS)
			upper := strings.ToUpper(h2.MAC)
			tests := []struct {
				name     string
				args     []string
				wantCode int
				want     []string
			}{
				{"reply", []string{"ndp", "2001:db8::2"}, ExitOK, []string{
					"Soliciting 2001:db8::2 (2001:db8::2) on eth0...",
					"  route: 2001:db8::2 is on-link on eth0",
					"-> #1 NS who-has 2001:db8::2  [eth " + h1.MAC + " > 33:33:ff:00:00:02; ip 2001:db8::1 > ff02::1:ff00:2 (solicited-node); SLLA " + h1.MAC + "]",
					"<- #1 NA 2001:db8::2 is-at " + h2.MAC + "  flags R=0 S=1 O=1, TLLA " + h2.MAC + "  [eth " + h2.MAC + " > " + h1.MAC + "; ip 2001:db8::2 > 2001:db8::1]",
					"Target link-layer address: " + upper + "\n from 2001:db8::2\n", "sent 1 NS, received 1 NA"}},
				{"ndisc6 style interface", []string{"ndp", "-q", "2001:db8::2", "eth0"}, ExitOK, []string{upper + "\n"}},
				{"dad in use", []string{"ndp", "-D", "-r", "1", "2001:db8::2"}, ExitNoReply, []string{
					"ip :: > ff02::1:ff00:2 (solicited-node); no SLLA (DAD)",
					"flags R=0 S=0 O=1, TLLA " + h2.MAC + "  [eth " + h2.MAC + " > 33:33:00:00:00:01; ip 2001:db8::2 > ff02::1]",
					"DAD: 2001:db8::2 is in use by " + h2.MAC}},
				{"dad free", []string{"ndp", "-D", "-r", "1", "-w", "150", "2001:db8::77"}, ExitOK, []string{"DAD: 2001:db8::77 appears free"}},
				{"no reply", []string{"ndp", "-r", "2", "-w", "100", "2001:db8::9"}, ExitNoReply, []string{"<- #2 no advertisement", "No response.", "sent 2 NS, received 0 NA"}},
				{"ipv4 goes to arp", []string{"ndp", "192.0.2.1"}, ExitUsage, nil},
				{"link-local needs an interface", []string{"ndp", "fe80::1"}, ExitUsage, nil},
				{"loopback", []string{"ndp", "::1", "-I", "lo"}, ExitUsage, nil},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					code, out, errOut := runArpIn(t, h1.NS, tc.args...)
					if code != tc.wantCode {
						t.Errorf("exit %d, want %d\n%s%s", code, tc.wantCode, out, errOut)
					}
					for _, w := range tc.want {
						if !strings.Contains(out, w) {
							t.Errorf("stdout lacks %q:\n%s", w, out)
						}
					}
				})
			}

			// The link-local address, and ndisc6 for the same answer.
			ll := lab.IP("-n", h2.NS, "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link")
			f := strings.Fields(ll)
			if len(f) < 4 {
				t.Fatalf("no link-local address: %q", ll)
			}
			llAddr, _, _ := strings.Cut(f[3], "/")
			code, out, errOut := runArpIn(t, h1.NS, "ndp", "--json", "-I", "eth0", llAddr)
			var tr ndptrace.Trace
			if err := json.Unmarshal([]byte(out), &tr); err != nil || code != ExitOK {
				t.Fatalf("ndp --json %s: exit %d, %v\n%s%s", llAddr, code, err, out, errOut)
			}
			if len(tr.Summary.MACs) != 1 || tr.Summary.MACs[0].String() != h2.MAC || !tr.Source.IsLinkLocalUnicast() {
				t.Errorf("link-local trace: MACs %v source %v, want %s from a link-local source", tr.Summary.MACs, tr.Source, h2.MAC)
			}
			ref, err := lab.Exec(h1.NS, "ndisc6", "-q", "-r", "3", "2001:db8::2", "eth0")
			if err != nil {
				t.Fatalf("ndisc6: %v: %s", err, ref)
			}
			if got := strings.TrimSpace(string(ref)); got != upper {
				t.Errorf("ndisc6 saw %q, addrwalk %s", got, upper)
			}
		})
	}
}

// TestNdpCacheMatchesIPNeigh: `ndp cache` lists what `ip -6 neigh` does.
func TestNdpCacheMatchesIPNeigh(t *testing.T) {
	lab := netlab.New(t)
	h1, _ := lab.Pair("", "")
	lab.Batch(h1.NS, "addr add 2001:db8::1/64 dev eth0 nodad",
		"neigh replace 2001:db8::2 lladdr 02:00:5e:00:53:02 dev eth0 nud reachable",
		"neigh replace 2001:db8::3 lladdr 02:00:5e:00:53:03 dev eth0 nud permanent",
		"neigh replace 2001:db8::4 lladdr 02:00:5e:00:53:04 dev eth0 nud stale router",
		"neigh replace 2001:db8::5 lladdr 02:00:5e:00:53:05 dev eth0 nud noarp")
	ref, err := lab.Exec(h1.NS, "ip", "-6", "neigh", "show")
	if err != nil {
		t.Fatalf("ip -6 neigh: %v: %s", err, ref)
	}
	code, out, errOut := runArpIn(t, h1.NS, "ndp", "cache")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(ref)), "\n") {
		if !strings.Contains(out, strings.TrimSpace(l)+" (updated") {
			t.Errorf("ndp cache lacks ip -6 neigh's %q:\n%s", l, out)
		}
	}
	if strings.Contains(out, "2001:db8::5") {
		t.Errorf("ndp cache shows the NOARP entry without --all:\n%s", out)
	}
}
