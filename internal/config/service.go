package config

import (
	"path/filepath"
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
