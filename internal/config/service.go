package config

import (
	"net/netip"
	"path/filepath"
	"strings"
)

// Control configures the control channel (`addrwalk ctl`).
type Control struct {
	// Socket is the path of the Unix socket serve listens on for control
	// commands (mode 0600); unset means no control channel. "default"
	// means /run/addrwalk/control.sock.
	Socket string `toml:"socket"`
}

// DefaultControlSocket is the control socket's path when "default" is
// configured; systemd's RuntimeDirectory=addrwalk creates its directory.
const DefaultControlSocket = "/run/addrwalk/control.sock"

// validateControl checks the [control] section.
func (c *Config) validateControl() error {
	s := c.Control.Socket
	if s == "" || s == "default" {
		return nil
	}
	if !filepath.IsAbs(s) {
		return invalid("control.socket %q: must be an absolute path", s)
	}
	// sun_path is 108 bytes on Linux (104 on the BSDs), NUL included.
	if len(s) > 103 {
		return invalid("control.socket %q: longer than a Unix socket path may be (103 bytes)", s)
	}
	return nil
}

// ControlSocket returns the socket path, or "" when the control channel
// is off.
func (c *Control) ControlSocket() string {
	if c.Socket == "default" {
		return DefaultControlSocket
	}
	return c.Socket
}

// Encrypted configures the DNS-over-TLS (RFC 7858) and DNS-over-HTTPS
// (RFC 8484) listeners; its keys live in [server]. Neither listener is on
// unless its addresses are set, and then a certificate is required.
type Encrypted struct {
	// DoTListen are the addresses served over TLS (port 853 is the
	// standard one).
	DoTListen []netip.AddrPort `toml:"dot-listen"`
	// DoHListen are the addresses served over HTTPS (HTTP/2 and 1.1).
	DoHListen []netip.AddrPort `toml:"doh-listen"`
	// TLSCert and TLSKey are PEM files: the certificate chain and its
	// private key. They are re-read on reload.
	TLSCert string `toml:"tls-cert"`
	TLSKey  string `toml:"tls-key"`
	// DoHPath is the URL path of DoH queries; unset means /dns-query.
	DoHPath string `toml:"doh-path"`
	// DoHTrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header names the client; from anyone else the
	// connection's address is the client.
	DoHTrustedProxies []netip.Prefix `toml:"doh-trusted-proxies"`
}

// validateEncrypted checks the DoT and DoH keys.
func (c *Config) validateEncrypted() error {
	e := &c.Server.Encrypted
	if (e.TLSCert == "") != (e.TLSKey == "") {
		return invalid("server.tls-cert and server.tls-key go together: set both or neither")
	}
	if e.DoHPath != "" && (!strings.HasPrefix(e.DoHPath, "/") || strings.ContainsAny(e.DoHPath, "?# ")) {
		return invalid("server.doh-path %q: must be a URL path starting with /", e.DoHPath)
	}
	for _, l := range []struct {
		key   string
		addrs []netip.AddrPort
	}{{"dot-listen", e.DoTListen}, {"doh-listen", e.DoHListen}} {
		for i, ap := range l.addrs {
			if ap.Addr().Zone() != "" {
				return invalid("server.%s[%d] %v: zones are not supported", l.key, i, ap)
			}
		}
	}
	return nil
}
