package resolver

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// 0x20 case randomisation (draft-vixie-dnsext-dns0x20, Unbound's
// use-caps-for-id): servers copy the question name into their reply byte
// for byte, so a name sent with its letters' case chosen at random adds a
// bit per letter that a blind forger must also guess. A reply whose
// question does not carry the exact case sent is not used.
//
// Some servers lower-case the question. A UDP reply with the wrong case
// cannot tell such a server from a forger who guessed ID and port, so it
// is no evidence: the question is asked again over TCP, still in random
// case, where no blind forger can answer. Only when the TCP reply does not
// echo the case either is the server remembered, for capsFallbackTTL, as
// one that does not: it is then asked in lower case. A server that does
// not answer over TCP at all (refused, or no reply) is asked over UDP
// again in a new random case: a second mismatch is then the evidence, and
// the server is remembered and asked without 0x20 in the same exchange;
// a match is used, and nothing is remembered. A forger who would turn
// 0x20 off for such a server must guess ID and port twice in a row, and
// only for a server without TCP, which RFC 7766 requires. (Unbound falls
// back after mismatches over UDP alone.)

// capsFallbackTTL is how long a server that did not echo case is asked
// without 0x20: Unbound's infra-host-ttl, after which what is known about
// a server is relearnt.
const capsFallbackTTL = 15 * time.Minute

// randomiseCase returns name with each ASCII letter's case chosen at
// random.
func randomiseCase(name string) string {
	b := []byte(name)
	var bits uint64
	for i, c := range b {
		if i%64 == 0 {
			bits = rand.Uint64()
		}
		if 'a' <= c|0x20 && c|0x20 <= 'z' {
			if bits&1 == 1 {
				b[i] = c | 0x20
			} else {
				b[i] = c &^ 0x20
			}
		}
		bits >>= 1
	}
	return string(b)
}

// usesCaps says whether queries to server carry 0x20 case.
func (u *upstreams) usesCaps(server netip.AddrPort) bool {
	if !u.h.CaseRandomisation {
		return false
	}
	s := u.server(server)
	s.mu.Lock()
	defer s.mu.Unlock()
	return !u.now().Before(s.noCapsUntil)
}

// noCaps remembers that server does not echo case: only on the evidence
// of a TCP reply.
func (u *upstreams) noCaps(server netip.AddrPort) {
	s := u.server(server)
	s.mu.Lock()
	s.noCapsUntil = u.now().Add(capsFallbackTTL)
	s.mu.Unlock()
}

// restoreCase puts the name asked back in a reply to a 0x20 query: in the
// question, and as the owner of records the server named after it, so
// the cache and the client never see the random case.
func restoreCase(m *dns.Msg, asked string) {
	if len(m.Question) == 1 {
		m.Question[0].Name = asked
	}
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if h := rr.Header(); strings.EqualFold(h.Name, asked) {
				h.Name = asked
			}
		}
	}
}
