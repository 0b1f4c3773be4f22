package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/msgcheck"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// ctlServe is a serve running in-process with a control socket.
type ctlServe struct {
	dns    []netip.AddrPort
	socket string
	// via are the ctl flags that reach the server: --socket, or
	// --remote with the client's files (useRemote).
	via    []string
	conf   string
	cancel context.CancelFunc
	done   chan error
}

// startCtlServe runs serve against lab with a control socket in a fresh
// directory; extra is appended to the configuration.
func startCtlServe(t *testing.T, lab *resolvertest.Lab, extra string) *ctlServe {
	t.Helper()
	return startServeWith(t, lab, extra, nil)
}

// startServeWith is startCtlServe with a hook to set flags.
func startServeWith(t *testing.T, lab *resolvertest.Lab, extra string, mod func(*ServeCmd)) *ctlServe {
	t.Helper()
	return startServeControl(t, lab, extra, "", mod)
}

// startServeControl is startServeWith with more keys for [control]
// (controlKeys: lines without the table header).
func startServeControl(t *testing.T, lab *resolvertest.Lab, extra, controlKeys string, mod func(*ServeCmd)) *ctlServe {
	t.Helper()
	dir := t.TempDir()
	hints := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hints, []byte(lab.RootHints()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &ctlServe{socket: filepath.Join(dir, "ctl.sock"), conf: filepath.Join(dir, "addrwalk.toml"), done: make(chan error, 1)}
	s.via = []string{"--socket", s.socket}
	text := fmt.Sprintf(`
[server]
listen = ["127.56.202.1:0"]
[resolver]
root-hints = %q
port = %d
allow-loopback = true
[control]
socket = %q
%s
[log]
level = "error"
%s`, hints, lab.Port(), s.socket, controlKeys, extra)
	if err := os.WriteFile(s.conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := make(chan []netip.AddrPort, 1)
	cmd := &ServeCmd{Config: s.conf, ready: func(d []netip.AddrPort, _ netip.AddrPort) { ready <- d }}
	if mod != nil {
		mod(cmd)
	}
	ctx, cancel := context.WithCancel(t.Context())
	s.cancel = cancel
	go func() { s.done <- cmd.Run(&Globals{Ctx: ctx, Stdout: io.Discard, Stderr: io.Discard}) }()
	select {
	case s.dns = <-ready:
	case err := <-s.done:
		t.Fatalf("serve exited: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// ctl runs `addrwalk ctl --socket S args...` (or with --remote, see via)
// and returns its exit status, standard output and standard error.
func (s *ctlServe) ctl(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append(append([]string{"ctl"}, s.via...), args...)
	if stdin != "" {
		f := filepath.Join(t.TempDir(), "stdin")
		if err := os.WriteFile(f, []byte(stdin), 0o600); err != nil {
			t.Fatal(err)
		}
		full = append(full, f)
	}
	code := Run(t.Context(), full, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func (s *ctlServe) query(t *testing.T, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := c.Exchange(m, s.dns[0].String())
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	return r
}

// TestCtlCommands runs every command against a real serve, over the
// control socket and over the remote control listener (mutual TLS).
func TestCtlCommands(t *testing.T) {
	for _, remote := range []bool{false, true} {
		name := "socket"
		if remote {
			name = "remote"
		}
		t.Run(name, func(t *testing.T) { testCtlCommands(t, remote) })
	}
}

func testCtlCommands(t *testing.T, remote bool) {
	lab := startServeLab(t)
	extra := `[local]
records = ["router.example.org. 60 IN A 192.0.2.1"]
[[forward-zone]]
zone = "corp.example."
servers = ["192.0.2.53"]
`
	var s *ctlServe
	if remote {
		s = startRemoteCtlServe(t, lab, extra)
	} else {
		s = startCtlServe(t, lab, extra)
	}
	if r := s.query(t, "www.example.org.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("www.example.org A: %v", r)
	}
	s.query(t, "nope.example.org.", dns.TypeA)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // substrings of stdout (exit 0) or stderr
	}{
		{"status", []string{"status"}, ExitOK, []string{"version: ", "uptime: ", "config: " + s.conf, "listener: udp 127.56.202.1:", "listener: tcp 127.56.202.1:"}},
		{"stats", []string{"stats"}, ExitOK, []string{`addrwalk_queries_total{cached="false",rcode="NOERROR",transport="udp",type="A"} 1`, "addrwalk_upstream_queries_total"}},
		{"lookup cached delegation", []string{"lookup", "www.example.org"}, ExitOK, []string{"delegation: example.org.", "ns1.example.org. 127.56.1.1: srtt", "would ask: 127.56.1.1"}},
		{"lookup forward", []string{"lookup", "a.corp.example"}, ExitOK, []string{"forward zone corp.example. (configured): servers 192.0.2.53:53"}},
		{"list-forwards", []string{"list-forwards"}, ExitOK, []string{"forward corp.example. 192.0.2.53:53"}},
		{"list-local-data", []string{"list-local-data"}, ExitOK, []string{"router.example.org. 60 IN A 192.0.2.1"}},
		{"anchors", []string{"anchors"}, ExitOK, []string{"no trust anchors configured"}},
		{"flush one type", []string{"flush", "www.example.org", "A"}, ExitOK, []string{"flushed 1 entries"}},
		{"flush again", []string{"flush", "www.example.org"}, ExitOK, []string{"flushed 0 entries"}},
		{"flush-negative", []string{"flush-negative"}, ExitOK, []string{"flushed 2 entries"}}, // nope's NXDOMAIN, and the NODATA a minimised question left
		{"flush-bogus", []string{"flush-bogus"}, ExitOK, []string{"flushed 0 entries"}},
		// Each server has its record for the zone and its address-wide one.
		{"flush-infra one", []string{"flush-infra", "127.56.1.1"}, ExitOK, []string{"flushed 2 infra entries"}},
		{"flush-infra all", []string{"flush-infra", "all"}, ExitOK, []string{"flushed 2 infra entries"}},
		{"flush-zone", []string{"flush-zone", "example.org"}, ExitOK, []string{"flushed 2 entries"}},
		{"unknown command", []string{"frobnicate"}, ExitUsage, []string{`unknown command "frobnicate"`, "flush-zone NAME"}},
		{"flush without name", []string{"flush"}, ExitUsage, []string{"usage: flush NAME [TYPE]"}},
		{"flush bad type", []string{"flush", "example.org", "BOGUSTYPE"}, ExitUsage, []string{`unknown type "BOGUSTYPE"`}},
		{"flush-infra bad address", []string{"flush-infra", "ns1"}, ExitUsage, []string{`neither an IP address nor "all"`}},
		{"lookup bad name", []string{"lookup", "a..b"}, ExitUsage, []string{"not a domain name"}},
		{"too many arguments", []string{"status", "now"}, ExitUsage, []string{"usage: status"}},
		{"load-cache garbage", []string{"load-cache", "/dev/null"}, ExitFailure, []string{"empty input"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := s.ctl(t, "", tt.args...)
			got := out
			if tt.wantCode != ExitOK {
				got = errOut
			}
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, line := range strings.Split(errOut, "\n") {
				if strings.HasPrefix(line, "addrwalk: ") {
					for _, p := range msgcheck.Problems(line) {
						t.Errorf("%s\n  in: %s", p, line)
					}
				}
			}
		})
	}

	t.Run("stats json", func(t *testing.T) {
		code, out, errOut := s.ctl(t, "", "--json", "stats")
		var m map[string]float64
		if code != ExitOK || json.Unmarshal([]byte(out), &m) != nil {
			t.Fatalf("exit %d, %q %q", code, out, errOut)
		}
		if m[`addrwalk_queries_total{cached="false",rcode="NOERROR",transport="udp",type="A"}`] != 1 {
			t.Errorf("queries counter missing from %v", m)
		}
	})

	t.Run("reload", func(t *testing.T) {
		good, err := os.ReadFile(s.conf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.conf, append(good, []byte("\n[bogus]\nkey = 1\n")...), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := s.ctl(t, "", "reload")
		line := strings.Count(string(good), "\n") + 2
		if code != ExitFailure || !strings.Contains(errOut, fmt.Sprintf("addrwalk.toml:%d:2: unknown key \"bogus\"", line)) {
			t.Errorf("bad reload: exit %d, %q", code, errOut)
		}
		if err := os.WriteFile(s.conf, good, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := s.ctl(t, "", "reload"); code != ExitOK || out != "reloaded\n" {
			t.Errorf("good reload: exit %d, %q %q", code, out, errOut)
		}
	})
}

// TestCtlDumpLoadRoundTrip dumps a warm server's cache, loads it into a
// fresh one and checks that the same questions are then answered with no
// upstream query at all.
func TestCtlDumpLoadRoundTrip(t *testing.T) {
	lab := startServeLab(t)
	warm := startCtlServe(t, lab, "")
	questions := []struct {
		name  string
		qtype uint16
	}{{"www.example.org.", dns.TypeA}, {"www.example.org.", dns.TypeAAAA}, {"nope.example.org.", dns.TypeA}, {"example.org.", dns.TypeNS}}
	want := map[string]string{}
	for _, q := range questions {
		r := warm.query(t, q.name, q.qtype)
		want[q.name+dns.TypeToString[q.qtype]] = fmt.Sprint(dns.RcodeToString[r.Rcode], len(r.Answer), len(r.Ns))
	}
	code, dump, errOut := warm.ctl(t, "", "dump-cache")
	if code != ExitOK {
		t.Fatalf("dump-cache: exit %d %s", code, errOut)
	}
	dumped := strings.Count(dump, "\n+")
	fresh := startCtlServe(t, lab, "")
	code, out, errOut := fresh.ctl(t, dump, "load-cache")
	if code != ExitOK {
		t.Fatalf("load-cache: exit %d %s", code, errOut)
	}
	if wantOut := fmt.Sprintf("loaded %d entries (%d stored)\n", dumped, dumped); out != wantOut {
		t.Errorf("load-cache said %q, want %q", out, wantOut)
	}
	t.Logf("round trip: %d entries dumped, %s", dumped, strings.TrimSpace(out))
	lab.ResetQueries()
	for _, q := range questions {
		r := fresh.query(t, q.name, q.qtype)
		if got := fmt.Sprint(dns.RcodeToString[r.Rcode], len(r.Answer), len(r.Ns)); got != want[q.name+dns.TypeToString[q.qtype]] {
			t.Errorf("%s %s after load: %s, want %s", q.name, dns.TypeToString[q.qtype], got, want[q.name+dns.TypeToString[q.qtype]])
		}
	}
	if qs := lab.Queries(); len(qs) != 0 {
		t.Errorf("a loaded cache still sent %d upstream queries: %v", len(qs), qs)
	}
}

func TestCtlRefusesInsecureSocket(t *testing.T) {
	lab := startServeLab(t)
	s := startCtlServe(t, lab, "")
	if err := os.Chmod(s.socket, 0o666); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := s.ctl(t, "", "status")
	if code != ExitUsage || !strings.Contains(errOut, "refusing an unsafe endpoint") || !strings.Contains(errOut, "mode 0666") {
		t.Errorf("world-writable socket: exit %d, %q", code, errOut)
	}
	if err := os.Chmod(s.socket, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := s.ctl(t, "", "status"); code != ExitOK {
		t.Fatalf("0600 socket refused: %q", errOut)
	}
	if os.Geteuid() != 0 {
		t.Log("not root: cannot give the socket to another user; owner check not exercised")
		return
	}
	if err := os.Lchown(s.socket, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = s.ctl(t, "", "status")
	if code != ExitUsage || !strings.Contains(errOut, "owned by uid 65534") {
		t.Errorf("socket of another user: exit %d, %q", code, errOut)
	}
}
