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
	// Remote is the address of the remote control listener, mutual TLS
	// only (`addrwalk ctl --remote`); unset means none. Never on unless
	// configured, and then only with ServerCert, ServerKey and ClientCA;
	// unbound-control's port is 8953.
	Remote *netip.AddrPort `toml:"remote"`
	// ServerCert and ServerKey are the listener's certificate and key;
	// ClientCA the CA a client's certificate must chain to (it must be
	// the control channel's own: any certificate it issued gets in).
	// `addrwalk ctl setup` makes all three. Read at start.
	ServerCert string `toml:"server-cert"`
	ServerKey  string `toml:"server-key"`
	ClientCA   string `toml:"client-ca"`
}

// DefaultControlSocket is the control socket's path when "default" is
// configured; systemd's RuntimeDirectory=addrwalk creates its directory.
const DefaultControlSocket = "/run/addrwalk/control.sock"

// validateControl checks the [control] section.
func (c *Config) validateControl() error {
	if err := c.Control.validateRemote(); err != nil {
		return err
	}
	s := c.Control.Socket
	if s == "" || s == "default" {
		return nil
	}
	if !filepath.IsAbs(s) {
		return invalid("%s %q: must be an absolute path", c.Name("control.socket"), s)
	}
	// sun_path is 108 bytes on Linux (104 on the BSDs), NUL included.
	if len(s) > 103 {
		return invalid("%s %q: longer than a Unix socket path may be (103 bytes)", c.Name("control.socket"), s)
	}
	return nil
}

// validateRemote refuses a remote control listener without its
// certificates: a control channel open to the network without mutual TLS
// would let anyone flush or reload the server.
func (c *Control) validateRemote() error {
	if c.Remote == nil {
		return nil
	}
	var missing []string
	for _, k := range []struct{ key, val string }{{"server-cert", c.ServerCert}, {"server-key", c.ServerKey}, {"client-ca", c.ClientCA}} {
		if k.val == "" {
			missing = append(missing, "control."+k.key)
		}
	}
	if len(missing) > 0 {
		return invalid("control.remote %v needs %s: the remote control channel is mutual TLS only (`addrwalk ctl setup` makes the files)",
			*c.Remote, strings.Join(missing, ", "))
	}
	if a := c.Remote.Addr(); !a.IsValid() || a.Zone() != "" {
		return invalid("control.remote %v: want an IP address and port, without a zone", *c.Remote)
	}
	return nil
}

// Enabled reports whether serve runs a control channel at all.
func (c *Control) Enabled() bool { return c.ControlSocket() != "" || c.Remote != nil }

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
