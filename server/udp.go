package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

const (
	// maxUDPReaders bounds the goroutines (and, with SO_REUSEPORT, the
	// sockets) reading one UDP address. Each answers cache hits itself.
	maxUDPReaders = 16
	// udpBatch is how many datagrams one read (recvmmsg) or write
	// (sendmmsg) moves. Under load a socket's queue holds several queries
	// per wakeup, and one system call for up to 32 of them amortises its
	// cost; more only grows each reader's buffers (udpBatch*udpSlot).
	udpBatch = 32
	// udpSlot is the read buffer of one datagram of a batch. A query is a
	// question and an OPT record, far under this; a datagram that fills
	// the slot may have been cut short (the kernel drops the rest) and is
	// dropped as malformed. 4096 octets: the largest EDNS buffer size
	// commonly offered, so even a padded query fits.
	udpSlot = 4096
)

// udpSockets is how many readers serve each UDP address: about one per
// core keeps every core busy; more only adds scheduling.
func udpSockets() int { return min(maxUDPReaders, max(1, runtime.GOMAXPROCS(0))) }

// batchConn reads and writes several datagrams per system call (recvmmsg
// and sendmmsg on Linux; one at a time elsewhere). ipv4.PacketConn and
// ipv6.PacketConn both satisfy it (their Message is one type).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

var (
	_ batchConn = (*ipv4.PacketConn)(nil)
	_ batchConn = (*ipv6.PacketConn)(nil)
)

// newBatchConn wraps conn for batch I/O with the address family it is
// bound to (the family decides how x/net parses source addresses).
func newBatchConn(conn *net.UDPConn) batchConn {
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(conn)
	}
	return ipv4.NewPacketConn(conn)
}

// serveUDP reads queries from conn with the given number of goroutines
// until it is closed. Cache hits and errors are answered by the reading
// goroutine, with buffers it reuses; resolutions go to a goroutine each,
// bounded by the pending semaphore, unless they waited too long in the
// socket's queue (udpqueue.go).
func (s *Server) serveUDP(conn *net.UDPConn, readers int) {
	qs := tuneUDP(conn)
	for range readers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.udpReader(conn, qs)
		}()
	}
}

// udpReader answers batches of queries: it reads up to udpBatch
// datagrams in one call, answers each that needs no resolution into a
// reply slot of its own, and sends those replies in one call.
func (s *Server) udpReader(conn *net.UDPConn, qs udpQueue) {
	bc := newBatchConn(conn)
	in := make([]ipv4.Message, udpBatch)
	out := make([]ipv4.Message, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, udpSlot)}
		out[i].Buffers = [][]byte{make([]byte, 0, maxReplyHint)}
		if qs.stamped {
			in[i].OOB = make([]byte, udpOOBLen)
		}
	}
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return // closed, or Shutdown set a deadline to stop reading
			}
			s.log.Debug("udp read", "err", err) // e.g. ICMP errors surfacing on the socket
			continue
		}
		replies := 0
		// Wall-clock time, as the kernel's receive stamps are: no fake
		// clock can stand in for either.
		now := time.Now()
		for i := range in[:n] {
			m := &in[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok || m.N >= udpSlot {
				s.h.m.dropped("malformed")
				continue
			}
			ap := ua.AddrPort()
			client := netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			rx, stamped := rxTime(m.OOB[:m.NN])
			if stamped {
				s.h.m.udpQueued(now.Sub(rx))
			}
			reply, send := s.udpQuery(conn, out[replies].Buffers[0][:0], m.Buffers[0][:m.N], client, late(rx, stamped, now))
			out[replies].Buffers[0] = reply // keep what append grew
			if send {
				out[replies].Addr = m.Addr
				replies++
			}
		}
		s.writeBatch(bc, out[:replies])
	}
}

// udpQuery answers req from client into out when it needs no resolution
// (send is true: out holds the reply); otherwise it starts the resolution,
// which writes its own reply to conn. A late query (it waited past
// maxUDPQueueDelay in the socket's queue) that needs a resolution is shed
// instead.
func (s *Server) udpQuery(conn *net.UDPConn, out, req []byte, client netip.AddrPort, late bool) (reply []byte, send bool) {
	h := s.h
	c := call{st: h.st.Load(), client: client, transport: TransportUDP, start: h.now()}
	out, v := h.fast(out, req, &c)
	switch v {
	case verdictReply:
		return out, true
	case verdictDrop:
		return out, false
	}
	if late {
		return h.shed(out, &c, reasonBacklog), true
	}
	if !s.enterPending(client.Addr()) {
		return h.shed(out, &c, reasonOverload), true
	}
	req, rc := append([]byte(nil), req...), c
	go func() {
		defer s.leavePending(client.Addr())
		resp := h.resolveRaw(context.Background(), make([]byte, 0, maxReplyHint), req, rc)
		if len(resp) > 0 {
			_, _ = conn.WriteToUDPAddrPort(resp, client)
		}
	}()
	return out, false
}

// writeBatch sends ms, as many per call as the kernel takes. Each call
// sends at least one message or fails, so the loop runs at most
// len(ms) <= udpBatch times; a failed send loses the rest of the batch,
// as a failed write of one reply loses that reply.
func (s *Server) writeBatch(bc batchConn, ms []ipv4.Message) {
	for len(ms) > 0 {
		n, err := bc.WriteBatch(ms, 0)
		if err != nil || n <= 0 {
			s.log.Debug("udp write", "err", err, "lost", len(ms))
			return
		}
		ms = ms[n:]
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
