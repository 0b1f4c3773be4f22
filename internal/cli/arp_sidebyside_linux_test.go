//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/google/go-cmp/cmp"
)

// sideBySideTimeout bounds one tool run: the longest row sends for 2 s.
const sideBySideTimeout = 15 * time.Second

// toolRun is what one tool did: exit status and stdout.
type toolRun struct {
	code int
	out  string
	err  string
}

// runInNS runs argv in namespace ns with `ip netns exec`, with env added.
func runInNS(t *testing.T, ns string, env []string, argv ...string) toolRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), sideBySideTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := toolRun{out: out.String(), err: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", argv, err)
	}
	return r
}

// runAddrwalkInNS runs this test binary as `addrwalk args...` in ns.
func runAddrwalkInNS(t *testing.T, ns string, args ...string) toolRun {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(args)
	return runInNS(t, ns, []string{cliArgsEnv + "=" + string(b)}, exe)
}

var (
	arpingReplyLine = regexp.MustCompile(`^(Unicast|Broadcast) (reply|request) from .*\] ?(for .*)?\s+\d+\.\d{3}ms$`)
	arpingTime      = regexp.MustCompile(`\s+\d+\.\d{3}ms$`)
)

// arpingView keeps what must agree between arping and addrwalk arp: the
// header, the reply lines without their times, and the two totals.
func arpingView(out string) []string {
	var v []string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "ARPING "), strings.HasPrefix(line, "Sent "), strings.HasPrefix(line, "Received "):
			v = append(v, line)
		case arpingReplyLine.MatchString(line):
			v = append(v, arpingTime.ReplaceAllString(line, " <time>"))
		}
	}
	return v
}

// TestArpSideBySideArping runs iputils arping and `addrwalk arp` with the
// same options from the same namespace against the same peer, one after
// the other, and wants the same exit status, the same frames sent, and
// the same reply lines (times aside). Rows run in parallel, each in its
// own lab; arping takes whole seconds, so rows use -c 1 or 2.
func TestArpSideBySideArping(t *testing.T) {
	netlab.Require(t)
	if _, err := exec.LookPath("arping"); err != nil {
		t.Fatalf("arping (Debian package iputils-arping) not found: %v", err)
	}
	tests := []struct {
		name     string
		args     []string
		dup      bool // a third host also holds 192.0.2.2
		wantCode int
	}{
		{"reply", []string{"-c", "2", "192.0.2.2"}, false, 0},
		{"no reply", []string{"-c", "1", "192.0.2.9"}, false, 1},
		{"dad conflict", []string{"-D", "-c", "2", "192.0.2.2"}, false, 1},
		{"dad free", []string{"-D", "-c", "1", "192.0.2.77"}, false, 0},
		{"quit on first reply", []string{"-f", "192.0.2.2"}, false, 0},
		{"count replies before deadline", []string{"-w", "3", "-c", "2", "192.0.2.2"}, false, 0},
		{"count ends before deadline", []string{"-w", "3", "-c", "1", "192.0.2.9"}, false, 1},
		{"deadline cuts count", []string{"-w", "1", "-c", "3", "192.0.2.2"}, false, 1},
		{"deadline only", []string{"-w", "1", "192.0.2.9"}, false, 1},
		{"unsolicited", []string{"-U", "-c", "1", "192.0.2.1"}, false, 0},
		{"answer", []string{"-A", "-c", "1", "192.0.2.1"}, false, 0},
		{"broadcast only", []string{"-b", "-c", "2", "192.0.2.2"}, false, 0},
		{"source", []string{"-s", "192.0.2.1", "-c", "1", "192.0.2.2"}, false, 0},
		{"host name", []string{"-c", "1", "peer.lab"}, false, 0},
		{"quiet", []string{"-q", "-c", "1", "192.0.2.2"}, false, 0},
		{"duplicate address", []string{"-c", "1", "192.0.2.2"}, true, 1},
		{"duplicate address, deadline", []string{"-w", "1", "192.0.2.2"}, true, 0},
		{"unknown interface", []string{"-I", "nope0", "192.0.2.2"}, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lab := netlab.New(t)
			var h1 netlab.Host
			if tc.dup {
				hosts := lab.Bridge(3, "192.0.2.0/24")
				lab.Batch(hosts[2].NS, "addr add 192.0.2.2/24 dev eth0")
				h1 = hosts[0]
			} else {
				h1, _ = lab.Pair("192.0.2.1/24", "192.0.2.2/24")
			}
			lab.HostsFile(h1.NS, "192.0.2.2 peer.lab\n")
			args := tc.args
			if args[0] != "-I" {
				args = append([]string{"-I", "eth0"}, args...)
			}
			ref := runInNS(t, h1.NS, nil, append([]string{"arping"}, args...)...)
			got := runAddrwalkInNS(t, h1.NS, append([]string{"arp"}, args...)...)
			if ref.code != tc.wantCode {
				t.Errorf("arping exit %d, want %d (test assumption)\n%s%s", ref.code, tc.wantCode, ref.out, ref.err)
			}
			if got.code != ref.code {
				t.Errorf("exit %d, arping %d\naddrwalk:\n%s%s\narping:\n%s%s", got.code, ref.code, got.out, got.err, ref.out, ref.err)
			}
			if diff := cmp.Diff(arpingView(ref.out), arpingView(got.out)); diff != "" {
				t.Errorf("arping lines (-arping +addrwalk):\n%s\naddrwalk output:\n%s", diff, got.out)
			}
			if ref.code == 2 && got.err == "" {
				t.Errorf("exit 2 without a message on stderr")
			}
		})
	}
}
