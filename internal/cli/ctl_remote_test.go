package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// runCtlSetup runs `addrwalk ctl setup -d dir [more...]`.
func runCtlSetup(t *testing.T, dir string, more ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), append([]string{"ctl", "setup", "-d", dir}, more...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// setupControlKeys returns the [control] keys `ctl setup` printed, with
// the remote address replaced by addr.
func setupControlKeys(t *testing.T, out, addr string) string {
	t.Helper()
	_, block, ok := strings.Cut(out, "[control]\n")
	if !ok {
		t.Fatalf("setup printed no [control] section:\n%s", out)
	}
	block, _, _ = strings.Cut(block, "\n\n")
	re := regexp.MustCompile(`remote = "127\.0\.0\.1:8953"`)
	if !re.MatchString(block) {
		t.Fatalf("setup printed no remote key:\n%s", block)
	}
	return re.ReplaceAllString(block, `remote = "`+addr+`"`)
}

// startRemoteCtlServe runs `ctl setup`, starts serve with the
// configuration it printed (on a loopback port of the test's) and returns
// a ctlServe whose ctl goes over --remote with the client's files.
func startRemoteCtlServe(t *testing.T, lab *resolvertest.Lab, extra string) *ctlServe {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	code, out, errOut := runCtlSetup(t, dir)
	if code != ExitOK {
		t.Fatalf("ctl setup: exit %d %s", code, errOut)
	}
	s := startServeControl(t, lab, extra, setupControlKeys(t, out, "127.56.204.1:0"), nil)
	code, status, errOut := s.ctl(t, "", "status")
	if code != ExitOK {
		t.Fatalf("status over the socket: exit %d %s", code, errOut)
	}
	m := regexp.MustCompile(`(?m)^listener: control-tls (\S+)$`).FindStringSubmatch(status)
	if m == nil {
		t.Fatalf("status lists no remote control listener:\n%s", status)
	}
	s.via = []string{"--remote", m[1],
		"--cert", filepath.Join(dir, "control-client.pem"), "--key", filepath.Join(dir, "control-client.key"), "--ca", filepath.Join(dir, "control-ca.pem")}
	return s
}

// fileModes maps each file under dir to its mode.
func fileModes(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	got := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[rel] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// readAll returns the contents of each file under dir.
func readAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name := range fileModes(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	return out
}

// TestCtlSetup checks the files `ctl setup` writes and their modes, that
// it keeps existing files without --force, and replaces them all with it.
func TestCtlSetup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "addrwalk") // created by setup
	code, out, errOut := runCtlSetup(t, dir)
	if code != ExitOK {
		t.Fatalf("setup: exit %d %s", code, errOut)
	}
	want := map[string]fs.FileMode{
		"control-ca.pem":     0o644,
		"control-server.pem": 0o644,
		"control-server.key": 0o600,
		"control-client.pem": 0o644,
		"control-client.key": 0o600,
	}
	if diff := cmp.Diff(want, fileModes(t, dir)); diff != "" {
		t.Errorf("files and modes (-want +got):\n%s", diff)
	}
	wantKeys := "remote = \"127.0.0.1:8953\"\nserver-cert = \"" + dir + "/control-server.pem\"\nserver-key = \"" + dir +
		"/control-server.key\"\nclient-ca = \"" + dir + "/control-ca.pem\""
	if diff := cmp.Diff(wantKeys, setupControlKeys(t, out, "127.0.0.1:8953")); diff != "" {
		t.Errorf("printed configuration (-want +got):\n%s", diff)
	}
	if !strings.Contains(out, "addrwalk ctl --remote 127.0.0.1 --cert "+dir+"/control-client.pem") {
		t.Errorf("printed no ctl command line:\n%s", out)
	}
	first := readAll(t, dir)

	t.Run("existing files are kept", func(t *testing.T) {
		code, _, errOut := runCtlSetup(t, dir)
		if code != ExitUsage || !strings.Contains(errOut, "files already exist") || !strings.Contains(errOut, "control-server.key") {
			t.Errorf("second setup: exit %d %q", code, errOut)
		}
		if diff := cmp.Diff(first, readAll(t, dir)); diff != "" {
			t.Errorf("files changed without --force (-want +got):\n%s", diff)
		}
	})
	t.Run("one existing file is enough to refuse", func(t *testing.T) {
		other := t.TempDir()
		if err := os.WriteFile(filepath.Join(other, "control-client.key"), []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCtlSetup(t, other)
		if code != ExitUsage || !strings.Contains(errOut, "control-client.key") {
			t.Errorf("exit %d %q", code, errOut)
		}
		if diff := cmp.Diff(map[string]string{"control-client.key": "mine"}, readAll(t, other)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("force replaces them all", func(t *testing.T) {
		code, _, errOut := runCtlSetup(t, dir, "--force")
		if code != ExitOK {
			t.Fatalf("setup --force: exit %d %s", code, errOut)
		}
		if diff := cmp.Diff(want, fileModes(t, dir)); diff != "" {
			t.Errorf("files and modes (-want +got):\n%s", diff)
		}
		for name, old := range readAll(t, dir) {
			if old == first[name] {
				t.Errorf("%s not replaced", name)
			}
		}
	})
	t.Run("arguments are refused", func(t *testing.T) {
		if code, _, errOut := runCtlSetup(t, dir, "extra"); code != ExitUsage || !strings.Contains(errOut, "usage: addrwalk ctl setup") {
			t.Errorf("exit %d %q", code, errOut)
		}
	})
}

// TestCtlRemote runs the round trip setup → serve with remote control →
// ctl --remote, and the ways a client is turned away.
func TestCtlRemote(t *testing.T) {
	lab := startServeLab(t)
	s := startRemoteCtlServe(t, lab, "")
	// Another setup's client: a certificate from a CA the server does
	// not know, and a CA that does not know the server.
	stranger := filepath.Join(t.TempDir(), "stranger")
	if code, _, errOut := runCtlSetup(t, stranger); code != ExitOK {
		t.Fatalf("setup: %s", errOut)
	}
	remote := s.via[1]
	mine := func(name string) string { return s.via[slices.Index(s.via, "--"+name)+1] }
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout (success) or stderr
	}{
		{"status", []string{"--remote", remote, "--cert", mine("cert"), "--key", mine("key"), "--ca", mine("ca"), "status"},
			ExitOK, "listener: control-tls " + remote},
		{"client of another setup", []string{"--remote", remote, "--cert", filepath.Join(stranger, "control-client.pem"),
			"--key", filepath.Join(stranger, "control-client.key"), "--ca", mine("ca"), "status"}, ExitFailure, "unknown certificate authority"},
		{"CA of another setup", []string{"--remote", remote, "--cert", mine("cert"), "--key", mine("key"),
			"--ca", filepath.Join(stranger, "control-ca.pem"), "status"}, ExitFailure, "certificate signed by unknown authority"},
		{"wrong server name", []string{"--remote", remote, "--cert", mine("cert"), "--key", mine("key"), "--ca", mine("ca"),
			"--server-name", "dns.example.org", "status"}, ExitFailure, "not dns.example.org"},
		{"missing key file", []string{"--remote", remote, "--cert", mine("cert"), "--key", filepath.Join(stranger, "absent.key"),
			"--ca", mine("ca"), "status"}, ExitUsage, "absent.key"},
		{"certificate without --remote", []string{"--socket", s.socket, "--cert", mine("cert"), "status"}, ExitUsage, "go with --remote"},
		{"bad port", []string{"--remote", "127.0.0.1:99999", "status"}, ExitUsage, "bad port"},
	}
	t.Run("dump and load over the remote channel", func(t *testing.T) {
		s.query(t, "www.example.org.", dns.TypeA)
		code, dump, errOut := s.ctl(t, "", "dump-cache")
		if code != ExitOK || !strings.Contains(dump, "www.example.org.") {
			t.Fatalf("dump-cache: exit %d %q %q", code, dump, errOut)
		}
		dumped := strings.Count(dump, "\n+")
		code, out, errOut := s.ctl(t, dump, "load-cache") // the upload goes over TLS, then close_notify
		if want := fmt.Sprintf("loaded %d entries (%d stored)\n", dumped, dumped); code != ExitOK || out != want {
			t.Errorf("load-cache: exit %d %q %q, want %q", code, out, errOut, want)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(t.Context(), append([]string{"ctl", "--timeout", "10s"}, tt.args...), &stdout, &stderr)
			got := stdout.String()
			if tt.wantCode != ExitOK {
				got = stderr.String()
			}
			if code != tt.wantCode || !strings.Contains(got, tt.want) {
				t.Errorf("exit %d, want %d with %q; stdout %q stderr %q", code, tt.wantCode, tt.want, stdout.String(), stderr.String())
			}
		})
	}
}

// exitCode is the status Run would exit with for err.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return ExitFailure
	}
	return ExitOK
}

// TestServeRefusesRemoteWithoutCertificates checks that serve does not
// start with a remote control listener whose files are missing, and that
// --check-config says so too.
func TestServeRefusesRemoteWithoutCertificates(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, control, want string
	}{
		{"no files configured", `remote = "127.56.204.2:0"`, "needs control.server-cert, control.server-key, control.client-ca"},
		{"files missing", `remote = "127.56.204.2:0"
server-cert = "` + dir + `/absent.pem"
server-key = "` + dir + `/absent.key"
client-ca = "` + dir + `/absent-ca.pem"`, "absent.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "addrwalk.toml")
			text := "[server]\nlisten = [\"127.56.204.2:0\"]\n[control]\n" + tt.control + "\n[log]\nlevel = \"error\"\n"
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			started := make(chan struct{}, 1)
			cmd := &ServeCmd{Config: conf, ready: func(_ []netip.AddrPort, _ netip.AddrPort) { started <- struct{}{}; cancel() }}
			var stderr bytes.Buffer
			err := cmd.Run(&Globals{Ctx: ctx, Stdout: io.Discard, Stderr: &stderr})
			if len(started) > 0 {
				t.Fatal("serve started")
			}
			if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve = %v (exit %d), want exit %d with %q", err, exitCode(err), ExitUsage, tt.want)
			}
			check := &ServeCmd{Config: conf, CheckConfig: true}
			err = check.Run(&Globals{Ctx: t.Context(), Stdout: io.Discard, Stderr: io.Discard})
			if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve --check-config = %v (exit %d), want exit %d with %q", err, exitCode(err), ExitUsage, tt.want)
			}
		})
	}
}
