package cache

import (
	"fmt"
	"strconv"

	"github.com/miekg/dns"
)

// NegativeKind tells NXDOMAIN from NODATA (RFC 2308 §2).
type NegativeKind uint8

// Negative kinds.
const (
	// NXDomain means the name does not exist: it answers every type of the
	// name in its class (RFC 2308 §2.1).
	NXDomain NegativeKind = iota + 1
	// NoData means the name exists but has no RRs of the type
	// (RFC 2308 §2.2).
	NoData
)

// String returns "NXDOMAIN" or "NODATA".
func (k NegativeKind) String() string {
	switch k {
	case NXDomain:
		return "NXDOMAIN"
	case NoData:
		return "NODATA"
	}
	return "negative-kind(" + strconv.Itoa(int(k)) + ")"
}

// Negative is a negative answer to insert.
type Negative struct {
	Kind NegativeKind
	// SOA is the SOA of the zone from the authority section; required. Its
	// TTL and MINIMUM give the negative TTL (RFC 2308 §5).
	SOA *dns.SOA
	// Proof holds the other authority RRs to return with the answer: the
	// SOA's RRSIGs and any NSEC or NSEC3 RRs and their RRSIGs. The cache
	// does not look into them.
	Proof    []dns.RR
	Rank     Rank
	Security Security
}

// NegativeHit is a cached negative answer as a lookup returns it. Its RRs are
// copies: the caller owns them.
type NegativeHit struct {
	Kind     NegativeKind
	SOA      *dns.SOA // TTL set to the remaining TTL (StaleTTL if Stale)
	Proof    []dns.RR // TTL likewise
	Rank     Rank
	Security Security
	TTL      uint32 // the TTL written into SOA and Proof
	Stale    bool   // expired data returned because LookupOpts.AllowStale
	Prefetch bool   // as Hit.Prefetch
}

// negativeTTL is the TTL of a negative answer: min(SOA TTL, SOA MINIMUM)
// (RFC 2308 §5).
func negativeTTL(soa *dns.SOA) uint32 { return min(soa.Hdr.Ttl, soa.Minttl) }

// InsertNegative stores a copy of n as the answer for name, qtype and qclass;
// an NXDOMAIN ignores qtype and answers every type of name. The TTL is
// min(SOA TTL, SOA MINIMUM) capped by Config.MaxNegTTL (Config.MinTTL does
// not apply); 0 is not stored. A fresh entry of higher rank is kept. A
// stored NODATA removes the RRset of qtype, and a stored NXDOMAIN the RRset
// of qtype if qtype is not 0, unless it outranks n.
func (c *Cache) InsertNegative(name string, qtype, qclass uint16, n Negative) (InsertResult, error) {
	var k key
	switch n.Kind {
	case NXDomain:
		k = key{name: canonicalName(name), class: qclass, kind: kindNXDomain}
	case NoData:
		k = key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindNoData}
	default:
		return 0, fmt.Errorf("cache: %w: %v", ErrInvalid, n.Kind)
	}
	switch {
	case name == "":
		return 0, fmt.Errorf("cache: %w: empty name", ErrInvalid)
	case n.SOA == nil:
		return 0, fmt.Errorf("cache: %w: %v for %s without SOA", ErrInvalid, n.Kind, k.name)
	case !n.Rank.valid():
		return 0, fmt.Errorf("cache: %w: %v", ErrInvalid, n.Rank)
	}
	ttl, ok := clamp(negativeTTL(n.SOA), 0, c.cfg.MaxNegTTL)
	if !ok {
		return ZeroTTL, nil
	}
	// The SOA and the RRSIGs over it that lead the proof are the same in
	// every negative answer from a zone: they are kept once, shared.
	head := 0
	for head < len(n.Proof) && coversSOA(n.Proof[head], n.SOA.Hdr.Name) {
		head++
	}
	soa, err := c.packShared(append([]dns.RR{n.SOA}, n.Proof[:head]...))
	if err != nil {
		return 0, err
	}
	data, err := c.pack(nil, nil, n.Proof[head:])
	if err != nil {
		return 0, err
	}
	e := &entry{
		data:     data,
		soa:      soa,
		inserted: c.tick(c.now()),
		ttl:      ttl,
		weight:   entryOverhead + uint32(len(data)),
		rank:     n.Rank,
		sec:      n.Security,
		kind:     k.kind,
	}
	// The check that the records decode skips the shared SOA when a
	// live entry holds it: the same bytes decoded when that entry was
	// stored (a random-subdomain flood's misses all share it: decoding
	// it was six allocations a miss, #11).
	if c.soas.holds(soa) {
		_, err = unpackForeign(nil, e.data, 0, 0) // the rest of the proof
	} else {
		_, _, _, _, err = e.records(k, 0)
	}
	if err != nil {
		return 0, fmt.Errorf("cache: %w: %v for %s does not survive packing: %w", ErrInvalid, n.Kind, k.name, err)
	}
	// The shared SOA is weighed by one live entry of its zone
	// (soaweight.go); released when the entry goes, or now if the write
	// is outranked.
	old, found := c.store.GetIfPresent(k)
	if e.soaCarrier = c.soas.take(soa, found && old.soaCarrier && old.soa == soa); e.soaCarrier {
		e.weight += uint32(len(soa.Value()))
	}
	res := c.put(k, e)
	if res == Outranked {
		c.soas.release(soa, e.soaCarrier)
	}
	if res != Outranked && qtype != 0 {
		c.dropOutranked(key{name: k.name, qtype: qtype, class: qclass, kind: kindRRset}, e)
	}
	return res, nil
}

// LookupNegative returns a copy of the negative answer cached for name,
// qtype and qclass: the NODATA for the type or the NXDOMAIN for the name,
// whichever was stored last when both are there. Fresh and stale data are
// told apart as by Lookup. It counts one hit or miss.
func (c *Cache) LookupNegative(name string, qtype, qclass uint16, opts LookupOpts) (NegativeHit, bool) {
	name = canonicalName(name)
	e, ok := c.store.GetIfPresent(key{name: name, qtype: qtype, class: qclass, kind: kindNoData})
	k := key{name: name, qtype: qtype, class: qclass, kind: kindNoData}
	nx, nxOK := c.store.GetIfPresent(key{name: name, class: qclass, kind: kindNXDomain})
	if nxOK && (!ok || nx.inserted > e.inserted) {
		e, ok = nx, true
		k = key{name: name, class: qclass, kind: kindNXDomain}
	}
	if !ok {
		c.misses.Add(1)
		return NegativeHit{}, false
	}
	f, ok := c.check(e, c.now(), opts)
	if !ok {
		return NegativeHit{}, false
	}
	kind := NoData
	if e.kind == kindNXDomain {
		kind = NXDomain
	}
	_, _, proof, soa, err := e.records(k, f.ttl)
	if err != nil || soa == nil {
		// Unreachable: see Lookup.
		return NegativeHit{}, false
	}
	return NegativeHit{
		Kind:     kind,
		SOA:      soa,
		Proof:    proof,
		Rank:     e.rank,
		Security: e.sec,
		TTL:      f.ttl,
		Stale:    f.stale,
		Prefetch: f.prefetch,
	}, true
}

// coversSOA reports whether rr is an RRSIG over the SOA of zone.
func coversSOA(rr dns.RR, zone string) bool {
	sig, ok := rr.(*dns.RRSIG)
	return ok && sig.TypeCovered == dns.TypeSOA && equalName(sig.Hdr.Name, canonicalName(zone))
}
