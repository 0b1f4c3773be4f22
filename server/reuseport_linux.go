//go:build linux

package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort is true where several UDP sockets can share one address
// (SO_REUSEPORT): the kernel spreads clients over them, and each socket
// gets a reader of its own.
const reusePort = true

// reusePortControl sets SO_REUSEPORT on a socket before it is bound.
func reusePortControl(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
