package resolvertest

import (
	"time"

	"github.com/miekg/dns"
)

// Lameness says how a lame server (one listed as NS for a zone it does not
// serve properly) answers.
type Lameness int

const (
	// NotLame answers normally.
	NotLame Lameness = iota
	// LameNonAuth answers NOERROR without AA and with empty sections: neither
	// an answer nor a delegation.
	LameNonAuth
	// LameUpward answers with a referral to the root (". NS" in authority),
	// as some misconfigured servers do.
	LameUpward
)

// Faults describe how one server misbehaves. The zero value is a healthy
// server. Faults apply in this order: the query is recorded; Latency
// elapses; Drop, Malformed, Rcode and Lame replace the reply; Mutate
// rewrites it; forgeries are sent; then the reply (truncated to an empty
// TC reply over UDP when Truncate is set).
type Faults struct {
	// Latency delays every reply (simulated in process; the query is served
	// on its own goroutine so other queries are not held up).
	Latency time.Duration
	// Drop sends no reply at all: a dead server.
	Drop bool
	// Rcode, when not zero (NOERROR), answers every query with this RCODE
	// and empty sections, e.g. dns.RcodeRefused or dns.RcodeServerFailure.
	Rcode int
	// Lame makes the server lame in the given way.
	Lame Lameness
	// Truncate answers every UDP query with TC=1 and empty sections, so the
	// client must retry over TCP; TCP queries are answered normally.
	Truncate bool
	// IgnoreUDPSize sends UDP replies whole, larger than the query's EDNS
	// payload size when the answer is (a server breaking RFC 6891 §7).
	IgnoreUDPSize bool
	// Malformed replies with garbage that carries the query's ID.
	Malformed bool
	// ForgeID sends, over UDP and before the genuine reply, a forged reply
	// (NXDOMAIN with AA) whose ID differs from the query's.
	ForgeID bool
	// ForgeQuestion sends, over UDP and before the genuine reply, a forged
	// reply with the right ID but another question name.
	ForgeQuestion bool
	// ForgeSource sends, over UDP and before the genuine reply, a forged
	// reply with the right ID and question from the lab's forger address
	// (Lab.ForgerAddr) on the lab's port to the client's port.
	ForgeSource bool
	// Mutate, if set, may rewrite the reply before it is sent, e.g. to add
	// out-of-bailiwick records (poisoning attempts). q must not be changed.
	// It is called concurrently for concurrent queries.
	Mutate func(q, resp *dns.Msg)
}

// forged returns a reply to q that a resolver must not accept if it came
// from the wrong place: NXDOMAIN with AA and no records.
func forged(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q, dns.RcodeNameError)
	m.Authoritative = true
	if opt := q.IsEdns0(); opt != nil {
		m.SetEdns0(serverUDPSize, opt.Do())
	}
	return m
}

// forgedQuestionPrefix is prepended to the question name of a
// ForgeQuestion reply.
const forgedQuestionPrefix = "forged."

// malformed returns bytes that start with id and then claim one question
// that is not there.
func malformed(id uint16) []byte {
	return []byte{
		byte(id >> 8), byte(id), // ID
		0x84, 0x00, // QR, AA, NOERROR
		0x00, 0x01, // QDCOUNT 1
		0x00, 0x01, // ANCOUNT 1
		0x00, 0x00, 0x00, 0x00, // NSCOUNT, ARCOUNT
		0xc0, 0xff, 0xee, // a compression pointer to nowhere, cut short
	}
}

// lameReply returns the reply of a lame server to q.
func lameReply(q *dns.Msg, how Lameness, rootNS []string) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = false
	if how == LameUpward {
		for _, ns := range rootNS {
			m.Ns = append(m.Ns, &dns.NS{
				Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 518400},
				Ns:  ns,
			})
		}
	}
	return m
}
