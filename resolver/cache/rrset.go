package cache

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/maypok86/otter/v2"
	"github.com/miekg/dns"
)

// ErrInvalid is wrapped by errors Insert, InsertNegative and MarkFailed
// return for data that cannot be cached.
var ErrInvalid = errors.New("invalid data")

// RRset is an RRset to insert: RRs sharing owner name, type and class, the
// RRSIGs covering them, where it was found and its DNSSEC status.
type RRset struct {
	RRs  []dns.RR
	Sigs []dns.RR // RRSIGs whose type covered is the set's type
	// Proof is kept with a wildcard-expanded RRset: the NSEC/NSEC3
	// records (and RRSIGs) proving the exact name does not exist, which
	// an answer to a DNSSEC client must carry (RFC 4035 §3.1.3.3). It
	// lives as long as the RRset.
	Proof    []dns.RR
	Rank     Rank
	Security Security
}

// Hit is a cached RRset as a lookup returns it. Its RRs are copies: the
// caller owns them.
type Hit struct {
	RRs      []dns.RR // TTL set to the remaining TTL (StaleTTL if Stale)
	Sigs     []dns.RR // TTL likewise
	Proof    []dns.RR // TTL likewise
	Rank     Rank
	Security Security
	TTL      uint32 // the TTL written into RRs and Sigs
	Stale    bool   // expired data returned because LookupOpts.AllowStale
	// Prefetch suggests refreshing the entry now: it is in the last tenth
	// of its TTL and was hit at least Config.PrefetchMinHits times. It is
	// reported once per stored entry.
	Prefetch bool
}

// InsertResult says what an insertion did.
type InsertResult uint8

// Insert results.
const (
	// Stored means there was no fresh entry and the data was stored.
	Stored InsertResult = iota + 1
	// Replaced means a fresh entry of lower or equal rank was replaced.
	Replaced
	// Outranked means a fresh entry of higher rank was kept
	// (RFC 2181 §5.4.1) and the data dropped.
	Outranked
	// ZeroTTL means the data had TTL 0 and was not stored; the caller uses
	// it once (RFC 1035 §3.2.1, RFC 2308 §5).
	ZeroTTL
)

var insertResultNames = [...]string{
	Stored:    "stored",
	Replaced:  "replaced",
	Outranked: "outranked",
	ZeroTTL:   "zero-ttl",
}

// String returns a lower-case name, such as "outranked".
func (r InsertResult) String() string {
	if r >= Stored && r <= ZeroTTL {
		return insertResultNames[r]
	}
	return "insert-result(" + strconv.Itoa(int(r)) + ")"
}

// Insert stores a copy of s, keyed by its lower-cased owner name, type and
// class. All RRs get the smallest TTL of the set and its RRSIGs, clamped to
// [Config.MinTTL, Config.MaxTTL]. A fresh entry of higher rank is kept. A
// stored set of rank RankAnswerNonAuth or above removes the negative entries
// it contradicts, unless they outrank it.
func (c *Cache) Insert(s RRset) (InsertResult, error) {
	if len(s.RRs) == 0 {
		return 0, fmt.Errorf("cache: %w: empty RRset", ErrInvalid)
	}
	if !s.Rank.valid() {
		return 0, fmt.Errorf("cache: %w: %v", ErrInvalid, s.Rank)
	}
	h0 := s.RRs[0].Header()
	name, qtype, class := canonicalName(h0.Name), h0.Rrtype, h0.Class
	minTTL := h0.Ttl
	for _, rr := range s.RRs[1:] {
		h := rr.Header()
		if h.Rrtype != qtype || h.Class != class || !equalName(h.Name, name) {
			return 0, fmt.Errorf("cache: %w: %s %s %s in RRset %s %s %s", ErrInvalid,
				h.Name, dns.Class(h.Class), dns.Type(h.Rrtype), name, dns.Class(class), dns.Type(qtype))
		}
		minTTL = min(minTTL, h.Ttl)
	}
	for _, rr := range s.Sigs {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || sig.TypeCovered != qtype || sig.Hdr.Class != class || !equalName(sig.Hdr.Name, name) {
			return 0, fmt.Errorf("cache: %w: %s is not an RRSIG over %s %s %s", ErrInvalid,
				rr.Header().Name, name, dns.Class(class), dns.Type(qtype))
		}
		minTTL = min(minTTL, sig.Hdr.Ttl)
	}
	ttl, ok := clamp(minTTL, c.cfg.MinTTL, c.cfg.MaxTTL)
	if !ok {
		return ZeroTTL, nil
	}
	data, err := c.pack(s.RRs, s.Sigs, s.Proof)
	if err != nil {
		return 0, err
	}
	e := &entry{
		data:     data,
		inserted: c.tick(c.now()),
		ttl:      ttl,
		weight:   entryOverhead + uint32(len(data)),
		nrr:      uint16(len(s.RRs)),
		nsig:     uint16(len(s.Sigs)),
		rank:     s.Rank,
		sec:      s.Security,
		kind:     kindRRset,
	}
	k := key{name: name, qtype: qtype, class: class, kind: kindRRset}
	if _, _, _, _, err := e.records(k, 0); err != nil {
		return 0, fmt.Errorf("cache: %w: %s %s does not survive packing: %w", ErrInvalid, name, dns.Type(qtype), err)
	}
	res := c.put(k, e)
	if res != Outranked && s.Rank >= RankAnswerNonAuth {
		c.dropOutranked(key{name: name, qtype: qtype, class: class, kind: kindNoData}, e)
		c.dropOutranked(key{name: name, class: class, kind: kindNXDomain}, e)
	}
	return res, nil
}

// Lookup returns a copy of the RRset cached for name, qtype and qclass, if
// it is fresh, or stale and opts allows stale data.
func (c *Cache) Lookup(name string, qtype, qclass uint16, opts LookupOpts) (Hit, bool) {
	k := key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindRRset}
	e, ok := c.store.GetIfPresent(k)
	if !ok {
		c.misses.Add(1)
		return Hit{}, false
	}
	f, ok := c.check(e, c.now(), opts)
	if !ok {
		return Hit{}, false
	}
	rrs, sigs, proof, _, err := e.records(k, f.ttl)
	if err != nil {
		// Unreachable: the cache decodes only what it packed. Count
		// the lookup as a miss rather than answer with part of a set.
		return Hit{}, false
	}
	return Hit{
		RRs:      rrs,
		Sigs:     sigs,
		Proof:    proof,
		Rank:     e.rank,
		Security: e.sec,
		TTL:      f.ttl,
		Stale:    f.stale,
		Prefetch: f.prefetch,
	}, true
}

// Remove drops the RRset and the negative entries cached for name, qtype
// and qclass (the NXDOMAIN for name too), for instance after validation
// found them bogus.
func (c *Cache) Remove(name string, qtype, qclass uint16) {
	name = canonicalName(name)
	c.store.Invalidate(key{name: name, qtype: qtype, class: qclass, kind: kindRRset})
	c.store.Invalidate(key{name: name, qtype: qtype, class: qclass, kind: kindNoData})
	c.store.Invalidate(key{name: name, class: qclass, kind: kindNXDomain})
}

// put stores e under k unless a fresh entry of higher rank is there.
func (c *Cache) put(k key, e *entry) InsertResult {
	// Counted before the write, so a deletion event the write causes
	// never takes the count below zero; taken back if nothing is written.
	c.parts[k.kind].add(1, weigh(k, e))
	res := Stored
	c.store.Compute(k, func(old *entry, found bool) (*entry, otter.ComputeOp) {
		if !found || !old.fresh(e.inserted) {
			return e, otter.WriteOp
		}
		if e.rank < old.rank {
			res = Outranked
			return old, otter.CancelOp
		}
		res = Replaced
		return e, otter.WriteOp
	})
	if res == Outranked {
		c.parts[k.kind].add(-1, weigh(k, e))
	}
	return res
}

// dropOutranked removes the entry under k if e contradicts it and it is
// expired or does not outrank e.
func (c *Cache) dropOutranked(k key, e *entry) {
	c.store.ComputeIfPresent(k, func(old *entry) (*entry, otter.ComputeOp) {
		if old.fresh(e.inserted) && old.rank > e.rank {
			return old, otter.CancelOp
		}
		return nil, otter.InvalidateOp
	})
}

// equalName reports whether name is canonical once canonicalised.
func equalName(name, canonical string) bool {
	return name == canonical || canonicalName(name) == canonical
}
