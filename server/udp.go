package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
)

const (
	// maxUDPReaders bounds the goroutines (and, with SO_REUSEPORT, the
	// sockets) reading one UDP address. Each answers cache hits itself.
	maxUDPReaders = 16
	// udpReadBuf is the read buffer of one reader: the largest UDP
	// payload, so no query is cut short.
	udpReadBuf = 65535
)

// udpSockets is how many readers serve each UDP address: about one per
// core keeps every core busy; more only adds scheduling.
func udpSockets() int { return min(maxUDPReaders, max(1, runtime.GOMAXPROCS(0))) }

// serveUDP reads queries from conn with the given number of goroutines
// until it is closed. Cache hits and errors are answered by the reading
// goroutine, with buffers it reuses; resolutions go to a goroutine each,
// bounded by the pending semaphore.
func (s *Server) serveUDP(conn *net.UDPConn, readers int) {
	for range readers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.udpReader(conn)
		}()
	}
}

func (s *Server) udpReader(conn *net.UDPConn) {
	h := s.h
	buf := make([]byte, udpReadBuf)
	out := make([]byte, 0, maxReplyHint)
	for {
		n, client, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return // closed, or Shutdown set a deadline to stop reading
			}
			s.log.Debug("udp read", "err", err) // e.g. ICMP errors surfacing on the socket
			continue
		}
		client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
		c := call{st: h.st.Load(), client: client, transport: TransportUDP, start: h.now()}
		var v verdict
		out, v = h.fast(out[:0], buf[:n], &c)
		switch v {
		case verdictReply:
			_, _ = conn.WriteToUDPAddrPort(out, client)
			continue
		case verdictDrop:
			continue
		}
		if !s.enterPending(client.Addr()) {
			out = h.shed(out[:0], &c)
			_, _ = conn.WriteToUDPAddrPort(out, client)
			continue
		}
		req, rc := append([]byte(nil), buf[:n]...), c
		go func() {
			defer s.leavePending(client.Addr())
			resp := h.resolveRaw(context.Background(), make([]byte, 0, maxReplyHint), req, rc)
			if len(resp) > 0 {
				_, _ = conn.WriteToUDPAddrPort(resp, client)
			}
		}()
	}
}

// enterPending takes a slot for a query of client waiting on a
// resolution; false means the server, or the client's share of it, is
// full.
func (s *Server) enterPending(client netip.Addr) bool {
	if !s.clients.enter(client) {
		return false
	}
	select {
	case s.pending <- struct{}{}:
		s.wg.Add(1)
		return true
	default:
		s.clients.leave(client)
		return false
	}
}

func (s *Server) leavePending(client netip.Addr) {
	<-s.pending
	s.clients.leave(client)
	s.wg.Done()
}
