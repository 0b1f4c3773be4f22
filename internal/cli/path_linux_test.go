//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/netlab"
)

// TestPathCLI follows a name from the hosts file or from the simulated
// DNS hierarchy to a MAC address, all inside a namespace lab: the
// simulated servers listen on the namespace's own loopback.
func TestPathCLI(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(2, "192.0.2.0/24")
	h1, h2 := hosts[0], hosts[1]
	// www.example.org. is 192.0.2.10 in the simulation: give it to h2.
	lab.Batch(h2.NS, "addr add 192.0.2.10/24 dev eth0")
	lab.Batch(h1.NS, "link set lo up")
	hostsFile := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hostsFile, []byte("127.0.0.1 localhost\n192.0.2.2  printer.lab printer # h2\n192.0.2.99 ghost.lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"hosts file", []string{"path", "--hosts", hostsFile, "Printer.lab"}, ExitOK, []string{
			"line 2: printer.lab. has 192.0.2.2; the OS stops here",
			"192.0.2.2 is on-link on eth0",
			"printer.lab → 192.0.2.2 → via 192.0.2.2 (" + h2.MAC + ") on eth0",
		}},
		{"simulated dns", []string{"path", "--hosts", hostsFile, "--sim", "www.example.org"}, ExitOK, []string{
			"has no IPv4 entry for www.example.org.",
			"[.] org. NS -> ",
			"answer: 1 record(s)",
			"www.example.org → 192.0.2.10 → via 192.0.2.10 (" + h2.MAC + ") on eth0",
		}},
		{"no such name", []string{"path", "--no-hosts", "--sim", "nonexistent.example.org"}, ExitDNSNoReply, []string{
			"name does not exist",
		}},
		{"nobody home", []string{"path", "--hosts", hostsFile, "--arp-timeout", "200ms", "ghost.lab"}, ExitNoReply, []string{
			"ghost.lab → 192.0.2.99 → via 192.0.2.99 (no reply) on eth0",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runArpIn(t, h1.NS, tc.args...)
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
}

func TestScanHosts(t *testing.T) {
	const file = "# comment\n::1 localhost6\n192.0.2.5 a.example.org a  # x\n192.0.2.6 b.example.org\nbad line\n"
	tests := []struct {
		name, host, want string
		line             int
	}{
		{"canonical", "a.example.org.", "192.0.2.5", 3},
		{"alias, case", "A", "192.0.2.5", 3},
		{"ipv6 only is skipped", "localhost6", "invalid IP", 0},
		{"absent", "c.example.org", "invalid IP", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, line, err := scanHosts(strings.NewReader(file), tt.host)
			if err != nil || a.String() != tt.want || line != tt.line {
				t.Errorf("scanHosts(%q) = %v, line %d, %v; want %s line %d", tt.host, a, line, err, tt.want, tt.line)
			}
		})
	}
}
