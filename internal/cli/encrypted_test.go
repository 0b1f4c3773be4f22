package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/tlscert"
)

// needTool returns the path of a client program, skipping the test when
// it is missing outside CI (scripts/test installs it; in CI it must be
// there).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s not installed (scripts/test installs knot-dnsutils, bind9-dnsutils and curl)", name)
		}
		t.Fatalf("%s not installed in CI: scripts/test should have installed it", name)
	}
	return p
}

// TestServeEncryptedRealClients runs kdig, BIND's dig and curl against
// serve's DoT and DoH listeners, with the --self-signed certificate as
// their trust anchor.
func TestServeEncryptedRealClients(t *testing.T) {
	lab := startServeLab(t)
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello over DoH") }))
	ln, err := net.Listen("tcp", "127.56.204.9:0")
	if err != nil {
		t.Fatal(err)
	}
	web.Listener = ln
	web.Start()
	t.Cleanup(web.Close)
	webPort := ln.Addr().(*net.TCPAddr).Port

	certFile := filepath.Join(t.TempDir(), "cert.pem")
	encrypted := make(chan [2][]netip.AddrPort, 1)
	s := startServeWith(t, lab, `[local]
records = ["web.example.org. 60 IN A 127.56.204.9"]
`, func(c *ServeCmd) {
		c.DoT, c.DoH = []string{"127.56.204.1:0"}, []string{"127.56.204.1:0"}
		c.SelfSigned, c.SelfSignedOut = true, certFile
		c.readyEncrypted = func(dot, doh []netip.AddrPort) { encrypted <- [2][]netip.AddrPort{dot, doh} }
	})
	ea := <-encrypted
	dot, doh := ea[0][0], ea[1][0]
	tlsOpts := []string{"+tls-ca=" + certFile, "+tls-hostname=localhost"}
	tests := []struct {
		name string
		tool string
		args []string
		want []string
	}{
		{"kdig +tls", "kdig", append([]string{"@" + dot.Addr().String(), "-p", fmt.Sprint(dot.Port()), "+tls"}, append(tlsOpts, "www.example.org", "A")...),
			[]string{"status: NOERROR", "192.0.2.10", "PADDING"}},
		{"kdig +https (POST)", "kdig", append([]string{"@" + doh.Addr().String(), "-p", fmt.Sprint(doh.Port()), "+https"}, append(tlsOpts, "www.example.org", "A")...),
			[]string{"HTTP/2-POST", "status: 200", "192.0.2.10", "PADDING"}},
		{"kdig +https-get", "kdig", append([]string{"@" + doh.Addr().String(), "-p", fmt.Sprint(doh.Port()), "+https-get"}, append(tlsOpts, "www.example.org", "A")...),
			[]string{"HTTP/2-GET", "status: 200", "192.0.2.10"}},
		{"dig +tls", "dig", append([]string{"@" + dot.Addr().String(), "-p", fmt.Sprint(dot.Port()), "+tls"}, append(tlsOpts, "www.example.org", "A")...),
			[]string{"status: NOERROR", "192.0.2.10", "(TLS)"}},
		{"dig +https", "dig", append([]string{"@" + doh.Addr().String(), "-p", fmt.Sprint(doh.Port()), "+https"}, append(tlsOpts, "www.example.org", "A")...),
			[]string{"status: NOERROR", "192.0.2.10", "(HTTPS)"}},
		{"dig +https-get", "dig", append([]string{"@" + doh.Addr().String(), "-p", fmt.Sprint(doh.Port()), "+https-get"}, append(tlsOpts, "www.example.org", "A")...),
			[]string{"status: NOERROR", "192.0.2.10", "(HTTPS-GET)"}},
		{"curl --doh-url", "curl", []string{"-sS", "--max-time", "10", "--doh-url", "https://" + doh.String() + "/dns-query", "--cacert", certFile,
			fmt.Sprintf("http://web.example.org:%d/", webPort)}, []string{"hello over DoH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := needTool(t, tt.tool)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, path, tt.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", tt.tool, strings.Join(tt.args, " "), err, out)
			}
			for _, w := range tt.want {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("%s output lacks %q:\n%s", tt.tool, w, out)
				}
			}
			t.Logf("%s %s: ok", tt.tool, strings.Join(tt.args, " "))
		})
	}

	t.Run("ctl status lists the listeners", func(t *testing.T) {
		code, out, _ := s.ctl(t, "", "status")
		if code != ExitOK || !strings.Contains(out, "listener: dot "+dot.String()) || !strings.Contains(out, "listener: doh https://"+doh.String()+"/dns-query") {
			t.Errorf("status: %d\n%s", code, out)
		}
	})
	t.Run("stats count per transport", func(t *testing.T) {
		_, out, _ := s.ctl(t, "", "stats")
		for _, tr := range []string{"dot", "doh"} {
			if !strings.Contains(out, `transport="`+tr+`"`) {
				t.Errorf("no %s counter in stats:\n%s", tr, out)
			}
		}
	})
}

// TestServeCertReload swaps the certificate files and reloads: new
// connections get the new certificate, an open connection keeps working.
func TestServeCertReload(t *testing.T) {
	lab := startServeLab(t)
	dir := t.TempDir()
	ca, err := tlscert.NewCA("reload test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	issue := func() *tlscert.Issued {
		is, err := ca.Issue([]string{"dns.example.org"}, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(certFile, is.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, is.KeyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		return is
	}
	first := issue()
	encrypted := make(chan []netip.AddrPort, 1)
	s := startServeWith(t, lab, "", func(c *ServeCmd) {
		c.DoT = []string{"127.56.205.1:0"}
		c.TLSCert, c.TLSKey = certFile, keyFile
		c.readyEncrypted = func(dot, _ []netip.AddrPort) { encrypted <- dot }
	})
	dot := (<-encrypted)[0]
	roots := &tls.Config{RootCAs: ca.Pool(), ServerName: "dns.example.org"}
	dial := func() (*dns.Conn, []byte) {
		t.Helper()
		c, err := tls.Dial("tcp", dot.String(), roots)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return &dns.Conn{Conn: c}, c.ConnectionState().PeerCertificates[0].Raw
	}
	ask := func(c *dns.Conn) {
		t.Helper()
		if err := c.WriteMsg(question("www.example.org.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if r, err := c.ReadMsg(); err != nil || len(r.Answer) != 1 {
			t.Fatalf("DoT query: %v %v", r, err)
		}
	}
	old, raw := dial()
	if !bytes.Equal(raw, first.TLS.Certificate[0]) {
		t.Fatal("not serving the configured certificate")
	}
	ask(old)
	second := issue()
	if code, out, errOut := s.ctl(t, "", "reload"); code != ExitOK {
		t.Fatalf("reload: %s %s", out, errOut)
	}
	_, raw = dial()
	if !bytes.Equal(raw, second.TLS.Certificate[0]) {
		t.Error("a new connection after reload did not get the new certificate")
	}
	ask(old) // the connection made before the reload still works

	// A broken key file fails the reload and keeps the certificate.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := s.ctl(t, "", "reload"); code != ExitFailure || !strings.Contains(errOut, "tls-key") {
		t.Errorf("reload with a bad key: %d %s", code, errOut)
	}
	if _, raw = dial(); !bytes.Equal(raw, second.TLS.Certificate[0]) {
		t.Error("a failed reload changed the certificate")
	}
}

func TestServeEncryptedNeedsCertificate(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"serve", "--listen", "127.56.206.1:0", "--dot", "127.56.206.1:0"}, &stdout, &stderr)
	if code != ExitUsage || !strings.Contains(stderr.String(), "needs a certificate") || !strings.Contains(stderr.String(), "--self-signed") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}
