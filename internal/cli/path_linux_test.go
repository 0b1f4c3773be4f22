//go:build linux

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/addrwalk/addrwalk/resolver/report/reporttest"
)

// TestPathCLI follows a name from the hosts file or from the simulated
// DNS hierarchy to a MAC address, all inside a namespace lab with IPv4
// and IPv6 on one bridge: A and ARP for IPv4, AAAA and Neighbor Discovery
// for IPv6, and the choice between them said in words. The simulated
// servers listen on the namespace's own loopback.
func TestPathCLI(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(2, "192.0.2.0/24")
	h1, h2 := hosts[0], hosts[1]
	// www.example.org. is 192.0.2.10 and 2001:db8::10 in the simulation:
	// give both to h2. nodad: the addresses answer at once.
	lab.Batch(h2.NS, "addr add 192.0.2.10/24 dev eth0", "addr add 2001:db8::2/64 dev eth0 nodad", "addr add 2001:db8::10/64 dev eth0 nodad")
	lab.Batch(h1.NS, "link set lo up", "addr add 2001:db8::1/64 dev eth0 nodad")
	hostsFile := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hostsFile, []byte("127.0.0.1 localhost\n192.0.2.2  printer.lab printer # h2\n192.0.2.99 ghost.lab\n"+
		"2001:db8::2 printer6.lab\n2001:db8::99 ghost6.lab\n192.0.2.2 dual.lab\n2001:db8::2 dual.lab\n"+
		"2001:db8:ffff::5 far.lab\n192.0.2.2 far.lab\n203.0.113.7 nowhere.lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"hosts file", []string{"path", "--hosts", hostsFile, "Printer.lab"}, ExitOK, []string{
			"line 2: printer.lab. has 192.0.2.2\n   the OS stops here",
			"192.0.2.2 (IPv4): the name has only IPv4 addresses",
			"192.0.2.2 is on-link on eth0",
			"== 5. ARP for the next hop 192.0.2.2",
			"printer.lab → 192.0.2.2 → via 192.0.2.2 (" + h2.MAC + ") on eth0",
		}},
		{"hosts file ipv6", []string{"path", "--hosts", hostsFile, "printer6.lab"}, ExitOK, []string{
			"line 4: printer6.lab. has 2001:db8::2",
			"2001:db8::2 (IPv6): the name has only IPv6 addresses",
			"== 5. Neighbor Discovery for the next hop 2001:db8::2",
			"NS who-has 2001:db8::2",
			"flags R=0 S=1 O=1, TLLA " + h2.MAC,
			"printer6.lab → 2001:db8::2 → via 2001:db8::2 (" + h2.MAC + ") on eth0",
		}},
		{"both families: ipv6 preferred", []string{"path", "--hosts", hostsFile, "dual.lab"}, ExitOK, []string{
			"2001:db8::2 (IPv6): the name has IPv6 and IPv4 addresses: IPv6 is preferred (RFC 6724 default policy, as getaddrinfo) and has a route",
			"dual.lab → 2001:db8::2 → via 2001:db8::2 (" + h2.MAC + ")",
		}},
		{"both families, ipv4 asked", []string{"path", "--hosts", hostsFile, "--family", "ipv4", "dual.lab"}, ExitOK, []string{
			"192.0.2.2 (IPv4): only IPv4 was asked for (--family)",
			"dual.lab → 192.0.2.2 → via 192.0.2.2 (" + h2.MAC + ")",
		}},
		{"ipv6 without a route", []string{"path", "--hosts", hostsFile, "far.lab"}, ExitOK, []string{
			"not 2001:db8:ffff::5: no route: ",
			"192.0.2.2 (IPv4): the name has IPv6 and IPv4 addresses: IPv6 would be preferred (RFC 6724), but no IPv6 address has a route, so IPv4",
		}},
		{"simulated dns", []string{"path", "--hosts", hostsFile, "--sim", "www.example.org"}, ExitOK, []string{
			"has no IPv4 or IPv6 entry for www.example.org.",
			"-- www.example.org. A\n", "-- www.example.org. AAAA\n",
			"[.] org. NS -> ",
			"answer (NOERROR; qr aa): 1 record(s)",
			"2001:db8::10 (IPv6): the name has IPv6 and IPv4 addresses: IPv6 is preferred",
			"www.example.org → 2001:db8::10 → via 2001:db8::10 (" + h2.MAC + ") on eth0",
		}},
		{"simulated dns, ipv4 asked", []string{"path", "--hosts", hostsFile, "--sim", "--family=ipv4", "www.example.org"}, ExitOK, []string{
			"has no IPv4 entry for www.example.org.",
			"www.example.org → 192.0.2.10 → via 192.0.2.10 (" + h2.MAC + ") on eth0",
		}},
		{"no such name", []string{"path", "--no-hosts", "--sim", "nonexistent.example.org"}, ExitDNSNoReply, []string{
			"name does not exist",
		}},
		{"nobody home", []string{"path", "--hosts", hostsFile, "--arp-timeout", "200ms", "ghost.lab"}, ExitNoReply, []string{
			"ghost.lab → 192.0.2.99 → via 192.0.2.99 (no reply) on eth0",
		}},
		{"nobody home ipv6", []string{"path", "--hosts", hostsFile, "--arp-timeout", "200ms", "ghost6.lab"}, ExitNoReply, []string{
			"No response.",
			"ghost6.lab → 2001:db8::99 → via 2001:db8::99 (no reply) on eth0",
		}},
		{"bad family", []string{"path", "--family", "ipx", "dual.lab"}, ExitUsage, nil},
		// An address is taken as it is, as getaddrinfo takes a numeric
		// host: no hosts file, no DNS.
		{"address", []string{"path", "--hosts", hostsFile, "192.0.2.2"}, ExitOK, []string{
			"   not needed: 192.0.2.2 is an address, taken as it is",
			"== 2. DNS: iterative resolution from the root\n   not needed: 192.0.2.2 is an address",
			"192.0.2.2 → 192.0.2.2 → via 192.0.2.2 (" + h2.MAC + ") on eth0",
		}},
		{"ipv6 address", []string{"path", "--no-hosts", "2001:db8::2"}, ExitOK, []string{
			"   not needed: 2001:db8::2 is an address, taken as it is",
			"2001:db8::2 (IPv6)",
		}},
		{"address with a zone", []string{"path", "fe80::1%eth0"}, ExitUsage, nil},
		// The namespace has no default route: exit 3, the row of the table.
		{"no route", []string{"path", "--hosts", hostsFile, "nowhere.lab"}, ExitFailure, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runPathIn(t, h1.NS, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// --json: one document, valid against path.schema.json, with the
	// steps each path took.
	jsonTests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, d *PathDoc)
	}{
		{"hosts file, arp", []string{"path", "--json", "--hosts", hostsFile, "printer.lab"}, ExitOK, func(t *testing.T, d *PathDoc) {
			if len(d.Hosts.Entries) != 1 || d.Hosts.Entries[0].Line != 2 || d.DNS != nil || d.ARP == nil || d.ND != nil || d.MAC.String() != h2.MAC {
				t.Errorf("hosts %+v, dns %v, arp %v, nd %v, mac %v", d.Hosts, d.DNS, d.ARP != nil, d.ND != nil, d.MAC)
			}
		}},
		{"dns walk, nd", []string{"path", "--json", "--no-hosts", "--sim", "www.example.org"}, ExitOK, func(t *testing.T, d *PathDoc) {
			if len(d.DNS) != 2 || d.DNS[0].Type != "A" || d.DNS[1].Type != "AAAA" || d.DNS[1].Trace == nil {
				t.Errorf("dns: %+v", d.DNS)
			}
			if d.Chosen.Family != "IPv6" || d.NextHop.String() != "2001:db8::10" || d.ND == nil || d.ARP != nil || d.MAC.String() != h2.MAC || d.Neighbour == nil {
				t.Errorf("chosen %+v next hop %v nd %v mac %v neighbour %v", d.Chosen, d.NextHop, d.ND != nil, d.MAC, d.Neighbour)
			}
		}},
		{"no reply", []string{"path", "--json", "--hosts", hostsFile, "--arp-timeout", "100ms", "ghost6.lab"}, ExitNoReply, func(t *testing.T, d *PathDoc) {
			if d.ND == nil || d.ND.Summary.Received != 0 || !d.MAC.IsZero() {
				t.Errorf("nd %+v mac %v", d.ND, d.MAC)
			}
		}},
		{"no such name", []string{"path", "--json", "--no-hosts", "--sim", "nonexistent.example.org"}, ExitDNSNoReply, func(t *testing.T, d *PathDoc) {
			if len(d.DNS) != 1 || d.DNS[0].Rcode != "NXDOMAIN" || d.Error == "" || d.Route != nil {
				t.Errorf("dns %+v error %q route %v", d.DNS, d.Error, d.Route)
			}
		}},
	}
	schema := reporttest.Resource{ID: PathSchemaID, Schema: PathSchema}
	for _, tc := range jsonTests {
		t.Run("json "+tc.name, func(t *testing.T) {
			code, out, errOut := runPathIn(t, h1.NS, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.wantCode, out, errOut)
			}
			reporttest.ValidateWith(t, schema, []byte(out))
			var d PathDoc
			dec := json.NewDecoder(strings.NewReader(out))
			if err := dec.Decode(&d); err != nil || dec.More() {
				t.Fatalf("not one JSON document (%v):\n%s", err, out)
			}
			tc.check(t, &d)
		})
	}
}

// runPathIn runs `addrwalk args...` as a whole process in namespace ns
// (path and its pictures: anything that may use --sim).
// path --sim starts servers and sends queries from goroutines that may
// run on any OS thread, so the per-thread setns of runArpIn would leave
// some of them in the test's own namespace, where the sim is not.
func runPathIn(t *testing.T, ns string, args ...string) (int, string, string) {
	t.Helper()
	r := runAddrwalkInNS(t, ns, args...)
	return r.code, r.out, r.err
}
