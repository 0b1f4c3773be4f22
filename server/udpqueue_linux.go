//go:build linux

package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// tuneUDP sets up a UDP listener for the queue checks: the large receive
// buffer (SO_RCVBUFFORCE when the process may, as root or with
// CAP_NET_ADMIN; else SO_RCVBUF up to net.core.rmem_max) and the kernel's
// receive time on every datagram (SO_TIMESTAMPNS, which udpbatch reads).
// It never fails the listener: without the stamp no miss is ever shed as
// late.
func tuneUDP(conn *net.UDPConn) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	var forced bool
	_ = rc.Control(func(fd uintptr) {
		forced = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, udpReceiveBuffer) == nil
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	})
	if !forced {
		_ = listenerBuffer(conn)
	}
}
