package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unique"
	"unsafe"

	"github.com/miekg/dns"
)

// An entry keeps its records in one byte slice, in a compact wire form,
// rather than as a slice of dns.RR: a dns.A is an interface value, a
// 56-byte struct with a string header for its owner name, and an IP slice
// of its own, about 100 heap bytes for 4 bytes of data. Packed, a one-A
// RRset is 8 bytes (TestBytesPerEntry measures the whole entry).
//
// Two record forms:
//   - owned records, whose owner name and class are the entry's key (the
//     RRset and its RRSIGs): type (2 bytes), RDLENGTH (2), RDATA;
//   - foreign records (proofs, a negative answer's SOA): the owner name
//     uncompressed, type (2), class (2), RDLENGTH (2), RDATA.
//
// TTLs are not kept: a lookup writes the remaining TTL into every record.
// Names inside RDATA are uncompressed, so every record decodes on its own.

// packHeaderLen is the length of a DNS message header, which dns.Msg.Pack
// writes in front of the records packRecords asks it to pack.
const packHeaderLen = 12

// packRecords appends rrs to dst in the owned or the foreign form. scratch
// is a buffer to pack into; the one used is returned for reuse. The caller's
// records are read, never changed.
func packRecords(dst []byte, rrs []dns.RR, owned bool, scratch []byte) (out, buf []byte, err error) {
	if len(rrs) == 0 {
		return dst, scratch, nil
	}
	// dns.Msg.Pack, unlike dns.PackRR, does not write Rdlength into the
	// records it packs: they may be shared with other goroutines.
	m := dns.Msg{Answer: rrs}
	wire, err := m.PackBuffer(scratch[:cap(scratch)])
	if err != nil {
		return dst, scratch, fmt.Errorf("cache: %w: %w", ErrInvalid, err)
	}
	off := packHeaderLen
	for range rrs {
		nameEnd, err := skipName(wire, off)
		if err != nil || nameEnd+10 > len(wire) {
			return dst, wire, fmt.Errorf("cache: %w: record at offset %d does not pack", ErrInvalid, off)
		}
		end := nameEnd + 10 + int(binary.BigEndian.Uint16(wire[nameEnd+8:]))
		if end > len(wire) {
			return dst, wire, fmt.Errorf("cache: %w: record at offset %d does not pack", ErrInvalid, off)
		}
		if owned {
			dst = append(dst, wire[nameEnd:nameEnd+2]...) // type
		} else {
			dst = append(dst, wire[off:nameEnd+4]...) // name, type, class
		}
		dst = append(dst, wire[nameEnd+8:end]...) // RDLENGTH, RDATA
		off = end
	}
	return dst, wire, nil
}

// skipName returns the offset just after the uncompressed name at off.
func skipName(wire []byte, off int) (int, error) {
	// A name has at most 127 labels (255 bytes); 128 rounds covers it.
	for range 128 {
		if off >= len(wire) {
			break
		}
		n := int(wire[off])
		if n == 0 {
			return off + 1, nil
		}
		if n&0xC0 != 0 {
			break // packed without compression: a pointer is an error
		}
		off += 1 + n
	}
	return 0, fmt.Errorf("cache: %w: bad name in packed record", ErrInvalid)
}

// unpackOwned decodes n owned records from data at off, with owner name
// owner, class class and TTL ttl; it returns them and the offset after them.
// A and AAAA sets, the bulk of lookups, take one allocation for a single
// record and two for a set.
func unpackOwned(data []byte, off, n int, owner string, class uint16, ttl uint32) ([]dns.RR, int, error) {
	if n == 0 {
		return nil, off, nil
	}
	hdr := dns.RR_Header{Name: owner, Class: class, Ttl: ttl}
	if n == 1 && off+8 <= len(data) && binary.BigEndian.Uint16(data[off:]) == dns.TypeA &&
		binary.BigEndian.Uint16(data[off+2:]) == 4 {
		// A single A record, the most common lookup: one allocation.
		one := new(struct {
			out [1]dns.RR
			box aBox
		})
		hdr.Rrtype, hdr.Rdlength = dns.TypeA, 4
		one.box.rr.Hdr = hdr
		n := copy(one.box.ip[:], data[off+4:off+8])
		one.box.rr.A = one.box.ip[:n:n]
		one.out[0] = &one.box.rr
		return one.out[:], off + 8, nil
	}
	if n <= maxFastNames && off+2 <= len(data) && binary.BigEndian.Uint16(data[off:]) == dns.TypeNS {
		if out, end, ok := unpackNS(data, off, n, hdr); ok {
			return out, end, nil
		}
	}
	out := make([]dns.RR, n)
	var (
		as    []aBox
		aaaas []aaaaBox
	)
	for i := range out {
		if off+4 > len(data) {
			return nil, off, errCorrupt
		}
		hdr.Rrtype = binary.BigEndian.Uint16(data[off:])
		hdr.Rdlength = binary.BigEndian.Uint16(data[off+2:])
		off += 4
		end := off + int(hdr.Rdlength)
		if end > len(data) {
			return nil, off, errCorrupt
		}
		switch {
		case hdr.Rrtype == dns.TypeA && hdr.Rdlength == 4:
			if as == nil {
				as = make([]aBox, n)
			}
			b := &as[i]
			b.rr.Hdr = hdr
			b.rr.A = b.ip[:copy(b.ip[:], data[off:end]):4]
			out[i] = &b.rr
		case hdr.Rrtype == dns.TypeAAAA && hdr.Rdlength == 16:
			if aaaas == nil {
				aaaas = make([]aaaaBox, n)
			}
			b := &aaaas[i]
			b.rr.Hdr = hdr
			b.rr.AAAA = b.ip[:copy(b.ip[:], data[off:end]):16]
			out[i] = &b.rr
		default:
			// Cut at the record's end: some types (an NSEC's type
			// bitmap) read to the end of what they are given.
			rr, _, err := dns.UnpackRRWithHeader(hdr, data[:end], off)
			if err != nil {
				return nil, off, fmt.Errorf("%w: %w", errCorrupt, err)
			}
			out[i] = rr
		}
		off = end
	}
	return out, off, nil
}

// maxFastNames is the largest NS set unpackNS decodes: its name ends are
// kept on the stack. Delegations have 2 to 13 name servers.
const maxFastNames = 16

// unpackNS decodes n owned NS records from data at off with three
// allocations (the records, the slice of them, and one string holding
// every name), where miekg's decoder takes three per record. ok is false,
// and the caller decodes them the general way, for anything else: another
// type, or a name that needs escaping in presentation form.
func unpackNS(data []byte, off, n int, hdr dns.RR_Header) ([]dns.RR, int, bool) {
	var (
		sb   strings.Builder
		ends [maxFastNames]int
		rdl  [maxFastNames]uint16
	)
	// Presentation form is never longer than the wire form of a name
	// that needs no escapes ("\x03www\x00" is "www.").
	sb.Grow(len(data) - off)
	for i := range n {
		if off+4 > len(data) || binary.BigEndian.Uint16(data[off:]) != dns.TypeNS {
			return nil, 0, false
		}
		rdl[i] = binary.BigEndian.Uint16(data[off+2:])
		end := off + 4 + int(rdl[i])
		if end > len(data) || !appendPlainName(&sb, data[off+4:end]) {
			return nil, 0, false
		}
		ends[i], off = sb.Len(), end
	}
	names := sb.String()
	boxes := make([]dns.NS, n)
	out := make([]dns.RR, n)
	start := 0
	for i := range boxes {
		h := hdr
		h.Rrtype, h.Rdlength = dns.TypeNS, rdl[i]
		boxes[i] = dns.NS{Hdr: h, Ns: names[start:ends[i]]}
		out[i], start = &boxes[i], ends[i]
	}
	return out, off, true
}

// appendPlainName appends the presentation form of the uncompressed wire
// name that fills wire, when none of its bytes needs an escape; otherwise
// it reports false (sb may then hold part of it).
func appendPlainName(sb *strings.Builder, wire []byte) bool {
	if len(wire) == 1 && wire[0] == 0 {
		sb.WriteByte('.')
		return true
	}
	off := 0
	// A name has at most 127 labels (255 bytes); 128 rounds covers it.
	for range 128 {
		if off >= len(wire) {
			return false
		}
		l := int(wire[off])
		if l == 0 {
			return off+1 == len(wire)
		}
		if l&0xC0 != 0 || off+1+l > len(wire) {
			return false
		}
		for _, b := range wire[off+1 : off+1+l] {
			// miekg escapes these, and bytes outside printable ASCII.
			if b <= ' ' || b > '~' || strings.IndexByte(`.();@"\`, b) >= 0 {
				return false
			}
		}
		sb.Write(wire[off+1 : off+1+l])
		sb.WriteByte('.')
		off += 1 + l
	}
	return false
}

// unpackForeign appends to dst every foreign record in data from off to its
// end, with TTL ttl.
func unpackForeign(dst []dns.RR, data []byte, off int, ttl uint32) ([]dns.RR, error) {
	// Every record takes at least 7 bytes, so len(data) rounds bound the
	// loop even if off failed to advance.
	for range len(data) {
		if off >= len(data) {
			return dst, nil
		}
		name, nameEnd, err := dns.UnpackDomainName(data, off)
		if err != nil || nameEnd+6 > len(data) {
			return dst, errCorrupt
		}
		hdr := dns.RR_Header{Name: name, Ttl: ttl,
			Rrtype:   binary.BigEndian.Uint16(data[nameEnd:]),
			Class:    binary.BigEndian.Uint16(data[nameEnd+2:]),
			Rdlength: binary.BigEndian.Uint16(data[nameEnd+4:])}
		end := nameEnd + 6 + int(hdr.Rdlength)
		if end > len(data) {
			return dst, errCorrupt
		}
		rr, _, err := dns.UnpackRRWithHeader(hdr, data[:end], nameEnd+6) // cut: see unpackOwned
		if err != nil {
			return dst, fmt.Errorf("%w: %w", errCorrupt, err)
		}
		dst = append(dst, rr)
		off = end
	}
	return dst, nil
}

// errCorrupt means packed records did not decode: a bug, since the cache
// only decodes what it packed itself.
var errCorrupt = errors.New("cache: packed records do not decode")

// shared is a negative answer's SOA and the RRSIGs over it, in the foreign
// form, interned: every negative entry of a zone points at one copy, which
// the garbage collector frees once no entry does (package unique).
type shared = unique.Handle[string]

// share interns packed records.
func share(packed []byte) shared { return unique.Make(string(packed)) }

// sharedBytes returns the packed records of s without copying them. The
// bytes must not be written: they are the interned string's.
func sharedBytes(s shared) []byte {
	v := s.Value()
	return unsafe.Slice(unsafe.StringData(v), len(v))
}

// packBufs are the buffers one packing uses, kept in Cache.scratch.
type packBufs struct{ out, wire []byte }

// maxRecords is the most records of one group an entry keeps: its counts
// are 16 bits. A 64 KiB message holds at most about 5,000 records.
const maxRecords = 1<<16 - 1

// pack returns owned, then sigs (owned too), then foreign, packed into one
// slice of exactly their size; nil when all are empty.
func (c *Cache) pack(owned, sigs, foreign []dns.RR) ([]byte, error) {
	if len(owned) > maxRecords || len(sigs) > maxRecords {
		return nil, fmt.Errorf("cache: %w: more than %d records", ErrInvalid, maxRecords)
	}
	b, _ := c.scratch.Get().(*packBufs)
	if b == nil {
		b = new(packBufs)
	}
	defer c.scratch.Put(b)
	out, wire, err := packRecords(b.out[:0], owned, true, b.wire)
	if err == nil {
		out, wire, err = packRecords(out, sigs, true, wire)
	}
	if err == nil {
		out, wire, err = packRecords(out, foreign, false, wire)
	}
	b.out, b.wire = out, wire
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return append([]byte(nil), out...), nil
}

// packShared interns rrs (a negative answer's SOA and the RRSIGs over it)
// in the foreign form.
func (c *Cache) packShared(rrs []dns.RR) (shared, error) {
	b, _ := c.scratch.Get().(*packBufs)
	if b == nil {
		b = new(packBufs)
	}
	defer c.scratch.Put(b)
	out, wire, err := packRecords(b.out[:0], rrs, false, b.wire)
	b.out, b.wire = out, wire
	if err != nil {
		return shared{}, err
	}
	return share(out), nil
}

// records decodes what e holds under k, with TTL ttl: an RRset's records,
// RRSIGs and proof, or a negative answer's SOA and proof. Empty parts are
// nil.
func (e *entry) records(k key, ttl uint32) (rrs, sigs, proof []dns.RR, soa *dns.SOA, err error) {
	if e.kind == kindRRset {
		var off int
		if rrs, off, err = unpackOwned(e.data, 0, int(e.nrr), k.name, k.class, ttl); err != nil {
			return nil, nil, nil, nil, err
		}
		if sigs, off, err = unpackOwned(e.data, off, int(e.nsig), k.name, k.class, ttl); err != nil {
			return nil, nil, nil, nil, err
		}
		proof, err = unpackForeign(nil, e.data, off, ttl)
		return rrs, sigs, proof, nil, err
	}
	if e.soa == (shared{}) {
		return nil, nil, nil, nil, nil
	}
	head, err := unpackForeign(nil, sharedBytes(e.soa), 0, ttl)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(head) == 0 {
		return nil, nil, nil, nil, errCorrupt
	}
	soa, ok := head[0].(*dns.SOA)
	if !ok {
		return nil, nil, nil, nil, errCorrupt
	}
	if len(head) > 1 {
		proof = head[1:]
	}
	proof, err = unpackForeign(proof, e.data, 0, ttl)
	return nil, nil, proof, soa, err
}
