//go:build linux

package main

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort is true: -sockets sockets share the address (SO_REUSEPORT),
// as serve's UDP listeners do on Linux.
const reusePort = true

// reusePortControl sets SO_REUSEPORT on a socket before it binds.
func reusePortControl(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
