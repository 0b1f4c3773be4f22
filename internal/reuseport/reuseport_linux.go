//go:build linux

package reuseport

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Supported is true where several UDP sockets can share one address.
const Supported = true

// Control sets SO_REUSEPORT on a socket before it is bound: a
// net.ListenConfig's Control.
func Control(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
