//go:build !linux

package server

import (
	"net"
	"time"
)

// udpOOBLen is 0: no receive times are read outside Linux.
const udpOOBLen = 0

// tuneUDP asks for the large receive buffer; no receive times, so no miss
// is ever shed as late.
func tuneUDP(conn *net.UDPConn) udpQueue {
	_ = listenerBuffer(conn)
	return udpQueue{}
}

func rxTime([]byte) (time.Time, bool) { return time.Time{}, false }
