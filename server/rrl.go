package server

// RRL "slip", as BIND, NSD and Knot's response rate limiting do: a UDP
// query over its network's rate limit is dropped, except every Slip-th,
// which is answered with an empty truncated reply (TC=1, header and
// question only). A real client caught in a flood spoofed from its
// address retries over TCP, which cannot be spoofed, while the reply
// stays no larger than the query, so the resolver is no amplifier.

// DefaultSlip is BIND's and Knot's default: every second limited reply is
// slipped.
const DefaultSlip = 2

// slipEvery returns how often limited replies are slipped: 0 never.
func slipEvery(rl RateLimit) uint64 {
	switch {
	case rl.Slip < 0:
		return 0
	case rl.Slip == 0:
		return DefaultSlip
	}
	return uint64(rl.Slip)
}

// slip says whether this limited reply is sent truncated.
func (r *rateLimiter) slip() bool {
	return r.slipEvery > 0 && r.limited.Add(1)%r.slipEvery == 0
}

// slipped is the truncated reply to a limited UDP query.
func (h *Handler) slipped(out []byte, c *call) []byte {
	n := len(out)
	out = appendShortReply(out, &c.q, flagTC, rcodeNoError, h.udpSize, nil)
	out = pad(out, n, &c.q, c.transport)
	h.m.query(c.q.qtype, rcodeNoError, c.transport, false)
	h.logQuery(c, rcodeNoError, sourceServer, reasonRateLimitSlip)
	return out
}
