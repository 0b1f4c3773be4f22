package server

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// connTable holds the open stream connections (TCP, and any transport over
// a stream such as DoT) and enforces their bounds: a total, a per-client
// address cap, and eviction of the least recently useful idle connection
// when the total is reached, so idle or stalled connections can never lock
// honest clients out (RFC 7766 §6.2.3; Unbound closes idle connections
// early when its TCP buffers run short).
type connTable struct {
	max, perClient int

	mu      sync.Mutex // guards the following
	conns   map[*streamConn]struct{}
	perAddr map[netip.Addr]int
	closing bool
}

func newConnTable(max, perClient int) *connTable {
	return &connTable{max: max, perClient: perClient,
		conns: map[*streamConn]struct{}{}, perAddr: map[netip.Addr]int{}}
}

// admitResult says why a connection was or was not admitted.
type admitResult int

const (
	admitOK        admitResult = iota
	admitEvicted               // admitted after closing an idle connection
	admitPerClient             // refused: the client address has too many
	admitFull                  // refused: every connection is busy
	admitClosing               // refused: shutting down
)

// admit registers sc unless the server is closing, its client address has
// perClient connections already, or the table is full of connections with
// queries in flight. When the table is full, the connection that has made
// no progress for longest and has nothing in flight is closed to make room.
func (t *connTable) admit(sc *streamConn) admitResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return admitClosing
	}
	a := sc.client.Addr()
	if t.perAddr[a] >= t.perClient {
		return admitPerClient
	}
	res := admitOK
	if len(t.conns) >= t.max {
		victim := t.oldestIdle()
		if victim == nil {
			return admitFull
		}
		t.removeLocked(victim)
		victim.evict()
		res = admitEvicted
	}
	t.conns[sc] = struct{}{}
	t.perAddr[a]++
	return res
}

// oldestIdle returns the connection with no query in flight whose last
// progress is oldest, or nil. A scan is fine: the table is small (hundreds)
// and this runs only when it is full.
func (t *connTable) oldestIdle() *streamConn {
	var victim *streamConn
	var oldest int64
	for c := range t.conns {
		if c.inflight.Load() > 0 {
			continue
		}
		if p := c.progress.Load(); victim == nil || p < oldest {
			victim, oldest = c, p
		}
	}
	return victim
}

// remove forgets sc (a no-op when it was evicted already).
func (t *connTable) remove(sc *streamConn) {
	t.mu.Lock()
	t.removeLocked(sc)
	t.mu.Unlock()
}

func (t *connTable) removeLocked(sc *streamConn) {
	if _, ok := t.conns[sc]; !ok {
		return
	}
	delete(t.conns, sc)
	a := sc.client.Addr()
	if t.perAddr[a] <= 1 {
		delete(t.perAddr, a)
	} else {
		t.perAddr[a]--
	}
}

// stopReading marks the table closing and makes every connection's
// pending read return, so the readers finish what they have.
func (t *connTable) stopReading() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for c := range t.conns {
		_ = c.c.SetReadDeadline(time.Now())
	}
}

// closeAll closes every connection.
func (t *connTable) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.conns {
		_ = c.c.Close()
	}
}

// clientAddr returns the unmapped address and port of a connection's peer.
func clientAddr(c net.Conn) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
