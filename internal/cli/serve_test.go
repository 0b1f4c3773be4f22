package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// startServeLab starts a tiny hierarchy on 127.56.0.0/16.
func startServeLab(t *testing.T) *resolvertest.Lab {
	t.Helper()
	return resolvertest.Hierarchy{
		Zones: map[string]string{
			".": `$TTL 86400
@ IN SOA a.root.lab. h.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
a.root.lab. IN A 127.56.0.1
example.org. IN NS ns1.example.org.
ns1.example.org. IN A 127.56.1.1
`,
			"example.org.": `$TTL 3600
@ IN SOA ns1 h 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 127.56.1.1
www IN A 192.0.2.10
`,
		},
		Servers: []resolvertest.Host{
			{Name: "a.root.lab.", Addr: "127.56.0.1", Zones: []string{"."}},
			{Name: "ns1.example.org.", Addr: "127.56.1.1", Zones: []string{"example.org."}},
		},
	}.Start(t, resolvertest.Config{})
}

func TestServeCommand(t *testing.T) {
	lab := startServeLab(t)
	dir := t.TempDir()
	hints := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hints, []byte(lab.RootHints()), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "addrwalk.toml")
	writeConf := func(extra string) {
		t.Helper()
		text := fmt.Sprintf(`
[server]
listen = ["127.56.200.1:0"]
metrics = "127.56.200.1:0"
[resolver]
root-hints = %q
port = %d
allow-loopback = true
[log]
level = "warn"
%s`, hints, lab.Port(), extra)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConf("")

	type addrs struct {
		dns     []netip.AddrPort
		metrics netip.AddrPort
	}
	ready := make(chan addrs, 1)
	reload := make(chan chan error)
	cmd := &ServeCmd{Config: conf, QueryLog: true,
		ready:  func(d []netip.AddrPort, m netip.AddrPort) { ready <- addrs{d, m} },
		reload: reload,
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- cmd.Run(&Globals{Ctx: ctx, Stdout: io.Discard, Stderr: &lockedWriter{w: &stderr}}) }()
	var a addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	}

	c := &dns.Client{Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	r, _, err := c.Exchange(m, a.dns[0].String())
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("query: %v %v", r, err)
	}

	resp, err := http.Get("http://" + a.metrics.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "addrwalk_queries_total") || !strings.Contains(string(body), "addrwalk_upstream_queries_total") {
		t.Errorf("metrics page lacks query counters:\n%.500s", body)
	}

	// Each reload is waited for: a reload still reading the file while the
	// test rewrites it would load a truncated (empty, so default) file.
	reloadAndWait := func() error {
		reply := make(chan error, 1)
		reload <- reply
		return <-reply
	}
	writeConf("[local]\nrecords = [\"new.example.org. 60 IN A 192.0.2.77\"]\n")
	if err := reloadAndWait(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	m.SetQuestion("new.example.org.", dns.TypeA)
	if r, _, err := c.Exchange(m, a.dns[0].String()); err != nil || len(r.Answer) != 1 || !r.Authoritative {
		t.Errorf("reloaded local data not served: %v %v", r, err)
	}

	writeConf("[bogus]\nkey = 1\n")
	if err := reloadAndWait(); err == nil {
		t.Error("a configuration with an unknown section reloaded")
	}
	if r, _, err := c.Exchange(m, a.dns[0].String()); err != nil || len(r.Answer) != 1 {
		t.Errorf("after a bad reload: %v %v", r, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if !strings.Contains(stderr.String(), "reload failed") {
		t.Errorf("bad reload not logged:\n%s", stderr.String())
	}
}

func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[server]\nlisten = [\"127.0.0.1:53\"]\nlisen = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte("[server]\nlisten = [\"127.56.201.1:5353\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown key", []string{"serve", "--config", bad}, ExitUsage, "bad.toml:3:1: unknown key \"server.lisen\""},
		{"bad listen flag", []string{"serve", "--listen", "localhost"}, ExitUsage, "--listen \"localhost\""},
		{"bad allow flag", []string{"serve", "--allow", "everyone"}, ExitUsage, "--allow"},
		{"missing file", []string{"serve", "--config", filepath.Join(dir, "none.toml")}, ExitUsage, "no such file"},
		{"check config", []string{"serve", "--config", good, "--check-config"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

// lockedWriter serialises writes from the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestDNSSECConfigSkew(t *testing.T) {
	dur := func(d time.Duration) *config.Duration { c := config.Duration(d); return &c }
	tests := []struct {
		name     string
		min, max *config.Duration
		want     dnssec.Limits
	}{
		{"unset keeps the defaults", nil, nil, dnssec.Limits{}},
		{"bounds", dur(10 * time.Minute), dur(2 * time.Hour), dnssec.Limits{SigSkewMin: 10 * time.Minute, SigSkewMax: 2 * time.Hour}},
		{"exact", dur(0), dur(0), dnssec.Limits{SigSkewMin: time.Nanosecond, SigSkewMax: -1}},
	}
	var rc resolver.Config
	if err := dnssecConfig(&rc, &config.Config{DNSSEC: config.DNSSEC{TrustAnchorSignaling: true}}); err != nil || !rc.KeyTagSignal {
		t.Errorf("trust-anchor-signaling = true: KeyTagSignal %v, err %v", rc.KeyTagSignal, err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rc resolver.Config
			cfg := &config.Config{DNSSEC: config.DNSSEC{SigSkewMin: tc.min, SigSkewMax: tc.max}}
			if err := dnssecConfig(&rc, cfg); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rc.Validation); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeDNSSECFlags(t *testing.T) {
	tests := []struct {
		name string
		cmd  ServeCmd
		from config.DNSSEC
		want config.DNSSEC
	}{
		{"none", ServeCmd{}, config.DNSSEC{Validation: "auto"}, config.DNSSEC{Validation: "auto"}},
		{"trust anchor replaces the configured ones", ServeCmd{TrustAnchor: "sim-root.ds"},
			config.DNSSEC{TrustAnchors: []string{". DS 1 8 2 00"}},
			config.DNSSEC{TrustAnchorFile: "sim-root.ds"}},
		{"trust anchor turns validation back on", ServeCmd{TrustAnchor: "a.ds"}, config.DNSSEC{Validation: "off"},
			config.DNSSEC{Validation: "on", TrustAnchorFile: "a.ds"}},
		{"no-validate wins", ServeCmd{TrustAnchor: "a.ds", NoValidate: true}, config.DNSSEC{},
			config.DNSSEC{Validation: "off", TrustAnchorFile: "a.ds"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{DNSSEC: tc.from}
			if err := tc.cmd.applyFlags(cfg); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.DNSSEC); diff != "" {
				t.Errorf("[dnssec] (-want +got):\n%s", diff)
			}
		})
	}
}
