package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/netlab"
)

// TestARPPictures runs arp, ndp and path with --svg and --html on a bridge
// in network namespaces: the sequence diagrams show the who-has and the
// is-at, or the NS to the solicited-node group and the NA; path's page
// has the strip, the DNS walks and the ARP or ND exchange.
func TestARPPictures(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(2, "192.0.2.0/24")
	h1, h2 := hosts[0], hosts[1]
	lab.Batch(h2.NS, "addr add 192.0.2.10/24 dev eth0", "addr add 2001:db8::2/64 dev eth0 nodad", "addr add 2001:db8::10/64 dev eth0 nodad")
	lab.Batch(h1.NS, "link set lo up", "addr add 2001:db8::1/64 dev eth0 nodad")
	dir := t.TempDir()
	empty := filepath.Join(dir, "hosts")
	if err := os.WriteFile(empty, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		files map[string][]string
	}{
		{"arp", []string{"arp", "192.0.2.2", "-c", "2", "-i", "0.05", "--svg", filepath.Join(dir, "arp.svg")},
			map[string][]string{"arp.svg": {`class="seq-msg arp-request broadcast"`, `class="seq-msg arp-reply"`, "is-at " + h2.MAC}}},
		{"path", []string{"path", "--hosts", empty, "--sim", "--family", "ipv4", "www.example.org", "--html", filepath.Join(dir, "path.html")},
			map[string][]string{"path.html": {`class="stage stage-done" data-step="MAC"`, h2.MAC, `class="zone sec-none" data-zone="example.org."`, "seq-msg arp-reply"}}},
		{"ndp", []string{"ndp", "2001:db8::2", "--svg", filepath.Join(dir, "ndp.svg"), "--html", filepath.Join(dir, "ndp.html")},
			map[string][]string{
				"ndp.svg":  {`class="seq-msg nd-ns"`, `class="seq-msg nd-multicast"`, `class="seq-msg nd-na"`, "is-at " + h2.MAC, "R=0 S=1 O=1"},
				"ndp.html": {`class="seq-msg nd-na"`, "Neighbor Discovery for 2001:db8::2"}}},
		{"path over ipv6", []string{"path", "--hosts", empty, "--sim", "www.example.org", "--html", filepath.Join(dir, "path6.html")},
			map[string][]string{"path6.html": {`class="stage stage-done" data-step="MAC"`, "2001:db8::10", `data-step="next hop"`, "seq-msg nd-na", "is-at " + h2.MAC, "DNS walk AAAA"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runPathIn(t, h1.NS, tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for f, want := range tc.files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range want {
					if !strings.Contains(string(b), w) {
						t.Errorf("%s lacks %q", f, w)
					}
				}
				if d := os.Getenv("ADDRWALK_ARTIFACTS"); d != "" {
					_ = os.WriteFile(filepath.Join(d, f), b, 0o644)
				}
			}
		})
	}
}
