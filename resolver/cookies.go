package resolver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/miekg/dns"
)

// DNS cookies as a client (RFC 7873, RFC 9018 §3): every query carries an
// 8-byte client cookie, random per server, and the server's own cookie
// once it sent one. A reply whose COOKIE option does not start with the
// client cookie is ignored like one with the wrong ID (a blind forger
// cannot see the cookie, so it adds 64 bits to guess), and so is a UDP
// reply without a cookie from a server known to send one. When a server
// times out, its cookie is forgotten, so a server that stopped sending
// cookies is usable again. BADCOOKIE (RFC 7873 §5.3) is retried once with
// the fresh server cookie, then over TCP.

// Cookie sizes (RFC 7873 §4): an 8-byte client cookie and a server cookie
// of 8 to 32 bytes.
const (
	clientCookieLen = 8
	minServerCookie = 8
	maxServerCookie = 32
)

// fillRandom fills b from crypto/rand: cookies and the like must not be
// predictable. crypto/rand.Read never fails on Linux (Go 1.24+: it
// crashes the program instead).
func fillRandom(b []byte) { rand.Read(b) }

// cookieOption returns the COOKIE option for a query to this server.
func (s *serverState) cookieOption() *dns.EDNS0_COOKIE {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE,
		Cookie: hex.EncodeToString(s.clientCookie[:]) + hex.EncodeToString(s.serverCookie)}
}

// learnCookie keeps the server cookie of a reply that passed the checks.
func (s *serverState) learnCookie(m *dns.Msg) {
	c, ok := cookieOf(m)
	if !ok || len(c) < clientCookieLen+minServerCookie || len(c) > clientCookieLen+maxServerCookie {
		return
	}
	s.mu.Lock()
	s.serverCookie = append(s.serverCookie[:0], c[clientCookieLen:]...)
	s.mu.Unlock()
}

// forgetCookie drops the server cookie (after a timeout).
func (s *serverState) forgetCookie() {
	s.mu.Lock()
	s.serverCookie = nil
	s.mu.Unlock()
}

// cookieOf returns the bytes of m's COOKIE option, if it has one.
func cookieOf(m *dns.Msg) ([]byte, bool) {
	opt := m.IsEdns0()
	if opt == nil {
		return nil, false
	}
	for _, o := range opt.Option {
		if c, ok := o.(*dns.EDNS0_COOKIE); ok {
			b, err := hex.DecodeString(c.Cookie)
			return b, err == nil
		}
	}
	return nil, false
}

// checkCookie checks a reply's COOKIE option against the query's (RFC
// 7873 §5.3): nothing to check when the query had none; the client cookie
// must come back; a reply without a cookie is refused when the query
// carried a server cookie (the server is known to send them).
func checkCookie(m, q *dns.Msg) error {
	qc, ok := cookieOf(q)
	if !ok || len(qc) < clientCookieLen {
		return nil
	}
	rc, ok := cookieOf(m)
	switch {
	case !ok && len(qc) > clientCookieLen:
		return errors.New("no cookie from a server that sends them")
	case !ok:
		return nil
	case len(rc) < clientCookieLen+minServerCookie || len(rc) > clientCookieLen+maxServerCookie:
		return errors.New("malformed cookie")
	case !bytes.Equal(rc[:clientCookieLen], qc[:clientCookieLen]):
		return errors.New("wrong client cookie")
	}
	return nil
}
