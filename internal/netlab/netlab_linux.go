//go:build linux

package netlab

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Require skips t when it cannot be privileged (not root, CI unset) and
// fails it when CI is set but the tools are missing.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 && os.Getenv("CI") == "" {
		t.Skip("netlab: needs root (network namespaces); skipped since CI is unset")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("netlab: iproute2 `ip` not found: %v", err)
	}
}

// Lab owns a set of namespaces that share a random prefix.
type Lab struct {
	t      testing.TB
	prefix string
}

// New returns an empty lab; its namespaces are removed at t.Cleanup.
// First it removes the namespaces earlier labs left behind when their
// test process was killed (sweep_linux.go).
func New(t testing.TB) *Lab {
	t.Helper()
	Require(t)
	o, err := self()
	if err != nil {
		t.Fatal(err)
	}
	// Someone else's leftovers are not this test's failure: an error
	// is logged, and the lab goes on.
	if gone, err := sweep(time.Now(), running); err != nil {
		t.Log(err)
	} else if len(gone) > 0 {
		t.Logf("netlab: removed %d namespaces left behind by killed test runs: %s", len(gone), strings.Join(gone, " "))
	}
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("netlab: random: %v", err)
	}
	l := &Lab{t: t, prefix: o.prefix(hex.EncodeToString(b[:]))}
	t.Cleanup(l.cleanup)
	return l
}

func (l *Lab) cleanup() {
	names, err := listNamespaces()
	if err != nil {
		l.t.Error(err)
		return
	}
	for _, name := range names {
		if strings.HasPrefix(name, l.prefix) {
			if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
				l.t.Errorf("netlab: delete %s: %v: %s", name, err, out)
			}
		}
	}
}

// IP runs `ip args...` and fails the test on error.
func (l *Lab) IP(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("netlab: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Batch runs ip -n ns -batch with the given lines.
func (l *Lab) Batch(ns string, lines ...string) {
	l.t.Helper()
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("netlab: ip -n %s -batch: %v: %s\n%s", ns, err, out, strings.Join(lines, "\n"))
	}
}

// NS creates namespace <prefix><name> with loopback up and returns its name.
func (l *Lab) NS(name string) string {
	l.t.Helper()
	full := l.prefix + name
	l.IP("netns", "add", full)
	l.IP("-n", full, "link", "set", "lo", "up")
	return full
}

// Name returns the full namespace name for a short one.
func (l *Lab) Name(short string) string { return l.prefix + short }

// Exec runs argv inside ns (ip netns exec) and returns combined output.
func (l *Lab) Exec(ns string, argv ...string) ([]byte, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.Bytes(), err
}

var linkEther = regexp.MustCompile(`link/ether ([0-9a-f:]{17})`)

// MAC reads ifname's MAC in ns from `ip -n ns link show dev ifname`.
func (l *Lab) MAC(ns, ifname string) string {
	l.t.Helper()
	out := l.IP("-n", ns, "-o", "link", "show", "dev", ifname)
	m := linkEther.FindStringSubmatch(out)
	if m == nil {
		l.t.Fatalf("netlab: no link/ether in %q", out)
	}
	return m[1]
}

// Host is one end of the lab with an address.
type Host struct {
	NS    string       // full namespace name
	If    string       // interface name inside NS
	Addr  netip.Prefix // e.g. 192.0.2.1/24; invalid when none
	MAC   string       // as `ip link` prints it
	Index int          // 1-based host number
}

// Pair builds two namespaces joined by a veth pair, both ends named eth0,
// addressed a and b (e.g. "192.0.2.1/24"; empty for none).
func (l *Lab) Pair(a, b string) (Host, Host) {
	l.t.Helper()
	h1, h2 := l.NS("h1"), l.NS("h2")
	l.IP("-n", h1, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", h2)
	hosts := []Host{{NS: h1, If: "eth0", Index: 1}, {NS: h2, If: "eth0", Index: 2}}
	for i, cidr := range []string{a, b} {
		h := &hosts[i]
		lines := []string{"link set eth0 up"}
		if cidr != "" {
			h.Addr = netip.MustParsePrefix(cidr)
			lines = append([]string{"addr add " + cidr + " dev eth0"}, lines...)
		}
		l.Batch(h.NS, lines...)
		h.MAC = l.MAC(h.NS, "eth0")
	}
	l.waitUp(hosts...)
	return hosts[0], hosts[1]
}

// Bridge builds namespace "br" holding bridge br0 and n host namespaces
// h1..hn, each with eth0 plugged into br0 and address base+i (e.g. base
// 192.0.2.0/24 gives h1 192.0.2.1/24). Addresses past the prefix are
// refused.
func (l *Lab) Bridge(n int, base string) []Host {
	l.t.Helper()
	pfx := netip.MustParsePrefix(base).Masked()
	br := l.NS("br")
	l.Batch(br,
		"link add br0 type bridge",
		// No STP and no forwarding delay: ports forward at once.
		"link set br0 type bridge stp_state 0 forward_delay 0",
		"link set br0 up")
	hosts := make([]Host, 0, n)
	ip := pfx.Addr()
	for i := 1; i <= n; i++ {
		ip = ip.Next()
		if !pfx.Contains(ip) {
			l.t.Fatalf("netlab: %d hosts do not fit in %v", n, pfx)
		}
		ns := l.NS(fmt.Sprintf("h%d", i))
		port := fmt.Sprintf("p%d", i)
		l.IP("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", br)
		l.Batch(br, "link set "+port+" master br0", "link set "+port+" up")
		cidr := netip.PrefixFrom(ip, pfx.Bits())
		l.Batch(ns, "addr add "+cidr.String()+" dev eth0", "link set eth0 up")
		hosts = append(hosts, Host{NS: ns, If: "eth0", Addr: cidr, MAC: l.MAC(ns, "eth0"), Index: i})
	}
	l.waitUp(hosts...)
	return hosts
}

// linkUpPolls bounds the wait for carrier: a veth pair reports LOWER_UP
// within milliseconds of both ends being up; 200 polls 10 ms apart allow
// two seconds on a loaded machine before the test fails with the reason.
const linkUpPolls = 200

// waitUp waits until every host's interface has carrier (LOWER_UP), so
// the first frame a test sends is not lost to a link still coming up.
// This polls the kernel's own readiness flag; it does not guess a delay.
func (l *Lab) waitUp(hosts ...Host) {
	l.t.Helper()
	for _, h := range hosts {
		for i := 0; ; i++ {
			out, err := l.Exec(h.NS, "ip", "-o", "link", "show", h.If)
			if err == nil && strings.Contains(string(out), "LOWER_UP") && !strings.Contains(string(out), "NO-CARRIER") {
				break
			}
			if i >= linkUpPolls {
				l.t.Fatalf("netlab: %s in %s has no carrier after %d polls: %s", h.If, h.NS, linkUpPolls, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Do runs fn on a goroutine locked to an OS thread that has joined ns.
// The thread is discarded afterwards rather than returned to the Go
// scheduler. Sockets fn opens stay in ns and may be used from any
// goroutine; goroutines fn starts do not run in ns themselves.
func Do(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with us
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- fmt.Errorf("netlab: open netns %s: %w", ns, err)
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			errc <- fmt.Errorf("netlab: setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// HostsFile gives namespace ns its own /etc/hosts for programs started
// with `ip netns exec` (which bind-mounts /etc/netns/NS/* over /etc), so
// a test can resolve lab names the way the system resolver does without
// touching the machine's /etc/hosts. Removed at cleanup.
func (l *Lab) HostsFile(ns, content string) {
	l.t.Helper()
	dir := "/etc/netns/" + ns
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Fatalf("netlab: %v", err)
	}
	l.t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.WriteFile(dir+"/hosts", []byte(content), 0o644); err != nil {
		l.t.Fatalf("netlab: %v", err)
	}
}
