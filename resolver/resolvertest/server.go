package resolvertest

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Server is one authoritative server of a Lab.
type Server struct {
	lab    *Lab
	name   string
	addr   netip.Addr
	engine *engine // immutable after Start

	mu     sync.Mutex // guards faults
	faults Faults
}

// Name returns the server's name, canonical (lower case, fully qualified).
func (s *Server) Name() string { return s.name }

// Addr returns the server's loopback address.
func (s *Server) Addr() netip.Addr { return s.addr }

// AddrPort returns the server's address with the lab's port; the port is
// known after Start.
func (s *Server) AddrPort() netip.AddrPort { return netip.AddrPortFrom(s.addr, s.lab.Port()) }

// Zones returns the origins of the zones the server hosts.
func (s *Server) Zones() []string {
	out := make([]string, len(s.engine.zones))
	for i, z := range s.engine.zones {
		out[i] = z.origin
	}
	return out
}

// SetFaults replaces the server's faults; it applies to queries received
// from now on. The zero Faults makes the server healthy again.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// UpdateFaults changes the server's faults under its lock, e.g.
// s.UpdateFaults(func(f *Faults) { f.Drop = true }).
func (s *Server) UpdateFaults(update func(*Faults)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	update(&s.faults)
}

// Faults returns the server's current faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// handler returns the dns.Handler for one transport of s. forger is the
// socket ForgeSource replies are sent from.
func (s *Server) handler(transport string, forger net.PacketConn) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		s.serve(w, q, transport, forger)
	})
}

// serve answers one query, applying the server's faults. miekg/dns runs it
// on a goroutine of its own per UDP packet and per TCP connection, so
// waiting here delays only this reply.
func (s *Server) serve(w dns.ResponseWriter, q *dns.Msg, transport string, forger net.PacketConn) {
	client := addrPortOf(w.RemoteAddr())
	rec := newQuery(s, client, transport, q)
	s.lab.queries.add(rec)
	if s.lab.cfg.OnQuery != nil {
		s.lab.cfg.OnQuery(rec)
	}
	f := s.Faults()
	udp := transport == "udp"

	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-s.lab.done:
			t.Stop()
			return
		}
	}
	switch {
	case f.Drop:
		return
	case f.Malformed:
		if _, err := w.Write(malformed(q.Id)); err != nil {
			s.lab.log.Debug("resolvertest: write malformed reply", "server", s.name, "err", err)
		}
		return
	}

	var resp *dns.Msg
	// limit: the reply is cut to the query's payload size.
	limit := udp && !f.IgnoreUDPSize
	switch {
	case f.Rcode != dns.RcodeSuccess:
		resp = finish(q, new(dns.Msg).SetRcode(q, f.Rcode), limit)
	case f.Lame != NotLame:
		resp = finish(q, lameReply(q, f.Lame, s.lab.roots), limit)
	default:
		resp = s.engine.answer(q, limit)
	}
	if f.Mutate != nil {
		f.Mutate(q, resp)
		if limit {
			resp.Truncate(payloadSize(q))
			resp.Compress = true
		}
	}
	if udp {
		s.forge(w, q, f, client, forger)
		if f.Truncate {
			resp = finish(q, new(dns.Msg).SetReply(q), udp)
			resp.Authoritative = true
			resp.Truncated = true
		}
	}
	if err := w.WriteMsg(resp); err != nil {
		s.lab.log.Debug("resolvertest: write reply", "server", s.name, "err", err)
	}
}

// forge sends the forged replies f asks for, before the genuine one.
func (s *Server) forge(w dns.ResponseWriter, q *dns.Msg, f Faults, client netip.AddrPort, forger net.PacketConn) {
	send := func(m *dns.Msg, viaForger bool) {
		var err error
		if viaForger {
			var b []byte
			if b, err = m.Pack(); err == nil {
				_, err = forger.WriteTo(b, net.UDPAddrFromAddrPort(client))
			}
		} else {
			err = w.WriteMsg(m)
		}
		if err != nil {
			s.lab.log.Debug("resolvertest: write forged reply", "server", s.name, "err", err)
		}
	}
	if f.ForgeID {
		m := forged(q)
		m.Id = q.Id ^ 0x5a5a
		send(m, false)
	}
	if f.ForgeQuestion && len(q.Question) == 1 {
		m := forged(q)
		m.Question[0].Name = forgedQuestionPrefix + q.Question[0].Name
		send(m, false)
	}
	if f.ForgeSource {
		send(forged(q), true)
	}
}

// rootNames returns the names of the servers hosting the root zone, for
// upward referrals; a lab without a root gets a made-up name. The caller
// holds l.mu.
func (l *Lab) rootNames() []string {
	var out []string
	for _, s := range l.rootServers() {
		out = append(out, s.name)
	}
	if len(out) == 0 {
		out = []string{"a.root-servers.lab."}
	}
	return out
}

// payloadSize is the largest UDP reply the client of q accepts.
func payloadSize(q *dns.Msg) int {
	if opt := q.IsEdns0(); opt != nil {
		return max(dns.MinMsgSize, int(opt.UDPSize()))
	}
	return dns.MinMsgSize
}

// addrPortOf converts a net.Addr from miekg/dns to a netip.AddrPort.
func addrPortOf(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.UDPAddr:
		return v.AddrPort()
	case *net.TCPAddr:
		return v.AddrPort()
	}
	return netip.AddrPort{}
}
