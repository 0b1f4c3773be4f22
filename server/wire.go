package server

import (
	"encoding/binary"
	"errors"
)

// Wire-format constants (RFC 1035 §4.1, RFC 6891 §6).
const (
	headerLen = 12
	// maxNameLen is the longest domain name in wire format (RFC 1035 §2.3.4).
	maxNameLen = 255
	// maxLabelLen is the longest label (RFC 1035 §2.3.4).
	maxLabelLen = 63
	// minUDPSize is the UDP payload every client accepts: 512 octets
	// without EDNS (RFC 1035 §4.2.1), and the floor of any EDNS size
	// (RFC 6891 §6.2.5).
	minUDPSize = 512
	// maxTCPSize is the largest message the two-octet TCP length prefix
	// can carry (RFC 1035 §4.2.2).
	maxTCPSize = 65535
	// maxAdditional bounds the additional records a query may carry that
	// we walk to find the OPT record; a query has one (OPT) or two (with
	// TSIG). More is not a query we need to understand.
	maxAdditional = 4

	typeOPT    = 41
	typeSOA    = 6
	optEDE     = 15 // RFC 8914 option code
	edeMaxText = 200
)

// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD and CD).
const (
	flagQR     = 1 << 15
	flagAA     = 1 << 10
	flagTC     = 1 << 9
	flagRD     = 1 << 8
	flagRA     = 1 << 7
	flagAD     = 1 << 5
	flagCD     = 1 << 4
	opcodeMask = 0xf << 11
	rcodeMask  = 0xf
)

// RCODEs used at the edge (RFC 1035 §4.1.1, RFC 6891 §9 for BADVERS).
const (
	rcodeNoError  = 0
	rcodeFormErr  = 1
	rcodeServFail = 2
	rcodeNXDomain = 3
	rcodeNotImp   = 4
	rcodeRefused  = 5
	rcodeBadVers  = 16
)

// errShort and friends describe why a query could not be parsed; they never
// leave the package: the client gets FORMERR or nothing.
var (
	errShort    = errors.New("server: message too short")
	errName     = errors.New("server: bad question name")
	errCounts   = errors.New("server: bad section counts")
	errOPT      = errors.New("server: bad OPT record")
	errTwoOPT   = errors.New("server: more than one OPT record")
	errTooMuchs = errors.New("server: too many additional records")
)

// query is what the edge needs to know about a request, parsed without
// allocating. Slices point into the request buffer.
type query struct {
	id    uint16
	flags uint16
	// qname is the question name in wire format as the client sent it
	// (letter case preserved); question is qname plus type and class.
	qname    []byte
	question []byte
	qtype    uint16
	qclass   uint16
	// hasQuestion is set when the question section was read; a reply
	// echoes it then.
	hasQuestion bool

	edns        bool
	ednsVersion uint8
	do          bool
	udpSize     uint16
	// padded is set when the OPT record carried the Padding option
	// (RFC 7830); replies over encrypted transports are padded then.
	padded bool
}

func (q *query) rd() bool { return q.flags&flagRD != 0 }
func (q *query) cd() bool { return q.flags&flagCD != 0 }

// opcode returns the OPCODE field.
func (q *query) opcode() int { return int(q.flags&opcodeMask) >> 11 }

// maxSize is the largest reply the client accepts over transport: the
// smaller of its EDNS payload size and ours, never below 512; 512 without
// EDNS; 65535 over a stream transport.
func (q *query) maxSize(transport Transport, ours uint16) int {
	if transport.stream() {
		return maxTCPSize
	}
	if !q.edns {
		return minUDPSize
	}
	return max(minUDPSize, int(min(q.udpSize, ours)))
}

// parseHeader reads the ID and flags. It fails only when the message is
// shorter than a header: such input is dropped.
func parseHeader(b []byte, q *query) bool {
	if len(b) < headerLen {
		return false
	}
	q.id = binary.BigEndian.Uint16(b)
	q.flags = binary.BigEndian.Uint16(b[2:])
	return true
}

// parseQuery parses the question and the OPT record of a query whose
// header parseHeader read. An error means FORMERR.
func parseQuery(b []byte, q *query) error {
	qd := binary.BigEndian.Uint16(b[4:])
	an := binary.BigEndian.Uint16(b[6:])
	ns := binary.BigEndian.Uint16(b[8:])
	ar := binary.BigEndian.Uint16(b[10:])
	if qd != 1 || an != 0 || ns != 0 {
		// RFC 9619: QDCOUNT is 1 for QUERY. Queries carry no answer or
		// authority records (Unbound answers those FORMERR too).
		return errCounts
	}
	off := headerLen
	end, err := skipUncompressedName(b, off)
	if err != nil {
		return err
	}
	if end+4 > len(b) {
		return errShort
	}
	q.qname = b[off:end]
	q.qtype = binary.BigEndian.Uint16(b[end:])
	q.qclass = binary.BigEndian.Uint16(b[end+2:])
	q.question = b[off : end+4]
	q.hasQuestion = true
	off = end + 4
	if ar > maxAdditional {
		return errTooMuchs
	}
	for range ar {
		nameStart := off
		off, err = skipName(b, off)
		if err != nil {
			return err
		}
		if off+10 > len(b) {
			return errShort
		}
		typ := binary.BigEndian.Uint16(b[off:])
		class := binary.BigEndian.Uint16(b[off+2:])
		ttl := binary.BigEndian.Uint32(b[off+4:])
		rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
		rdata := off + 10
		if rdata+rdlen > len(b) {
			return errShort
		}
		off = rdata + rdlen
		if typ != typeOPT {
			continue // TSIG and the like: not understood, not needed
		}
		if q.edns {
			return errTwoOPT // RFC 6891 §6.1.1
		}
		if off-rdlen-10 != nameStart+1 || b[nameStart] != 0 {
			return errOPT // the owner must be the root
		}
		padded, err := checkOptions(b[rdata : rdata+rdlen])
		if err != nil {
			return err
		}
		q.padded = padded
		q.edns = true
		q.udpSize = class
		q.ednsVersion = uint8(ttl >> 16)
		q.do = ttl&0x8000 != 0
	}
	return nil
}

// checkOptions checks that EDNS options fill rdata exactly, and reports
// whether one is the Padding option.
func checkOptions(rd []byte) (padded bool, err error) {
	for len(rd) > 0 {
		if len(rd) < 4 {
			return false, errOPT
		}
		n := int(binary.BigEndian.Uint16(rd[2:]))
		if 4+n > len(rd) {
			return false, errOPT
		}
		padded = padded || binary.BigEndian.Uint16(rd) == optPadding
		rd = rd[4+n:]
	}
	return padded, nil
}

// skipUncompressedName returns the offset after the name at off, which must
// use no compression pointers (a question name has nothing before it to
// point to).
func skipUncompressedName(b []byte, off int) (int, error) {
	n := 0
	for {
		if off >= len(b) {
			return 0, errShort
		}
		l := int(b[off])
		if l == 0 {
			if n+1 > maxNameLen {
				return 0, errName
			}
			return off + 1, nil
		}
		if l > maxLabelLen {
			return 0, errName // a pointer or a reserved label type
		}
		n += l + 1
		if n > maxNameLen {
			return 0, errName
		}
		off += l + 1
	}
}

// skipName returns the offset after the name at off, which may end in a
// compression pointer (not followed).
func skipName(b []byte, off int) (int, error) {
	for {
		if off >= len(b) {
			return 0, errShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return 0, errShort
			}
			return off + 2, nil
		case l > maxLabelLen:
			return 0, errName
		}
		off += l + 1
	}
}

// appendLowerName appends name (wire format) with ASCII letters folded to
// lower case.
func appendLowerName(dst, name []byte) []byte {
	for _, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendHeader appends a reply header for q with the given rcode (low four
// bits) and counts.
func appendHeader(dst []byte, q *query, flags uint16, rcode int, qd, an, ns, ar uint16) []byte {
	f := flagQR | flagRA | q.flags&(opcodeMask|flagRD|flagCD) | flags | uint16(rcode&rcodeMask)
	return binary.BigEndian.AppendUint16(
		binary.BigEndian.AppendUint16(
			binary.BigEndian.AppendUint16(
				binary.BigEndian.AppendUint16(
					binary.BigEndian.AppendUint16(
						binary.BigEndian.AppendUint16(dst, q.id), f), qd), an), ns), ar)
}

// appendOPT appends our OPT record: payload size, the extended RCODE's
// upper bits, version 0, the DO bit echoed, and an Extended DNS Error when
// ede is not nil.
func appendOPT(dst []byte, payload uint16, rcode int, do bool, ede *edeInfo) []byte {
	dst = append(dst, 0) // root owner
	dst = binary.BigEndian.AppendUint16(dst, typeOPT)
	dst = binary.BigEndian.AppendUint16(dst, payload)
	var ttl uint32
	ttl |= uint32(rcode>>4) << 24
	if do {
		ttl |= 0x8000
	}
	dst = binary.BigEndian.AppendUint32(dst, ttl)
	var rdlen int
	for e := ede; e != nil; e = e.next {
		rdlen += 4 + 2 + len(e.clipped())
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(rdlen))
	for e := ede; e != nil; e = e.next {
		text := e.clipped()
		dst = binary.BigEndian.AppendUint16(dst, optEDE)
		dst = binary.BigEndian.AppendUint16(dst, uint16(2+len(text)))
		dst = binary.BigEndian.AppendUint16(dst, e.code)
		dst = append(dst, text...)
	}
	return dst
}

// edeInfo is an Extended DNS Error (RFC 8914) to attach to a reply, and
// the next one when a reply carries two (RFC 8914 §2 allows several):
// callers link at most two, so the OPT record stays small.
type edeInfo struct {
	code uint16
	text string
	next *edeInfo
}

// clipped is the text cut to edeMaxText bytes.
func (e *edeInfo) clipped() string {
	if len(e.text) > edeMaxText {
		return e.text[:edeMaxText]
	}
	return e.text
}

// appendShortReply appends a reply with no records: header, the question
// when it was read, and the OPT record when the client sent one. Used for
// errors, refusals and truncated replies.
func appendShortReply(dst []byte, q *query, flags uint16, rcode int, payload uint16, ede *edeInfo) []byte {
	var qd, ar uint16
	if q.hasQuestion {
		qd = 1
	}
	if q.edns {
		ar = 1
	}
	dst = appendHeader(dst, q, flags, rcode, qd, 0, 0, ar)
	if q.hasQuestion {
		dst = append(dst, q.question...)
	}
	if q.edns {
		dst = appendOPT(dst, payload, rcode, q.do, ede)
	}
	return dst
}

// rrWalk calls fn with the offset of the TTL of every record after the
// question section of the message b (an answer we packed ourselves). It
// reports false when the message cannot be walked.
func rrWalk(b []byte, fn func(ttlOff int, typ uint16)) bool {
	if len(b) < headerLen {
		return false
	}
	qd := int(binary.BigEndian.Uint16(b[4:]))
	n := int(binary.BigEndian.Uint16(b[6:])) + int(binary.BigEndian.Uint16(b[8:])) + int(binary.BigEndian.Uint16(b[10:]))
	off := headerLen
	var err error
	for range qd {
		if off, err = skipName(b, off); err != nil || off+4 > len(b) {
			return false
		}
		off += 4
	}
	for range n {
		if off, err = skipName(b, off); err != nil || off+10 > len(b) {
			return false
		}
		typ := binary.BigEndian.Uint16(b[off:])
		rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
		fn(off+4, typ)
		off += 10 + rdlen
		if off > len(b) {
			return false
		}
	}
	return off == len(b)
}
