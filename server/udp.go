package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/addrwalk/addrwalk/internal/udpbatch"
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

// serveUDP reads queries from conn with the given number of goroutines
// until it is closed. Cache hits and errors are answered by the reading
// goroutine, with buffers it reuses; misses go to the miss pool's workers
// (misspool.go), bounded by the pending semaphore, unless they waited too
// long in the socket's queue (udpqueue.go). Workers write their replies
// through a handle of their own on the socket (udpreply.go). The caller
// holds s.mu.
func (s *Server) serveUDP(conn *net.UDPConn, readers int) {
	tuneUDP(conn)
	reply, dup := replyConn(conn)
	if dup {
		s.udpReplies = append(s.udpReplies, reply)
	}
	for range readers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.udpReader(conn, reply)
		}()
	}
}

// udpIO is one reader's batch I/O on its socket and the buffers it
// reuses for every batch: a read slot per datagram and a reply per
// datagram answered at once.
type udpIO struct {
	reply   *net.UDPConn // where resolutions write their replies (replyConn)
	bc      *udpbatch.Conn
	in, out []udpbatch.Message
	misses  []missJob // a batch's misses, handed to the pool together
}

func newUDPIO(conn, reply *net.UDPConn) (*udpIO, error) {
	bc, err := udpbatch.New(conn, udpBatch)
	if err != nil {
		return nil, err
	}
	b := &udpIO{reply: reply, bc: bc, in: make([]udpbatch.Message, udpBatch), out: make([]udpbatch.Message, udpBatch),
		misses: make([]missJob, 0, udpBatch)}
	for i := range b.in {
		b.in[i].Buf = make([]byte, udpSlot)
		b.out[i].Buf = make([]byte, 0, maxReplyHint)
	}
	return b, nil
}

// udpReader answers batches of queries on conn until it is closed; the
// replies of its misses go out through reply.
func (s *Server) udpReader(conn, reply *net.UDPConn) {
	b, err := newUDPIO(conn, reply)
	if err != nil {
		s.log.Error("udp listener not served", "addr", conn.LocalAddr(), "err", err)
		return
	}
	for {
		if _, err := s.answerBatch(b); err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return // closed, or Shutdown set a deadline to stop reading
			}
			s.log.Debug("udp read", "err", err)
		}
	}
}

// answerBatch reads up to udpBatch datagrams in one call, answers each
// that needs no resolution into a reply slot of its own, and sends those
// replies in one call: how many datagrams it read. The batch's misses go
// to the miss pool only then, together: the pool's mutex, which workers
// take too, is taken once per batch, and never before the batch's hits
// are answered (#11: readers waited on it under a flood). A packet-cache
// hit allocates nothing on the way (TestUDPPathAllocs).
func (s *Server) answerBatch(b *udpIO) (int, error) {
	n, err := b.bc.ReadBatch(b.in)
	if err != nil {
		return 0, err
	}
	replies := 0
	staged := b.misses[:0]
	// Wall-clock time, as the kernel's receive stamps are: no fake clock
	// can stand in for either.
	now := time.Now()
	for i := range b.in[:n] {
		m := &b.in[i]
		if !m.Addr.IsValid() || m.Truncated {
			s.h.m.dropped("malformed")
			continue
		}
		if !m.Received.IsZero() {
			s.h.m.udpQueued(now.Sub(m.Received))
		}
		o := &b.out[replies]
		staged = append(staged, missJob{}) // room for a miss, dropped unless used
		reply, v := s.udpTriage(b.reply, o.Buf[:0], m.Buf[:m.N], m.Addr, m.Received, now, &staged[len(staged)-1])
		o.Buf = reply // keep what append grew
		switch v {
		case verdictReply:
			o.Addr = m.Addr
			replies++
			staged = staged[:len(staged)-1]
		case verdictDrop:
			staged = staged[:len(staged)-1]
		}
	}
	s.writeBatch(b.bc, b.out[:replies])
	if len(staged) > 0 {
		// The requests still point into b.in: the pool copies them
		// before the next read reuses it.
		refused := staged[s.misses.submitAll(staged):]
		for i := range refused { // the reply slots are free again
			o := &b.out[i]
			o.Buf, o.Addr = s.refuseMiss(o.Buf[:0], &refused[i]), refused[i].c.client
		}
		s.writeBatch(b.bc, b.out[:len(refused)])
		clear(staged) // no reference to the batch's state outlives it
	}
	b.misses = staged[:0]
	return n, nil
}

// udpQuery answers req from client into out when it needs no resolution
// (send is true: out holds the reply); otherwise it hands the miss to the
// miss pool (misspool.go), whose worker writes the reply to conn. since
// is when the datagram arrived (the kernel's stamp, or zero); a miss that
// waited past maxUDPQueueDelay in the socket's queue by now is shed
// instead.
func (s *Server) udpQuery(conn *net.UDPConn, out, req []byte, client netip.AddrPort, since, now time.Time) (reply []byte, send bool) {
	var j missJob
	out, v := s.udpTriage(conn, out, req, client, since, now, &j)
	if v != verdictResolve {
		return out, v == verdictReply
	}
	if !s.misses.submit(&j) {
		return s.refuseMiss(out, &j), true
	}
	return out, false
}

// udpTriage is udpQuery up to the miss pool: a reply in out (verdictReply,
// or verdictDrop for none), or a miss set in j (verdictResolve) that
// holds a pending slot and is for the caller to submit. j.req is req, in
// the caller's buffer.
func (s *Server) udpTriage(conn *net.UDPConn, out, req []byte, client netip.AddrPort, since, now time.Time, j *missJob) ([]byte, verdict) {
	h := s.h
	c := call{st: h.st.Load(), client: client, transport: TransportUDP, start: h.now()}
	out, v := h.fast(out, req, &c)
	if v != verdictResolve {
		return out, v
	}
	if late(since, now) {
		return h.shed(out, &c, reasonBacklog), verdictReply
	}
	if !s.enterPending(client.Addr()) {
		return h.shed(out, &c, reasonOverload), verdictReply
	}
	if since.IsZero() {
		since = now
	}
	*j = missJob{req: req, c: c, conn: conn, since: since}
	j.c.q = query{} // it points into the reader's buffer; the worker parses its copy
	return out, verdictResolve
}

// refuseMiss answers a miss the pool had no room for (overload) into
// out and gives its pending slot back.
func (s *Server) refuseMiss(out []byte, j *missJob) []byte {
	s.leavePending(j.c.client.Addr())
	parseHeader(j.req, &j.c.q)
	_ = parseQuery(j.req, &j.c.q) // the fast path parsed it without error
	return s.h.shed(out, &j.c, reasonOverload)
}

// answerMiss is the miss pool's work: w's miss is resolved (or shed when
// it waited too long in the socket's queue and the pool's together) and
// answered.
func (s *Server) answerMiss(w *missWorker) {
	j := &w.job
	switch {
	case j.sc != nil:
		j.sc.answerMiss(w)
		return
	case j.doh != nil:
		j.doh.answerMiss(s, w)
		return
	}
	defer s.leavePending(j.c.client.Addr())
	resp := s.h.resolveRaw(context.Background(), w.out[:0], j.req, j.c, late(j.since, time.Now()))
	if len(resp) > 0 {
		w.out = resp[:0] // keep what append grew
		_, _ = j.conn.WriteToUDPAddrPort(resp, j.c.client)
	}
}

// writeBatch sends ms, as many per call as the kernel takes. Each call
// sends at least one message or fails on the first, which is then given
// up (as a failed write of one reply loses that reply), so the loop runs
// at most len(ms) <= udpBatch times.
func (s *Server) writeBatch(bc *udpbatch.Conn, ms []udpbatch.Message) {
	for len(ms) > 0 {
		n, err := bc.WriteBatch(ms)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("udp write", "err", err)
			n = 1
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
