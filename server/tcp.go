package server

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// TCP defaults (RFC 7766 §6.2 asks servers to bound connections and idle
// time and to allow pipelining).
const (
	// DefaultMaxTCPConns bounds open client connections; each costs a file
	// descriptor and two small buffers. Unbound's default is 10 per thread
	// (incoming-num-tcp); a local resolver with 256 is never the limit for
	// honest clients, and idle connections are closed to make room.
	DefaultMaxTCPConns = 256
	// DefaultMaxTCPConnsPerClient bounds the connections of one client
	// address: an eighth of the total, so one address alone can never hold
	// every slot, while a NAT gateway's clients still get plenty.
	DefaultMaxTCPConnsPerClient = 32
	// DefaultTCPIdleTimeout closes a connection that made no progress (sent
	// no valid query) for this long, whatever else it sends; RFC 7766
	// §6.2.3 suggests a few seconds, Unbound uses 30 s.
	DefaultTCPIdleTimeout = 10 * time.Second
	// DefaultTCPReadTimeout bounds reading one query once its length
	// prefix arrived, so a client trickling bytes cannot hold a slot.
	DefaultTCPReadTimeout = 2 * time.Second
	// DefaultTCPWriteTimeout bounds writing one reply to a client that
	// does not read.
	DefaultTCPWriteTimeout = 5 * time.Second
	// DefaultTCPMaxInflight bounds the pipelined queries of one connection
	// being worked on; the reader stops reading beyond it, so a client
	// cannot make us buffer without limit.
	DefaultTCPMaxInflight = 32

	// minAcceptBackoff and maxAcceptBackoff bound the pause after a
	// failed Accept (net/http uses the same 5 ms to 1 s).
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// streamConn is one client connection over a stream transport. The rules
// (frame reading, the no-progress timer, closing on a malformed frame, the
// connection table) are the same for every stream transport; serveStream
// takes any net.Listener, so DoT reuses them with a TLS listener.
type streamConn struct {
	s         *Server
	c         net.Conn
	client    netip.AddrPort
	transport Transport
	wmu       sync.Mutex // serialises replies
	slots     chan struct{}
	wg        sync.WaitGroup // queries of this connection in flight

	// progress is when the connection last made progress (accepted, a
	// valid query read, a reply written), in Unix nanoseconds. Only
	// progress moves the idle deadline.
	progress atomic.Int64
	inflight atomic.Int32
	evicted  atomic.Bool
}

func (sc *streamConn) touch() { sc.progress.Store(time.Now().UnixNano()) }

// evict makes the reader stop at its next read; queries in flight are
// still answered.
func (sc *streamConn) evict() {
	sc.evicted.Store(true)
	_ = sc.c.SetReadDeadline(time.Unix(1, 0))
}

// serveTCP accepts connections until ln is closed.
func (s *Server) serveTCP(ln net.Listener) {
	defer s.wg.Done()
	s.serveStream(ln, TransportTCP)
}

// serveStream accepts connections on ln until it is closed, and serves
// each under the connection rules; transport names it in metrics and logs.
func (s *Server) serveStream(ln net.Listener, transport Transport) {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: the next Accept may work. Back off as
			// net/http does, so a persistent error does not spin.
			backoff = min(max(2*backoff, minAcceptBackoff), maxAcceptBackoff)
			s.log.Warn(transport.String()+" accept", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		sc := &streamConn{s: s, c: c, client: clientAddr(c), transport: transport,
			slots: make(chan struct{}, s.cfg.TCPMaxInflight)}
		sc.touch()
		switch s.conns.admit(sc) {
		case admitPerClient:
			s.h.m.dropped(transport.String() + "_conn_per_client_limit")
			_ = c.Close()
			continue
		case admitFull, admitClosing:
			s.h.m.dropped(transport.String() + "_conn_limit")
			_ = c.Close()
			continue
		case admitEvicted:
			s.h.m.dropped(transport.String() + "_conn_evicted_idle")
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.conns.remove(sc)
				_ = c.Close()
			}()
			sc.serve()
		}()
	}
}

// frameClass says what a query read from a stream did to the connection.
type frameClass int

const (
	frameProgress frameClass = iota // a valid query: resets the idle timer
	frameNeutral                    // answered (REFUSED, NOTIMP…), no progress
	frameClose                      // malformed: close the connection
)

// classify decides what a fast-path verdict means for the connection: a
// frame that cannot be a query (too short, QR set) or that is answered
// FORMERR closes it (RFC 7766 §6.2.4 lets a server close on a malformed
// message, and Unbound does); only queries we serve count as progress.
func classify(v verdict, reply []byte) frameClass {
	switch v {
	case verdictDrop:
		return frameClose
	case verdictResolve:
		return frameProgress
	}
	if len(reply) < 2+headerLen {
		return frameClose
	}
	switch int(reply[2+3] & rcodeMask) {
	case rcodeFormErr:
		return frameClose
	case rcodeNoError, rcodeNXDomain, rcodeServFail:
		return frameProgress
	}
	return frameNeutral
}

// readDeadline is when the read in progress must end: the no-progress
// deadline, and within a frame also the per-frame read timeout.
func (sc *streamConn) readDeadline(frameStart time.Time) time.Time {
	d := time.Unix(0, sc.progress.Load()).Add(sc.s.cfg.TCPIdleTimeout)
	if !frameStart.IsZero() {
		if f := frameStart.Add(sc.s.cfg.TCPReadTimeout); f.Before(d) {
			d = f
		}
	}
	return d
}

// setReadDeadline sets the deadline, unless the connection was evicted
// (checked after setting, so an eviction racing with it is never lost).
func (sc *streamConn) setReadDeadline(d time.Time) bool {
	_ = sc.c.SetReadDeadline(d)
	return !sc.evicted.Load()
}

// readFirst reads the first octet of a frame before the no-progress
// deadline. A connection with queries in flight is not idle (RFC 7766
// §6.2.3): its client waits for replies, so the deadline is pushed back
// until they are sent (each resolution is itself bounded in time).
func (sc *streamConn) readFirst(b []byte) bool {
	for {
		if !sc.setReadDeadline(sc.readDeadline(time.Time{})) {
			return false
		}
		_, err := io.ReadFull(sc.c, b)
		if err == nil {
			return true
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || sc.inflight.Load() == 0 || sc.evicted.Load() || sc.s.stopping.Load() {
			return false
		}
		sc.touch()
	}
}

// serve reads pipelined queries and answers each as soon as its reply is
// ready, in whatever order (RFC 7766 §6.2.1.1).
func (sc *streamConn) serve() {
	defer sc.wg.Wait()
	s := sc.s
	h := s.h
	var lenBuf [2]byte
	out := make([]byte, 2, maxReplyHint)
	var req []byte
	for !s.stopping.Load() {
		if !sc.readFirst(lenBuf[:1]) {
			return
		}
		if !sc.setReadDeadline(sc.readDeadline(time.Now())) {
			return
		}
		if _, err := io.ReadFull(sc.c, lenBuf[1:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n < headerLen {
			// An empty or header-less frame can never be a query.
			h.m.dropped(sc.transport.String() + "_malformed_frame")
			return
		}
		// One buffer for every query of the connection: a miss's job
		// copies the query (misspool.go).
		req = slices.Grow(req[:0], n)[:n]
		if _, err := io.ReadFull(sc.c, req); err != nil {
			return
		}
		c := call{st: h.st.Load(), client: sc.client, transport: sc.transport, start: h.now()}
		var v verdict
		out, v = h.fast(out[:2], req, &c)
		fc := classify(v, out)
		if fc == frameProgress {
			sc.touch()
		}
		switch v {
		case verdictDrop:
			h.m.dropped(sc.transport.String() + "_malformed_frame")
			return
		case verdictReply:
			if !sc.write(out) || fc == frameClose {
				return
			}
			continue
		}
		// Wait for a slot: this stops reading from a client that has too
		// many queries open, which is the back-pressure TCP is for.
		sc.slots <- struct{}{}
		if !s.enterPending(sc.client.Addr()) {
			<-sc.slots
			out = h.shed(out[:2], &c, reasonOverload)
			if !sc.write(out) {
				return
			}
			continue
		}
		sc.inflight.Add(1)
		sc.wg.Add(1)
		j := missJob{req: req, c: c, sc: sc}
		j.c.q = query{} // the worker parses its copy of req
		if !s.misses.submit(&j) {
			sc.wg.Done()
			sc.inflight.Add(-1)
			s.leavePending(sc.client.Addr())
			<-sc.slots
			if out = h.shed(out[:2], &c, reasonOverload); !sc.write(out) {
				return
			}
		}
	}
}

// answerMiss is the miss pool's work for a stream query (misspool.go):
// resolve w's miss and write the reply.
func (sc *streamConn) answerMiss(w *missWorker) {
	s := sc.s
	defer sc.wg.Done()
	defer s.leavePending(sc.client.Addr())
	defer func() { <-sc.slots }()
	resp := s.h.resolveRaw(context.Background(), w.out[:2], w.job.req, w.job.c, false)
	// Before the write, so a client that read the reply finds the
	// connection idle and its progress counted.
	sc.touch()
	sc.inflight.Add(-1)
	if len(resp) <= 2 {
		return // dropped after a panic: nothing to send
	}
	w.out = resp[:0] // keep what append grew
	if !sc.write(resp) {
		_ = sc.c.Close()
	}
}

// write sends one reply; b has two bytes of room for the length prefix at
// its start. It reports false when the connection is unusable.
func (sc *streamConn) write(b []byte) bool {
	if len(b)-2 > maxTCPSize {
		return true // cannot happen: replies are packed below 64 KiB
	}
	binary.BigEndian.PutUint16(b, uint16(len(b)-2))
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	_ = sc.c.SetWriteDeadline(time.Now().Add(sc.s.cfg.TCPWriteTimeout))
	_, err := sc.c.Write(b)
	return err == nil
}
