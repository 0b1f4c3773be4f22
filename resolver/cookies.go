package resolver

import (
	"bytes"
	"container/list"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DNS cookies as a client (RFC 7873, RFC 9018 §3): every query carries an
// 8-byte client cookie, a keyed pseudorandom function of the server's
// address (RFC 7873 §4.1; BIND computes it the same way, with SipHash),
// and the server's own cookie once it sent one. A reply whose COOKIE option does not start with the client
// cookie is ignored like one with the wrong ID (RFC 7873 §5.3: a blind
// forger cannot see the cookie, so it adds 64 bits to guess).
//
// Once a server has sent a cookie it is known to send them, and nothing a
// blind forger can cause unlearns that:
//   - a UDP reply without a cookie from it is ignored like a forgery, and
//     a UDP wait that saw only such replies (or any other rejected ones)
//     is retried over TCP, which a blind forger cannot answer (BIND does
//     the same: "missing expected cookie", ISC issue #2275);
//   - a timeout changes nothing: a flood makes timeouts;
//   - a TCP reply without a cookie changes nothing either: RFC 7873 does
//     not require cookies over TCP and some servers leave them out
//     there, and a forger can force the TCP retry at will. BIND skips
//     the cookie check over TCP and keeps the server's cookie;
//   - the knowledge lapses only with time: a server none of whose
//     replies carried a cookie for cookieLifetime is a server never heard
//     from again (RFC 9018 §4.3: its last cookie has expired anyway).
//     That is how a server that really stopped sending cookies recovers,
//     after an hour of TCP retries; a forger cannot cause it, since every
//     real reply of a server that sends cookies renews it.
//
// The knowledge lives in a table of its own (cookieJar), not in the
// per-server table of outstanding queries and 0x20 state: making the
// resolver contact many servers evicts entries from that one, and must
// not send a server back to first contact, where a reply without a
// cookie is taken.
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

const (
	// cookieLifetime is how long a server is known to send cookies
	// after the last reply that carried one: an hour, RFC 9018 §4.3's
	// validity of a server cookie (past it the cookie held is expired
	// and the server hands out a new one).
	cookieLifetime = time.Hour
	// maxCookieServers bounds the servers whose cookie is kept. A
	// server enters only with a reply that carried a valid cookie (a
	// silent or cookieless server costs nothing here), and while it is
	// within cookieLifetime a newcomer never evicts it: when the table is
	// full of live entries the newcomer is not kept (it is treated as
	// at first contact, as before the table existed). 10,000: Unbound's
	// infra-cache-numhosts, the servers a busy resolver uses; an entry
	// is about 250 bytes, 2.5 MB in all, counted in serve's fixed
	// memory overhead like the upstream tables (upstream.go).
	maxCookieServers = 10_000
)

// fillRandom fills b from crypto/rand: cookies and the like must not be
// predictable. crypto/rand.Read never fails on Linux (Go 1.24+: it
// crashes the program instead).
func fillRandom(b []byte) { rand.Read(b) }

// cookieJar is the resolver's memory of which servers send cookies, and
// their last cookie. Bounded by maxCookieServers (max, smaller in tests).
type cookieJar struct {
	now func() time.Time
	prf cipher.Block // keys the client cookies (clientCookie)
	max int

	mu sync.Mutex // guards the following
	// byServer indexes lru, whose front is the server that sent a
	// cookie last; the back is the first to lapse.
	byServer map[netip.AddrPort]*list.Element // of *jarEntry
	lru      list.List
}

type jarEntry struct {
	server netip.AddrPort
	cookie []byte    // the server cookie, 8 to 32 bytes
	seen   time.Time // when a reply last carried it
}

func newCookieJar(now func() time.Time, max int) *cookieJar {
	var key [16]byte
	fillRandom(key[:])
	prf, err := aes.NewCipher(key[:])
	if err != nil {
		panic("resolver: AES with a 16-byte key: " + err.Error()) // cannot happen: the key size is valid
	}
	return &cookieJar{now: now, prf: prf, max: max, byServer: map[netip.AddrPort]*list.Element{}}
}

// clientCookie is ours for server: the first 8 bytes of the AES-CBC-MAC,
// under the jar's random key, of two blocks: the server's address (in
// its 16-byte form) and its port. CBC-MAC over messages of one fixed
// length is a pseudorandom function (the property RFC 7873 §4.1 asks),
// costs two block encryptions (a keyed hash would cost some 20 times
// that per upstream query) and needs no memory; the cookie is stable for
// the process's life and unpredictable to others.
func (j *cookieJar) clientCookie(server netip.AddrPort) []byte {
	b := server.Addr().As16()
	j.prf.Encrypt(b[:], b[:])
	b[0] ^= byte(server.Port() >> 8)
	b[1] ^= byte(server.Port())
	j.prf.Encrypt(b[:], b[:])
	return b[:clientCookieLen]
}

// live returns server's entry while it is within cookieLifetime; the
// caller holds mu.
func (j *cookieJar) live(server netip.AddrPort) *jarEntry {
	el, ok := j.byServer[server]
	if !ok {
		return nil
	}
	e := el.Value.(*jarEntry)
	if j.now().Sub(e.seen) >= cookieLifetime {
		return nil
	}
	return e
}

// option returns the COOKIE option for a query to server: the client
// cookie, and the server's cookie while it is known to send them.
func (j *cookieJar) option(server netip.AddrPort) *dns.EDNS0_COOKIE {
	c := hex.EncodeToString(j.clientCookie(server))
	j.mu.Lock()
	defer j.mu.Unlock()
	if e := j.live(server); e != nil {
		c += hex.EncodeToString(e.cookie)
	}
	return &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: c}
}

// sendsCookies says whether server is known to send cookies: its UDP
// replies must carry ours.
func (j *cookieJar) sendsCookies(server netip.AddrPort) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.live(server) != nil
}

// learn keeps the server cookie of a reply from server that passed the
// checks (checkCookie: it echoes our client cookie), and renews the
// server's lifetime. A reply without a cookie changes nothing.
func (j *cookieJar) learn(server netip.AddrPort, m *dns.Msg) {
	c, ok := cookieOf(m)
	if !ok || len(c) < clientCookieLen+minServerCookie || len(c) > clientCookieLen+maxServerCookie {
		return
	}
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	if el, ok := j.byServer[server]; ok {
		e := el.Value.(*jarEntry)
		e.cookie, e.seen = append(e.cookie[:0], c[clientCookieLen:]...), now
		j.lru.MoveToFront(el)
		return
	}
	if len(j.byServer) >= j.max {
		// Only a lapsed entry makes room: one within its lifetime is
		// worth more than a newcomer, which may be one of thousands of
		// servers an attacker makes us contact.
		back := j.lru.Back()
		if now.Sub(back.Value.(*jarEntry).seen) < cookieLifetime {
			return
		}
		delete(j.byServer, back.Value.(*jarEntry).server)
		j.lru.Remove(back)
	}
	e := &jarEntry{server: server, cookie: append([]byte(nil), c[clientCookieLen:]...), seen: now}
	j.byServer[server] = j.lru.PushFront(e)
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
// can answer there, and some servers leave cookies out of TCP replies.
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
