package cli

import (
	"crypto/tls"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/tlscert"
	"github.com/addrwalk/addrwalk/server"
)

// selfSignedLifetime is how long a --self-signed certificate is valid: a
// test session, with room; a restart makes a new one.
const selfSignedLifetime = 7 * 24 * time.Hour

// certStore holds the certificate of the DoT and DoH listeners. Handshakes
// read the current one, so a reload swaps it without dropping connections.
type certStore struct {
	cur        atomic.Pointer[tls.Certificate]
	selfSigned bool
}

// tlsConfig returns the listeners' TLS configuration, or nil when there
// is no certificate (the server then refuses to start encrypted
// listeners, with a clear error).
func (cs *certStore) tlsConfig() *tls.Config {
	if cs == nil || cs.cur.Load() == nil {
		return nil
	}
	return &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cs.cur.Load(), nil }}
}

// newCertStore loads the configured certificate, or makes a self-signed one
// for the loopback names and the encrypted listeners' addresses (written
// to selfSignedOut when set, for clients to trust).
func newCertStore(cfg *config.Config, selfSigned bool, selfSignedOut string, log *slog.Logger) (*certStore, error) {
	cs := &certStore{selfSigned: selfSigned}
	enc := cfg.Server.Encrypted
	switch {
	case selfSigned:
		return cs.selfSign(cfg, selfSignedOut, log)
	case enc.TLSCert != "":
		if err := cs.reload(cfg); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func (cs *certStore) selfSign(cfg *config.Config, out string, log *slog.Logger) (*certStore, error) {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	enc := cfg.Server.Encrypted
	for _, l := range [][]netip.AddrPort{enc.DoTListen, enc.DoHListen} {
		for _, ap := range l {
			if a := ap.Addr().String(); !slices.Contains(hosts, a) {
				hosts = append(hosts, a)
			}
		}
	}
	is, err := tlscert.SelfSigned(hosts, time.Now(), selfSignedLifetime)
	if err != nil {
		return nil, err
	}
	cs.cur.Store(&is.TLS)
	pin, _ := tlscert.Pin(&is.TLS)
	if out != "" {
		if err := os.WriteFile(out, is.CertPEM, 0o644); err != nil {
			return nil, fileerr.Write("--self-signed-cert", out, err)
		}
	}
	log.Warn("serving DoT/DoH with a self-signed certificate: for loopback tests only",
		"names", hosts, "spki_pin_sha256", pin, "cert_file", out)
	return cs, nil
}

// reload re-reads the configured certificate files; on error the current
// certificate stays. A self-signed store keeps its certificate.
func (cs *certStore) reload(cfg *config.Config) error {
	enc := cfg.Server.Encrypted
	if cs.selfSigned || enc.TLSCert == "" {
		return nil
	}
	c, err := fileerr.LoadKeyPair(cfg.Name("server.tls-cert"), enc.TLSCert, cfg.Name("server.tls-key"), enc.TLSKey)
	if err != nil {
		return err
	}
	cs.cur.Store(&c)
	return nil
}

// dohPath is the configured DoH path or the default.
func dohPath(cfg *config.Config) string {
	if cfg.Server.DoHPath != "" {
		return cfg.Server.DoHPath
	}
	return server.DefaultDoHPath
}
