package control

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/internal/tlscert"
)

// lockedBuffer is a log destination the server's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// writePEM writes data to name in dir and returns its path.
func writePEM(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pki is a control CA with a server and a client certificate, and a
// second CA that has nothing to do with the server.
type pki struct {
	dir            string
	ca, other      *tlscert.CA
	server, client RemoteFiles
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	now := time.Now()
	p := &pki{dir: t.TempDir()}
	var err error
	if p.ca, err = tlscert.NewCA("addrwalk control CA", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if p.other, err = tlscert.NewCA("someone else's CA", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	caFile := writePEM(t, p.dir, "ca.pem", p.ca.PEM)
	p.server = p.files(t, "server", p.serverCert(t, p.ca, ServerName, now), caFile)
	cl, err := p.ca.IssueClient("operator", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p.client = p.files(t, "client", cl, caFile)
	return p
}

func (p *pki) serverCert(t *testing.T, ca *tlscert.CA, name string, now time.Time) *tlscert.Issued {
	t.Helper()
	is, err := ca.Issue([]string{name}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// files writes is under prefix and returns the files with caFile.
func (p *pki) files(t *testing.T, prefix string, is *tlscert.Issued, caFile string) RemoteFiles {
	t.Helper()
	return RemoteFiles{
		Cert: writePEM(t, p.dir, prefix+".pem", is.CertPEM),
		Key:  writePEM(t, p.dir, prefix+".key", is.KeyPEM),
		CA:   caFile,
	}
}

// remoteServer serves a backend whose reload counts its calls on a
// loopback remote listener.
type remoteServer struct {
	addr    string
	reloads atomic.Int32
	log     lockedBuffer
	stop    func() // stops the server and waits for it
}

func startRemote(t *testing.T, files RemoteFiles) *remoteServer {
	t.Helper()
	cfg, err := ServerTLS(files)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := ListenRemote(t.Context(), netip.MustParseAddrPort("127.58.0.1:0"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs := &remoteServer{addr: ln.Addr().String()}
	b := Backend{Version: "test", Reload: func(context.Context) error { rs.reloads.Add(1); return nil }}
	srv := NewServer(b, slog.New(slog.NewTextHandler(&rs.log, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	rs.stop = func() {
		once.Do(func() {
			// Closing the listener, not cancelling ctx, lets the
			// connections being handled finish as they would.
			_ = ln.Close()
			defer cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(rs.stop)
	return rs
}

// TestRemoteControlMutualTLS runs reload over the remote listener with
// the right certificates and with each kind of wrong one: only the right
// pair gets the command run.
func TestRemoteControlMutualTLS(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	clientWith := func(mod func(*tls.Config)) func(t *testing.T) *tls.Config {
		return func(t *testing.T) *tls.Config {
			cfg, err := ClientTLS(p.client, "")
			if err != nil {
				t.Fatal(err)
			}
			if mod != nil {
				mod(cfg)
			}
			return cfg
		}
	}
	// sendClient makes the client present is whatever the server asks
	// for: Go's client would send no certificate at all when the
	// server's CA list does not match, which other clients may not do.
	sendClient := func(is *tlscert.Issued) func(*tls.Config) {
		return func(cfg *tls.Config) {
			cfg.Certificates = nil
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &is.TLS, nil }
		}
	}
	issueClient := func(ca *tlscert.CA, at time.Time, validFor time.Duration) func(*tls.Config) {
		is, err := ca.IssueClient("operator", at, validFor)
		if err != nil {
			t.Fatal(err)
		}
		return sendClient(is)
	}
	tests := []struct {
		name   string
		server func(t *testing.T) RemoteFiles // nil: the right server files
		client func(t *testing.T) *tls.Config
		// wantErr is in the client's error, "" for success;
		// wantLog in the server's log.
		wantErr, wantLog string
	}{
		{name: "right certificates", client: clientWith(nil)},
		{name: "no client certificate", client: clientWith(func(c *tls.Config) { c.Certificates = nil }),
			wantErr: "certificate required", wantLog: "remote connection refused"},
		{name: "client certificate from another CA", client: clientWith(issueClient(p.other, now, time.Hour)),
			wantErr: "unknown certificate authority", wantLog: "signed by unknown authority"},
		{name: "expired client certificate", client: clientWith(issueClient(p.ca, now.Add(-48*time.Hour), 24*time.Hour)),
			wantErr: "expired certificate", wantLog: "certificate has expired"},
		{name: "client certificate from another CA, Go client", client: clientWith(func(c *tls.Config) {
			is, err := p.other.IssueClient("operator", now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			c.Certificates = []tls.Certificate{is.TLS}
		}), wantErr: "certificate required", wantLog: "remote connection refused"},
		{name: "server certificate as client certificate", client: clientWith(sendClient(p.serverCert(t, p.ca, "operator", now))),
			wantErr: "bad certificate", wantLog: "incompatible key usage"},
		{name: "server certificate for the wrong name", server: func(t *testing.T) RemoteFiles {
			return p.files(t, "wrongname", p.serverCert(t, p.ca, "dns.example.org", now), p.server.CA)
		}, client: clientWith(nil), wantErr: "not " + ServerName, wantLog: "remote connection refused"},
		{name: "server certificate from another CA", server: func(t *testing.T) RemoteFiles {
			return p.files(t, "otherca", p.serverCert(t, p.other, ServerName, now), p.server.CA)
		}, client: clientWith(nil), wantErr: "signed by unknown authority", wantLog: "remote connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := p.server
			if tt.server != nil {
				files = tt.server(t)
			}
			rs := startRemote(t, files)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := DoRemote(ctx, rs.addr, tt.client(t), Request{Cmd: "reload"}, nil, &out)
			rs.stop() // the server's log is complete once it stopped
			wantReloads := int32(0)
			if tt.wantErr == "" {
				wantReloads = 1
				if err != nil {
					t.Fatalf("DoRemote: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("DoRemote = %v, want an error with %q", err, tt.wantErr)
			}
			got := struct {
				Out     string
				Reloads int32
			}{out.String(), rs.reloads.Load()}
			want := got
			want.Reloads = wantReloads
			if tt.wantErr == "" {
				want.Out = "reloaded\n"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if log := rs.log.String(); !strings.Contains(log, tt.wantLog) {
				t.Errorf("server log lacks %q:\n%s", tt.wantLog, log)
			}
		})
	}
}

// TestRemoteControlRefusesWithoutClientAuth checks that the remote
// listener cannot be opened without client certificate verification, and
// that missing files are named.
func TestRemoteControlRefusesWithoutClientAuth(t *testing.T) {
	p := newPKI(t)
	good, err := ServerTLS(p.server)
	if err != nil {
		t.Fatal(err)
	}
	noAuth := good.Clone()
	noAuth.ClientAuth = tls.VerifyClientCertIfGiven
	noCAs := good.Clone()
	noCAs.ClientCAs = nil
	addr := netip.MustParseAddrPort("127.58.0.2:0")
	for _, tt := range []struct {
		name string
		cfg  *tls.Config
	}{{"nil configuration", nil}, {"client certificate optional", noAuth}, {"no client CA", noCAs}} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := ListenRemote(t.Context(), addr, tt.cfg)
			if err == nil {
				ln.Close()
			}
			if !errors.Is(err, ErrRemoteTLS) {
				t.Errorf("ListenRemote = %v, want ErrRemoteTLS", err)
			}
		})
	}
	for _, tt := range []struct {
		name  string
		files RemoteFiles
		want  string
	}{
		{"no CA file", RemoteFiles{Cert: p.server.Cert, Key: p.server.Key}, "no CA file given"},
		{"missing key file", RemoteFiles{Cert: p.server.Cert, Key: filepath.Join(p.dir, "absent.key"), CA: p.server.CA}, "absent.key"},
		{"CA file without PEM", RemoteFiles{Cert: p.server.Cert, Key: p.server.Key, CA: writePEM(t, p.dir, "empty.pem", nil)}, "holds no PEM certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ServerTLS(tt.files)
			if !errors.Is(err, ErrRemoteTLS) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ServerTLS = %v, want ErrRemoteTLS with %q", err, tt.want)
			}
		})
	}
}

// TestRemoteControlSilentClient checks that a client that connects
// and sends nothing is let go and does not stop others being served.
func TestRemoteControlSilentClient(t *testing.T) {
	p := newPKI(t)
	rs := startRemote(t, p.server)
	silent, err := net.Dial("tcp", rs.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	cfg, err := ClientTLS(p.client, "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := DoRemote(t.Context(), rs.addr, cfg, Request{Cmd: "status"}, nil, &out); err != nil || !strings.HasPrefix(out.String(), "version: test\n") {
		t.Errorf("status beside a silent client: %v, %q", err, out.String())
	}
}
