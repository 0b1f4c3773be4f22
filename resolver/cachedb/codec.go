package cachedb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// The value format, version 1, all integers big-endian:
//
//	magic   "AWC1"           4 bytes: format and version
//	kind    u8               cache.SharedKind
//	rank    u8               cache.Rank
//	sec     u8               cache.Security (never bogus)
//	flags   u8               bit 0: wildcard; others must be 0
//	expires i64              absolute expiry, Unix milliseconds
//	class   u16, type u16    the key's question, checked on read
//	name    u8 length, bytes the key's name, lower-case, fully qualified
//	target  u8 length, bytes
//	4 sections (answer, sigs, authority, proof), each:
//	        u16 count, then count × (u16 length, RR in wire format,
//	        uncompressed)
//
// Nothing may follow the last section. A value is written by one resolver
// and read by others, possibly of another version: anything that does not
// decode exactly is rejected, deleted and counted, never served.

// magic starts every value; the digit is the format version, also part of
// the key prefix (so versions never read each other's values).
const magic = "AWC1"

// Decoder bounds. A piece of answer comes from one DNS message (at most
// 65535 bytes, and an RR takes at least 11), so no section can honestly
// hold more RRs than maxSectionRRs; names are at most 255 bytes.
const (
	maxSectionRRs = 65535 / 11
	headerLen     = len(magic) + 4 + 8 + 4
	maxNameLen    = 255
)

// ErrDecode is wrapped by every error Decode returns.
var ErrDecode = errors.New("cachedb: undecodable value")

// Encode returns the value stored for k and e.
func Encode(k cache.SharedKey, e cache.SharedEntry) ([]byte, error) {
	if len(k.Name) > maxNameLen || len(e.Target) > maxNameLen {
		return nil, fmt.Errorf("cachedb: name longer than %d bytes", maxNameLen)
	}
	b := make([]byte, 0, 512)
	b = append(b, magic...)
	var flags byte
	if e.Wildcard {
		flags |= 1
	}
	b = append(b, byte(e.Kind), byte(e.Rank), byte(e.Security), flags)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Expires.UnixMilli()))
	b = binary.BigEndian.AppendUint16(b, k.Class)
	b = binary.BigEndian.AppendUint16(b, k.Type)
	b = append(b, byte(len(k.Name)))
	b = append(b, k.Name...)
	b = append(b, byte(len(e.Target)))
	b = append(b, e.Target...)
	var buf []byte
	for _, sec := range [][]dns.RR{e.Answer, e.Sigs, e.Authority, e.Proof} {
		if len(sec) > maxSectionRRs {
			return nil, fmt.Errorf("cachedb: %d RRs in a section, more than %d", len(sec), maxSectionRRs)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(sec)))
		for _, rr := range sec {
			if l := dns.Len(rr) + 512; len(buf) < l { // room beyond the computed length (see section)
				buf = make([]byte, l)
			}
			n, err := dns.PackRR(rr, buf, 0, nil, false)
			if err != nil {
				return nil, fmt.Errorf("cachedb: packing %s: %w", rr.Header().Name, err)
			}
			b = binary.BigEndian.AppendUint16(b, uint16(n))
			b = append(b, buf[:n]...)
		}
	}
	return b, nil
}

// Decode parses a value read for k. It checks every length against what
// is left, every field against its range, the key the value names against
// k, and that nothing trails; the RRs it returns are the caller's.
func Decode(b []byte, k cache.SharedKey) (cache.SharedEntry, error) {
	d := decoder{b: b}
	var e cache.SharedEntry
	if len(b) < headerLen || string(b[:len(magic)]) != magic {
		return e, fmt.Errorf("%w: no %s header", ErrDecode, magic)
	}
	d.off = len(magic)
	kind, rank, sec, flags := d.u8(), d.u8(), d.u8(), d.u8()
	e.Kind, e.Rank, e.Security = cache.SharedKind(kind), cache.Rank(rank), cache.Security(sec)
	switch {
	case !e.Kind.Valid():
		return e, fmt.Errorf("%w: kind %d", ErrDecode, kind)
	case e.Rank < cache.RankAdditional || e.Rank > cache.RankSecure:
		return e, fmt.Errorf("%w: rank %d", ErrDecode, rank)
	case e.Security > cache.SecurityIndeterminate || e.Security == cache.SecurityBogus:
		return e, fmt.Errorf("%w: security %d", ErrDecode, sec)
	case flags&^1 != 0:
		return e, fmt.Errorf("%w: flags %#x", ErrDecode, flags)
	}
	e.Wildcard = flags&1 != 0
	e.Expires = time.UnixMilli(int64(d.u64()))
	class, qtype := d.u16(), d.u16()
	name, target := d.str(), d.str()
	if d.err != nil {
		return e, d.err
	}
	if class != k.Class || qtype != k.Type || name != k.Name {
		return e, fmt.Errorf("%w: holds %s/%d/%d, read for %s", ErrDecode, name, qtype, class, k)
	}
	if target != "" {
		if _, ok := dns.IsDomainName(target); !ok {
			return e, fmt.Errorf("%w: target %q", ErrDecode, target)
		}
	}
	e.Target = target
	for _, sec := range []*[]dns.RR{&e.Answer, &e.Sigs, &e.Authority, &e.Proof} {
		*sec = d.section()
	}
	if d.err != nil {
		return cache.SharedEntry{}, d.err
	}
	if d.off != len(b) {
		return cache.SharedEntry{}, fmt.Errorf("%w: %d bytes after the last section", ErrDecode, len(b)-d.off)
	}
	return e, nil
}

// decoder reads b from off; the first error sticks and every later read
// returns zero values.
type decoder struct {
	b       []byte
	off     int
	err     error
	scratch []byte // for repacking RRs
}

func (d *decoder) need(n int) bool {
	if d.err == nil && len(d.b)-d.off < n {
		d.err = fmt.Errorf("%w: truncated at byte %d (%d more needed)", ErrDecode, d.off, n)
	}
	return d.err == nil
}

func (d *decoder) u8() byte {
	if !d.need(1) {
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	d.off += 2
	return binary.BigEndian.Uint16(d.b[d.off-2:])
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	d.off += 8
	return binary.BigEndian.Uint64(d.b[d.off-8:])
}

func (d *decoder) str() string {
	n := int(d.u8())
	if !d.need(n) {
		return ""
	}
	d.off += n
	return string(d.b[d.off-n : d.off])
}

func (d *decoder) section() []dns.RR {
	n := int(d.u16())
	if d.err != nil || n == 0 {
		return nil
	}
	if n > maxSectionRRs || n*2 > len(d.b)-d.off {
		d.err = fmt.Errorf("%w: %d RRs announced with %d bytes left", ErrDecode, n, len(d.b)-d.off)
		return nil
	}
	out := make([]dns.RR, 0, n)
	for range n {
		l := int(d.u16())
		if !d.need(l) {
			return nil
		}
		raw := d.b[d.off : d.off+l]
		rr, used, err := dns.UnpackRR(raw, 0)
		if err != nil || rr == nil || used != l {
			// miekg/dns's words without its "dns: "; none when the
			// record parsed but did not fill its length.
			why := fmt.Sprintf("%d of %d bytes used", used, l)
			if err != nil {
				why = strings.TrimPrefix(err.Error(), "dns: ")
			}
			d.err = fmt.Errorf("%w: RR at byte %d does not unpack (%s)", ErrDecode, d.off, why)
			return nil
		}
		if _, ok := rr.(*dns.OPT); ok {
			d.err = fmt.Errorf("%w: OPT record at byte %d", ErrDecode, d.off)
			return nil
		}
		// Only the exact bytes Encode writes are accepted: an RR that
		// unpacks but packs differently (a short RDATA miekg/dns fills
		// with zeros, a compression pointer) is not what a resolver stored.
		// miekg/dns can panic packing into a buffer that is too small:
		// leave room beyond both the raw and the computed length.
		if need := max(l, dns.Len(rr)) + 512; len(d.scratch) < need {
			d.scratch = make([]byte, need)
		}
		if n, err := dns.PackRR(rr, d.scratch, 0, nil, false); err != nil || !bytes.Equal(d.scratch[:n], raw) {
			d.err = fmt.Errorf("%w: RR at byte %d is not in canonical form", ErrDecode, d.off)
			return nil
		}
		d.off += l
		out = append(out, rr)
	}
	return out
}
