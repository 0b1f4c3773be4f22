package server

import (
	"github.com/miekg/dns"
)

// refuseRate limits REFUSED replies over UDP to clients outside the allow
// list, per /24 or /56 (the rate limiter's networks). UDP sources can be
// forged, so each refusal may land on a victim: ten a second with a burst
// of twenty is plenty for a misconfigured honest client to notice, and
// bounds what a reflection attack gets from us to a trickle of replies no
// larger than the queries (Unbound drops such queries by default with
// access-control refuse, sending a bare header).
var refuseRate = RateLimit{QPS: 10, Burst: 20, Entries: DefaultRateLimitEntries}

// refuse answers a client outside the allow list. Over UDP the reply is
// never larger than the query: header, question and OPT, with the
// Prohibited code but no text when that still fits, so a refusal cannot
// amplify a spoofed query; beyond refuseRate per network the query is
// dropped. Over TCP (where the source cannot be forged) the reply says why.
func (h *Handler) refuse(out, req []byte, c *call) ([]byte, verdict) {
	if c.transport != TransportUDP {
		return h.short(out, c, rcodeRefused, &edeInfo{code: dns.ExtendedErrorCodeProhibited, text: "client not in allow list"}, sourceServer, reasonACL), verdictReply
	}
	if !c.st.refuseRL.allow(c.client.Addr(), c.start) {
		h.m.dropped("refused_ratelimit")
		return out, verdictDrop
	}
	q := &c.q
	n := len(out)
	out = appendShortReply(out, q, 0, rcodeRefused, h.udpSize, &edeInfo{code: dns.ExtendedErrorCodeProhibited})
	if len(out)-n > len(req) {
		out = appendShortReply(out[:n], q, 0, rcodeRefused, h.udpSize, nil)
	}
	if len(out)-n > len(req) {
		out = appendHeader(out[:n], q, 0, rcodeRefused, 0, 0, 0, 0)
	}
	h.m.query(q.qtype, rcodeRefused, c.transport, false)
	h.logQuery(c, rcodeRefused, sourceServer, reasonACL)
	return out, verdictReply
}
