//go:build linux

package server

import (
	"encoding/binary"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// udpOOBLen is the control-message room per datagram: one
// SCM_TIMESTAMPNS (a 16-byte header and a 16-byte timespec on 64-bit
// systems), with room to spare.
const udpOOBLen = 64

// tuneUDP sets up a UDP listener for the queue checks: the large receive
// buffer (SO_RCVBUFFORCE when the process may, as root or with
// CAP_NET_ADMIN; else SO_RCVBUF up to net.core.rmem_max) and the kernel's
// receive time on every datagram (SO_TIMESTAMPNS). It never fails the
// listener: without the stamp no miss is ever shed as late.
func tuneUDP(conn *net.UDPConn) udpQueue {
	rc, err := conn.SyscallConn()
	if err != nil {
		return udpQueue{}
	}
	var forced, stamped bool
	_ = rc.Control(func(fd uintptr) {
		forced = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, udpReceiveBuffer) == nil
		stamped = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil
	})
	if !forced {
		_ = listenerBuffer(conn)
	}
	return udpQueue{stamped: stamped}
}

// rxTime returns the kernel's receive time from a datagram's control
// messages (SCM_TIMESTAMPNS), or false when there is none.
func rxTime(oob []byte) (time.Time, bool) {
	// At most udpOOBLen/SizeofCmsghdr messages fit in the buffer.
	for range udpOOBLen / unix.SizeofCmsghdr {
		if len(oob) == 0 {
			break
		}
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return time.Time{}, false
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS {
			switch len(data) {
			case 16: // 64-bit time_t and long
				return time.Unix(int64(binary.NativeEndian.Uint64(data)), int64(binary.NativeEndian.Uint64(data[8:]))), true
			case 8: // 32-bit systems' old timespec
				return time.Unix(int64(int32(binary.NativeEndian.Uint32(data))), int64(int32(binary.NativeEndian.Uint32(data[4:])))), true
			}
			return time.Time{}, false
		}
		oob = rest
	}
	return time.Time{}, false
}
