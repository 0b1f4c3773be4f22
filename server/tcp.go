package server

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// TCP defaults (RFC 7766 §6.2 asks servers to bound connections and idle
// time and to allow pipelining).
const (
	// DefaultMaxTCPConns bounds open client connections; each costs a file
	// descriptor and two small buffers. Unbound's default is 10 per thread
	// (incoming-num-tcp); a local resolver with 256 is never the limit for
	// honest clients.
	DefaultMaxTCPConns = 256
	// DefaultTCPIdleTimeout closes a connection with no query for this
	// long; RFC 7766 §6.2.3 suggests a few seconds, Unbound uses 30 s.
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

// tcpConn is one client connection.
type tcpConn struct {
	s      *Server
	c      net.Conn
	client netip.AddrPort
	wmu    sync.Mutex // serialises replies
	slots  chan struct{}
	wg     sync.WaitGroup // queries of this connection in flight
}

// serveTCP accepts connections until ln is closed.
func (s *Server) serveTCP(ln net.Listener) {
	defer s.wg.Done()
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
			s.log.Warn("tcp accept", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.addConn(c) {
			s.h.m.dropped("tcp_conn_limit")
			_ = c.Close()
			continue
		}
		ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
		tc := &tcpConn{s: s, c: c, client: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()),
			slots: make(chan struct{}, s.cfg.TCPMaxInflight)}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.removeConn(c)
			tc.serve()
		}()
	}
}

// addConn registers c unless the connection cap is reached or the server
// is shutting down.
func (s *Server) addConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || len(s.conns) >= s.cfg.MaxTCPConns {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) removeConn(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
}

// serve reads pipelined queries and answers each as soon as its reply is
// ready, in whatever order (RFC 7766 §6.2.1.1).
func (tc *tcpConn) serve() {
	defer tc.wg.Wait()
	h := tc.s.h
	var lenBuf [2]byte
	out := make([]byte, 2, maxReplyHint)
	for !tc.s.stopping.Load() {
		_ = tc.c.SetReadDeadline(time.Now().Add(tc.s.cfg.TCPIdleTimeout))
		if _, err := io.ReadFull(tc.c, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		_ = tc.c.SetReadDeadline(time.Now().Add(tc.s.cfg.TCPReadTimeout))
		req := make([]byte, n)
		if _, err := io.ReadFull(tc.c, req); err != nil {
			return
		}
		var q query
		st := h.st.Load()
		start := h.now()
		var v verdict
		out, v = h.fast(out[:2], req, tc.client, "tcp", &q, st, start)
		switch v {
		case verdictDrop:
			continue
		case verdictReply:
			if !tc.write(out) {
				return
			}
			continue
		}
		// Wait for a slot: this stops reading from a client that has too
		// many queries open, which is the back-pressure TCP is for.
		tc.slots <- struct{}{}
		if !tc.s.enterPending() {
			<-tc.slots
			out = h.short(out[:2], &q, "tcp", rcodeServFail, 0, &edeInfo{code: overloadCode, text: overloadText}, start)
			if !tc.write(out) {
				return
			}
			continue
		}
		tc.wg.Add(1)
		go func() {
			defer tc.wg.Done()
			defer tc.s.leavePending()
			defer func() { <-tc.slots }()
			resp := h.resolveRaw(context.Background(), make([]byte, 2, maxReplyHint), req, tc.client, "tcp", st, start)
			if len(resp) <= 2 {
				return // dropped after a panic: nothing to send
			}
			if !tc.write(resp) {
				_ = tc.c.Close()
			}
		}()
	}
}

// write sends one reply; b has two bytes of room for the length prefix at
// its start. It reports false when the connection is unusable.
func (tc *tcpConn) write(b []byte) bool {
	if len(b)-2 > maxTCPSize {
		return true // cannot happen: replies are packed below 64 KiB
	}
	binary.BigEndian.PutUint16(b, uint16(len(b)-2))
	tc.wmu.Lock()
	defer tc.wmu.Unlock()
	_ = tc.c.SetWriteDeadline(time.Now().Add(tc.s.cfg.TCPWriteTimeout))
	_, err := tc.c.Write(b)
	return err == nil
}
