package server

import "encoding/binary"

// EDNS(0) Padding (RFC 7830) on encrypted transports, with the block-length
// strategy RFC 8467 §4.1 recommends: replies are padded to a multiple of
// 468 octets, and only replies to queries that carried the Padding option
// (RFC 7830 §4: a responder pads only when the query was padded). Plain UDP
// and TCP are never padded: padding hides sizes from an eavesdropper who
// cannot read the message anyway.

const (
	// optPadding is the Padding option's code (RFC 7830 §3).
	optPadding = 12
	// responsePaddingBlock is RFC 8467 §4.1's recommended block size for
	// responses.
	responsePaddingBlock = 468
)

// encrypted reports whether transport hides the messages it carries.
func encrypted(t Transport) bool { return t == TransportTLS || t == TransportHTTPS }

// pad adds a Padding option to the reply at out[n:] when q asked for it
// over an encrypted transport. The reply's OPT record must be its last
// record, as appendOPT leaves it; otherwise the reply is left alone.
func pad(out []byte, n int, q *query, transport Transport) []byte {
	if !q.padded || !q.edns || !encrypted(transport) {
		return out
	}
	msg := out[n:]
	optRdlen := -1
	if !rrWalk(msg, func(ttlOff int, typ uint16) {
		if typ == typeOPT {
			optRdlen = ttlOff + 4
		} else {
			optRdlen = -1 // not last
		}
	}) || optRdlen < 0 {
		return out
	}
	// The option header takes 4 octets; its data fills up to the block.
	size := len(msg) + 4
	target := (size + responsePaddingBlock - 1) / responsePaddingBlock * responsePaddingBlock
	if target > maxTCPSize {
		target = maxTCPSize
	}
	padLen := target - size
	if padLen < 0 {
		return out
	}
	rdlen := int(binary.BigEndian.Uint16(msg[optRdlen:])) + 4 + padLen
	binary.BigEndian.PutUint16(out[n+optRdlen:], uint16(rdlen))
	out = binary.BigEndian.AppendUint16(out, optPadding)
	out = binary.BigEndian.AppendUint16(out, uint16(padLen))
	for range padLen {
		out = append(out, 0) // RFC 7830 §3: the padding octets SHOULD be 0
	}
	return out
}
