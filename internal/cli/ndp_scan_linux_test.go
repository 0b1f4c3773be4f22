//go:build linux

package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/addrwalk/addrwalk/ndptrace"
)

// TestNdpScan scans a bridge of IPv6 hosts from h1: the three hosts and
// the bridge that answer
// echoes to ff02::1 are listed with their link-local addresses and MACs,
// the one that ignores multicast echoes is not, a neighbour entry nobody
// answers for shows in the cache listing, --json streams one line per
// reply and a summary, and the kernel's own cache (ip -6 neigh) holds
// the same MACs afterwards.
func TestNdpScan(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(5, "192.0.2.0/24")
	silent := hosts[4]
	if out, err := lab.Exec(silent.NS, "sysctl", "-qw", "net.ipv6.icmp.echo_ignore_multicast=1"); err != nil {
		t.Fatalf("sysctl: %v: %s", err, out)
	}
	lab.Batch(hosts[0].NS, "neigh replace 2001:db8::77 lladdr 02:00:5e:00:53:77 dev eth0 nud stale")
	want := map[string]string{} // link-local → MAC of the answering hosts
	// The bridge itself has a link-local address on br0 and answers too.
	br := netlab.Host{NS: lab.Name("br"), If: "br0", MAC: lab.MAC(lab.Name("br"), "br0")}
	for _, h := range append(hosts, br) {
		waitNotTentative(t, lab, h.NS, h.If)
		if h == hosts[0] || h == silent {
			continue
		}
		out := lab.IP("-n", h.NS, "-6", "-o", "addr", "show", "dev", h.If, "scope", "link")
		f := strings.Fields(out)
		if len(f) < 4 {
			t.Fatalf("no link-local address in %s: %q", h.NS, out)
		}
		ll, _, _ := strings.Cut(f[3], "/")
		want[ll] = h.MAC
	}
	t.Run("text", func(t *testing.T) {
		code, out, errOut := runArpIn(t, hosts[0].NS, "ndp", "scan", "-I", "eth0", "-r", "1", "-t", "300")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		got := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Split(l, "\t")
			if len(f) == 3 && strings.HasPrefix(f[0], "fe80::") {
				got[f[0]] = f[1]
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("hosts listed (-want +got):\n%s\n%s", d, out)
		}
		for _, w := range []string{"Starting addrwalk ndp scan: ICMPv6 echo to ff02::1", "2001:db8::77\t02:00:5e:00:53:77\tSTALE",
			"1 echo request(s) sent from fe80::", fmt.Sprintf("%d responded", len(want))} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		// The kernel learned each responder from its NS to us.
		neigh, err := lab.Exec(hosts[0].NS, "ip", "-6", "neigh", "show", "dev", "eth0")
		if err != nil {
			t.Fatal(err)
		}
		for ll, mac := range want {
			if !strings.Contains(string(neigh), ll+" lladdr "+mac) {
				t.Errorf("ip -6 neigh lacks %s lladdr %s:\n%s", ll, mac, neigh)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		code, out, errOut := runArpIn(t, hosts[0].NS, "ndp", "scan", "eth0", "--json", "-r", "2", "-i", "100", "-t", "300", "--no-cache")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var sum struct {
			Type string `json:"type"`
			ndptrace.ScanResult
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" {
			t.Fatalf("last line is no summary (%v): %s", err, lines[len(lines)-1])
		}
		var got []string
		for _, h := range sum.Hosts {
			got = append(got, h.IP.String()+" "+h.MAC.String())
			if h.Replies != 2 || h.Conflict {
				t.Errorf("%v: %d replies, conflict %v; want 2 from one MAC", h.IP, h.Replies, h.Conflict)
			}
		}
		var wantList []string
		for ll, mac := range want {
			wantList = append(wantList, ll+" "+mac)
		}
		sort.Strings(got)
		sort.Strings(wantList)
		if d := cmp.Diff(wantList, got); d != "" {
			t.Errorf("summary hosts (-want +got):\n%s", d)
		}
		if n := len(lines) - 1; n != 2*len(want) || sum.Sent != 2 || sum.Received != n {
			t.Errorf("%d host lines, sent %d, received %d; want %d lines", n, sum.Sent, sum.Received, 2*len(want))
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, args := range [][]string{{"ndp", "scan"}, {"ndp", "scan", "-I", "nope0"}, {"ndp", "scan", "-I", "eth0", "-s", "2001:db8::99"}, {"ndp", "scan", "-I", "lo"}} {
			if code, out, errOut := runArpIn(t, hosts[0].NS, args...); code != ExitUsage {
				t.Errorf("%v: exit %d, want %d\n%s%s", args, code, ExitUsage, out, errOut)
			}
		}
	})
}
