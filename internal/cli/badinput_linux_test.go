//go:build linux

package cli

import (
	"testing"

	"github.com/addrwalk/addrwalk/internal/netlab"
)

// TestBadInputsInNamespace: interfaces that exist but cannot carry ARP or
// ND (loopback, an interface that is down) get one clear message from
// every arp and ndp command, and nothing is announced before it. They
// live in a namespace this test makes, so no real interface is touched.
func TestBadInputsInNamespace(t *testing.T) {
	lab := netlab.New(t)
	h1, _ := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	// A second veth pair inside h1, left down.
	lab.Batch(h1.NS, "link add down0 type veth peer name down1")
	in := func(t *testing.T, args ...string) (int, string, string) {
		t.Helper()
		return runArpIn(t, h1.NS, args...)
	}
	cases := []badInput{
		{"arp probe/loopback", []string{"arp", "-I", "lo", "-c", "1", "192.0.2.2"}, ExitUsage, "loopback", nil, false},
		{"arp probe/down", []string{"arp", "-I", "down0", "-c", "1", "192.0.2.2"}, ExitUsage, "down0", nil, false},
		{"arp scan/loopback", []string{"arp", "scan", "-I", "lo", "192.0.2.0/30"}, ExitUsage, "loopback", nil, false},
		{"arp scan/down", []string{"arp", "scan", "-I", "down0", "192.0.2.0/30"}, ExitUsage, "down0", nil, false},
		{"arp scan/localnet without IPv4", []string{"arp", "scan", "-I", "down0", "--localnet"}, ExitUsage, "down0", nil, false},
		{"arp watch/loopback", []string{"arp", "watch", "-i", "lo", "-d", "0.1"}, ExitUsage, "loopback", nil, false},
		{"arp watch/down", []string{"arp", "watch", "-i", "down0", "-d", "0.1"}, ExitUsage, "down0", nil, false},
		{"arp watch/no interface here", []string{"arp", "watch", "-i", "eth9", "-d", "0.1"}, ExitUsage, `no interface named "eth9" (this host has lo, `, nil, false},
		{"ndp probe/loopback", []string{"ndp", "-I", "lo", "2001:db8::2"}, ExitUsage, "loopback", nil, false},
		{"ndp probe/down", []string{"ndp", "-I", "down0", "fe80::2"}, ExitUsage, "down0", nil, false},
		{"ndp scan/loopback", []string{"ndp", "scan", "-I", "lo"}, ExitUsage, "loopback", nil, false},
		{"ndp scan/down", []string{"ndp", "scan", "-I", "down0"}, ExitUsage, "down0", nil, false},
		{"path/no interface here", []string{"path", "--sim", "-i", "eth9", "www.example.org"}, ExitUsage, `no interface named "eth9"`, nil, false},
	}
	runBadInputs(t, cases, in)
}
