package server

import (
	"net"
)

// replyConn returns a second handle on conn's socket for the miss
// workers' replies: a duplicate of its descriptor, so the same socket,
// address and port, but a write lock of its own. A net.UDPConn serialises
// its writes, and the reader's batched write (sendmmsg) of hit replies
// shared that lock with every worker's reply: under a flood of misses the
// readers waited on it (#11: 45 ms in a 5 s trace), and a hit's reply
// with them. Workers still share the duplicate's lock among themselves,
// which no reader waits on. Where the descriptor cannot be duplicated
// (not a Unix system) it returns conn itself: correct, only slower under
// load. The caller closes a duplicate with the listeners (closeListeners).
func replyConn(conn *net.UDPConn) (reply *net.UDPConn, dup bool) {
	f, err := conn.File() // dup(2): conn keeps its descriptor and mode
	if err != nil {
		return conn, false
	}
	defer f.Close() // FilePacketConn made a descriptor of its own
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return conn, false
	}
	u, ok := pc.(*net.UDPConn)
	if !ok {
		_ = pc.Close()
		return conn, false
	}
	return u, true
}
