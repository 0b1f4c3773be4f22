package resolver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/miekg/dns"
)

// DNS cookies as a client (RFC 7873, RFC 9018 §3): every query carries an
// 8-byte client cookie, random per server, and the server's own cookie
// once it sent one. A reply whose COOKIE option does not start with the
// client cookie is ignored like one with the wrong ID (RFC 7873 §5.3: a
// blind forger cannot see the cookie, so it adds 64 bits to guess).
//
// Once a server has sent a cookie it is known to send them, and that is
// never unlearnt from anything a blind forger can cause:
//   - a UDP reply without a cookie from it is ignored like a forgery, and
//     a UDP wait that saw only such replies (or any other rejected ones)
//     is retried over TCP, which a blind forger cannot answer (BIND does
//     the same: "missing expected cookie", ISC issue #2275);
//   - a timeout changes nothing: a flood makes timeouts, so a timeout must
//     not weaken what the next reply has to show;
//   - only a TCP reply without a cookie, to a query that carried one,
//     ends it: the server itself, reached over a connection a blind
//     forger cannot inject into, no longer sends cookies (a server that
//     turned them off, or an anycast node without them). Its UDP replies
//     are then taken without a cookie, as for a server never heard from.
//
// BADCOOKIE (RFC 7873 §5.3) is retried once with the fresh server cookie,
// then over TCP.

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

// sendsCookies says whether the server is known to send cookies: its
// cookie is kept, so its UDP replies must carry ours.
func (s *serverState) sendsCookies() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serverCookie != nil
}

// forgetCookie drops the server cookie: only after a reply over TCP
// without one (see above).
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

// Reasons a reply's cookie is not accepted.
var (
	errNoCookie        = fmt.Errorf("%w: no cookie from a server that sends them", errRejected)
	errMalformedCookie = fmt.Errorf("%w: malformed cookie", errRejected)
	errWrongCookie     = fmt.Errorf("%w: wrong client cookie", errRejected)
)

// checkCookie checks a reply's COOKIE option against the query's (RFC
// 7873 §5.3): nothing to check when the query had none; the client cookie
// must come back; a UDP reply without a cookie is refused when the query
// carried a server cookie (the server is known to send them). Over a
// stream (TCP, TLS) a reply without a cookie is taken: no blind forger
// can answer there (exchange.go then forgets the server's cookie).
func checkCookie(m, q *dns.Msg, stream bool) error {
	qc, ok := cookieOf(q)
	if !ok || len(qc) < clientCookieLen {
		return nil
	}
	rc, ok := cookieOf(m)
	switch {
	case !ok && len(qc) > clientCookieLen && !stream:
		return errNoCookie
	case !ok:
		return nil
	case len(rc) < clientCookieLen+minServerCookie || len(rc) > clientCookieLen+maxServerCookie:
		return errMalformedCookie
	case !bytes.Equal(rc[:clientCookieLen], qc[:clientCookieLen]):
		return errWrongCookie
	}
	return nil
}
