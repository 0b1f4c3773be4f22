package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// exitCase makes one row of a command's exit-status table happen: by
// running args here, or, for rows that need a network namespace or a
// running server, in the test named by covered (which asserts the status).
type exitCase struct {
	cmd     string
	code    int
	args    []string
	covered string
}

// TestExitStatuses checks every row of every command's documented table,
// and that no command documents a status this test does not produce.
func TestExitStatuses(t *testing.T) {
	hints, port := simHints(t)
	sim := []string{"--root-hints", hints, "--port", port, "--allow-loopback", "--no-validate"}
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(badConfig, []byte("[cache]\nmax-ttl = \"an hour\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A UDP port in use on loopback, for serve's "port in use".
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// A closed port: every query to it is refused at once.
	dead, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	deadPort := fmt.Sprint(dead.LocalAddr().(*net.UDPAddr).Port)
	dead.Close()
	crash := "TestRunRecoversPanics"
	// A write that fails after the work, past the check made before it
	// (checkOutput: /dev exists and takes a new file, as root): the disk
	// is full.
	full := "/dev/full"
	// A port sim needs, in use on its first server's address.
	simBusy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 10, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer simBusy.Close()
	simBusyPort := fmt.Sprint(simBusy.LocalAddr().(*net.UDPAddr).Port)

	cases := []exitCase{
		{"resolve", ExitOK, append(append([]string{"resolve"}, sim...), "www.example.org"), ""},
		{"resolve", ExitUsage, []string{"resolve", "www.example.org", "NOSUCHTYPE"}, ""},
		{"resolve", ExitFailure, append(append([]string{"resolve", "--svg", full}, sim...), "www.example.org"), ""},
		{"resolve", ExitDNSNoReply, []string{"resolve", "--root-hints", hints, "--port", deadPort, "--allow-loopback", "--no-validate", "--timeout", "2", "www.example.org"}, ""},
		{"resolve", ExitInternal, nil, crash},
		{"demo", ExitOK, []string{"demo", "--no-latency", "www.example.org"}, ""},
		{"demo", ExitUsage, []string{"demo", "www.example.org", "NOSUCHTYPE"}, ""},
		{"demo", ExitFailure, []string{"demo", "--no-latency", "--svg", full}, ""},
		{"demo", ExitDNSNoReply, []string{"demo", "--no-latency", "--dnssec", "dnssec-bogus-expired"}, ""},
		{"demo", ExitInternal, nil, crash},
		{"sim", ExitOK, nil, "TestExitStatusSim"},
		{"sim", ExitUsage, []string{"sim", "--port", "http"}, ""},
		{"sim", ExitFailure, []string{"sim", "--no-latency", "--port", simBusyPort, "--quiet", "--hints", filepath.Join(dir, "sim.hints"), "--anchor", filepath.Join(dir, "sim.ds")}, ""},
		{"sim", ExitInternal, nil, crash},
		{"serve", ExitOK, []string{"serve", "--check-config"}, ""},
		{"serve", ExitUsage, []string{"serve", "--config", badConfig}, ""},
		{"serve", ExitFailure, []string{"serve", "--listen", busy.LocalAddr().String()}, ""},
		{"serve", ExitInternal, nil, crash},
		{"ctl", ExitOK, nil, "TestCtlCommands"},
		{"ctl", ExitUsage, []string{"ctl", "--socket", filepath.Join(dir, "none.sock")}, ""},
		{"ctl", ExitFailure, []string{"ctl", "--socket", filepath.Join(dir, "none.sock"), "status"}, ""},
		{"ctl", ExitInternal, nil, crash},
		{"arp probe", ExitOK, nil, "TestArpProbeCLI"},
		{"arp probe", ExitNoReply, nil, "TestArpProbeCLI"},
		{"arp probe", ExitUsage, []string{"arp", "2001:db8::1"}, ""},
		{"arp probe", ExitInternal, nil, crash},
		{"arp scan", ExitOK, nil, "TestArpScanCLI"},
		{"arp scan", ExitUsage, []string{"arp", "scan", "--retry", "0", "192.0.2.0/30"}, ""},
		{"arp scan", ExitInternal, nil, crash},
		{"arp watch", ExitOK, nil, "TestArpWatchCLI"},
		{"arp watch", ExitUsage, []string{"arp", "watch", "-i", "nosuchdev0", "-d", "0.1"}, ""},
		{"arp watch", ExitInternal, nil, crash},
		{"arp cache", ExitOK, []string{"arp", "cache"}, ""},
		{"arp cache", ExitUsage, []string{"arp", "cache", "-i", "nosuchdev0"}, ""},
		{"arp cache", ExitInternal, nil, crash},
		{"ndp probe", ExitOK, nil, "TestNdpCLI"},
		{"ndp probe", ExitNoReply, nil, "TestNdpCLI"},
		{"ndp probe", ExitUsage, []string{"ndp", "192.0.2.1"}, ""},
		{"ndp probe", ExitInternal, nil, crash},
		{"ndp scan", ExitOK, nil, "TestNdpScan"},
		{"ndp scan", ExitUsage, []string{"ndp", "scan"}, ""},
		{"ndp scan", ExitInternal, nil, crash},
		{"ndp cache", ExitOK, []string{"ndp", "cache"}, ""},
		{"ndp cache", ExitUsage, []string{"ndp", "cache", "-i", "nosuchdev0"}, ""},
		{"ndp cache", ExitInternal, nil, crash},
		{"path", ExitOK, nil, "TestPathCLI"},
		{"path", ExitNoReply, nil, "TestPathCLI"},
		{"path", ExitUsage, []string{"path", "--sim", "bad..name"}, ""},
		{"path", ExitFailure, nil, "TestPathCLI"},
		{"path", ExitDNSNoReply, []string{"path", "--sim", "--no-hosts", "nonexistent.example.org"}, ""},
		{"path", ExitInternal, nil, crash},
		{"help", ExitOK, []string{"help", "resolve"}, ""},
		{"help", ExitUsage, []string{"help", "nosuch"}, ""},
		{"completion", ExitOK, []string{"completion", "fish"}, ""},
		{"completion", ExitUsage, []string{"completion", "tcsh"}, ""},
		{"man", ExitOK, []string{"man"}, ""},
		{"man", ExitUsage, []string{"man", "extra"}, ""},
	}
	tests := testFuncNames(t)
	table := exitTable()
	seen := map[string]bool{}
	for _, c := range cases {
		key := fmt.Sprintf("%s=%d", c.cmd, c.code)
		seen[key] = true
		t.Run(strings.ReplaceAll(c.cmd, " ", "_")+"="+fmt.Sprint(c.code), func(t *testing.T) {
			if !hasRow(table[c.cmd], c.code) {
				t.Fatalf("%s does not document status %d", c.cmd, c.code)
			}
			if c.covered != "" {
				if !tests[c.covered] {
					t.Fatalf("the test %s that covers this row does not exist", c.covered)
				}
				return
			}
			code, _, errOut := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("%v: exit %d, want %d\nstderr: %s", c.args, code, c.code, errOut)
			}
			if code != ExitOK && code != ExitDNSNoReply && !strings.HasPrefix(errOut, "addrwalk: ") && !strings.Contains(errOut, "\naddrwalk: ") {
				t.Errorf("exit %d without a message: %q", code, errOut)
			}
		})
	}
	for cmd, rows := range table {
		for _, r := range rows {
			if !seen[fmt.Sprintf("%s=%d", cmd, r.code)] {
				t.Errorf("%s: no case for the documented status %d", cmd, r.code)
			}
		}
	}
	for _, n := range modelCommands(t) {
		if len(n.Children) == 0 && table[n.Path()] == nil {
			t.Errorf("command %s has no exit-status table", n.Path())
		}
	}
}

func hasRow(rows []exitRow, code int) bool {
	for _, r := range rows {
		if r.code == code {
			return true
		}
	}
	return false
}

// testFuncNames lists the Test functions of this package's test files.
func testFuncNames(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "func Test"); ok {
				if i := strings.IndexByte(name, '('); i > 0 {
					names["Test"+name[:i]] = true
				}
			}
		}
	}
	return names
}

// TestRunRecoversPanics: a crash in any command exits 10 with a message
// that says it is a bug and where it happened; kong's own exit passes.
func TestRunRecoversPanics(t *testing.T) {
	var errOut bytes.Buffer
	code := guard(&errOut, func() int {
		var s []int
		return s[len(errOut.String())] // index out of range: a real runtime panic
	})
	if code != ExitInternal || !strings.Contains(errOut.String(), "addrwalk: internal error (a bug") || !strings.Contains(errOut.String(), "exitstatus_test.go") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	if code := guard(&errOut, func() int { panic(kongExit{ExitUsage}) }); code != ExitUsage {
		t.Errorf("kong's exit: %d", code)
	}
}

// TestExitStatusSim: sim serves, and exits 0 when stopped.
func TestExitStatusSim(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir()
	out := &cancelOnWrite{cancel: cancel, after: "Ctrl-C stops"}
	// Port 0 is not an option for sim (every server shares one port);
	// a high port picked from a closed UDP socket is free enough.
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.LocalAddr().(*net.UDPAddr).Port)
	l.Close()
	var errOut bytes.Buffer
	code := Run(ctx, []string{"sim", "--no-latency", "--quiet", "--port", port, "--hints", filepath.Join(dir, "h"), "--anchor", filepath.Join(dir, "a")}, out, &errOut)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// cancelOnWrite cancels a context once the output contains after: the
// command said it is ready.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	after  string
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.after) {
		w.cancel()
	}
	return len(p), nil
}
