//go:build linux

package netlab_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/netlab"
)

func namespaces(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	return string(out)
}

// TestLabCleanup builds a bridge lab in a subtest and checks that every
// namespace is gone once the subtest's cleanups ran.
func TestLabCleanup(t *testing.T) {
	netlab.Require(t)
	var names []string
	t.Run("build", func(t *testing.T) {
		lab := netlab.New(t)
		hosts := lab.Bridge(2, "192.0.2.0/24")
		names = append(names, lab.Name("br"))
		for _, h := range hosts {
			names = append(names, h.NS)
			if !strings.Contains(lab.IP("-n", h.NS, "-o", "link", "show", "dev", "eth0"), h.MAC) {
				t.Errorf("%s: MAC %s not in ip link", h.NS, h.MAC)
			}
		}
		out, err := lab.Exec(hosts[0].NS, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
		if err != nil || !strings.Contains(string(out), "192.0.2.1/24") {
			t.Errorf("h1 address: %v %s", err, out)
		}
		var inside string
		if err := netlab.Do(hosts[1].NS, func() error {
			b, err := exec.Command("ip", "-o", "link", "show", "dev", "eth0").Output()
			inside = string(b)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// exec from a setns'd thread: the child inherits the namespace.
		if !strings.Contains(inside, hosts[1].MAC) {
			t.Errorf("Do: eth0 inside %s is %q, want MAC %s", hosts[1].NS, inside, hosts[1].MAC)
		}
	})
	list := namespaces(t)
	for _, n := range names {
		if strings.Contains(list, n) {
			t.Errorf("namespace %s left behind", n)
		}
	}
}
