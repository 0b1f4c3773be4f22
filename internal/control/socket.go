package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/addrwalk/addrwalk/internal/fileerr"
)

// DefaultSocket is where serve listens and ctl connects when no path is
// given; systemd's RuntimeDirectory=addrwalk creates its directory.
const DefaultSocket = "/run/addrwalk/control.sock"

// socketMode is the mode of the socket: only its owner may connect (Linux
// needs write permission on a socket to connect to it).
const socketMode = 0o600

// ErrInsecureSocket is wrapped by CheckSocket's errors about a socket's
// owner or mode.
var ErrInsecureSocket = errors.New("control: refusing an unsafe endpoint")

// SocketKey is the configuration key naming the control socket.
const SocketKey = "control.socket"

// Listen binds the control socket at path with mode 0600. A stale socket
// left by a server that died is removed; one a live server answers on is
// not (the error says so), nor is a file that is not a socket. name is
// what errors call the path: the flag or key that named it.
func Listen(name, path string) (*net.UnixListener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("control: %s exists and is not a socket; not removing it", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("control: %s: another server is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control: a stale socket is in the way: %w", fileerr.Write(name, path, err))
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control: %w", fileerr.Write(name, path, err))
	}
	// The umask may leave the socket group- or world-writable for a
	// moment; peers are also checked by uid on accept, so nobody gets in
	// through that window.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control: %w", fileerr.Write(name, path, err))
	}
	if err := os.Chmod(path, socketMode); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("control: %w", fileerr.Write(name, path, err))
	}
	return ln, nil
}

// CheckSocket refuses a control socket the caller should not trust: one
// that is not a socket, that group or others may connect to, or that is
// owned by another user. Root may also use a socket owned by the owner of
// its directory when nobody else may write to that directory (the service
// user's /run/addrwalk under systemd's DynamicUser=).
func CheckSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("control: no socket at %s (is addrwalk serve running with --control %s?)", path, path)
	}
	if err != nil {
		return fmt.Errorf("control: %w", fileerr.Read("socket", path, err))
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s is not a socket", ErrInsecureSocket, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; others could talk to it or impersonate the server (want 0600)", ErrInsecureSocket, path, perm)
	}
	uid, ok := fileOwner(fi)
	if !ok {
		return nil
	}
	me := uint32(os.Geteuid())
	if uid == me {
		return nil
	}
	if me == 0 {
		dir, err := os.Stat(filepath.Dir(path))
		if err == nil {
			if duid, ok := fileOwner(dir); ok && duid == uid && dir.Mode().Perm()&0o022 == 0 {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: %s is owned by uid %d, not by you (uid %d)", ErrInsecureSocket, path, uid, me)
}
