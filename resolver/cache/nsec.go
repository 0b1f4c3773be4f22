package cache

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
)

// The NSEC store keeps validated NSEC and NSEC3 records per zone for the
// aggressive use of DNSSEC-validated data (RFC 8198): a secure negative
// answer teaches which names and types of a zone do not exist, and later
// questions in those ranges are answered from memory with no query. As
// Knot Resolver keeps these records in its cache, they live here, under
// their own share of the byte budget ([Config.NSECBytes]), with TTL expiry
// and eviction by otter, like the rest of the cache.
//
// The unit otter weighs, expires and evicts is a zone: its records are
// needed together to prove a range empty. Records expire one by one inside
// it (pruned whenever the zone is touched), and the zone goes when its
// last record and its SOA have expired.

// maxNSECPerZone bounds the records kept per zone: enough for the busy
// signed zones a resolver meets, small enough that one zone walking its
// whole NSEC chain at us cannot take the store's whole share (about 400
// bytes each with a signature, 1.6 MB at most).
const maxNSECPerZone = 4096

// nsecZoneOverhead approximates the heap bytes of a zone beyond its
// records: otter's node, the zone struct, its map and the SOA with its
// signatures' headers. nsecRecordOverhead covers a record's struct and map
// slot beyond the RRs' own weight.
const (
	nsecZoneOverhead   = 400
	nsecRecordOverhead = 96
)

// nsecRecord is one validated NSEC or NSEC3 record with its signatures. It
// is never changed once stored: a record learnt again replaces it.
//
// The record itself stays decoded: every aggressive lookup reads all of a
// zone's records (NSECZone), and the proofs hand back these pointers. The
// RRSIGs over it, the bulk of its bytes and read only when a proof is put
// in a reply, are packed in the owned form (pack.go), under the record's
// owner and class: a signed NSEC takes 378 heap bytes instead of 506
// (TestNSECBytesPerRecord).
type nsecRecord struct {
	rr      dns.RR // *dns.NSEC or *dns.NSEC3
	sigs    []byte // the RRSIGs over rr, packed
	expires int64  // Unix nanoseconds
	weight  uint32
	nsig    uint16 // RRSIGs in sigs
}

// sigRRs decodes r's RRSIGs with TTL ttl.
func (r *nsecRecord) sigRRs(ttl uint32) ([]dns.RR, error) {
	h := r.rr.Header()
	sigs, _, err := unpackOwned(r.sigs, 0, int(r.nsig), h.Name, h.Class, ttl)
	return sigs, err
}

// live reports whether r is unexpired at now (Unix nanoseconds).
func (r *nsecRecord) live(now int64) bool { return now < r.expires }

// nsecZone is one zone's records and its signed SOA, which a synthesised
// negative answer carries. It changes only under nsecStore.mu.
type nsecZone struct {
	soa        *dns.SOA
	soaSigs    []dns.RR
	soaExpires time.Time
	soaWeight  uint32
	recs       map[string]*nsecRecord // by lower-case owner
	recWeight  uint32                 // the records' weights
	weight     uint32                 // soaWeight and recWeight, plus overhead
	expires    time.Time              // the latest of soaExpires and the records' expiries
	earliest   time.Time              // the earliest record expiry: prune has nothing to do before
}

// nsecStore is the cache's part for RFC 8198. mu serialises every use of
// store, because the zones otter holds are changed in place.
type nsecStore struct {
	mu      sync.Mutex
	now     func() time.Time
	store   *otter.Cache[string, *nsecZone]
	scratch []byte // a buffer to pack RRSIGs into, under mu

	records   atomic.Int64  // records held, in every zone
	evictions atomic.Uint64 // zones dropped to stay within budget
}

func newNSECStore(maxBytes int64, now func() time.Time, clock otter.Clock) (*nsecStore, error) {
	s := &nsecStore{now: now}
	var err error
	s.store, err = otter.New(&otter.Options[string, *nsecZone]{
		MaximumWeight:    uint64(maxBytes),
		Weigher:          func(zone string, z *nsecZone) uint32 { return uint32(len(zone)) + z.weight },
		ExpiryCalculator: nsecExpiry{now: now},
		OnDeletion: func(e otter.DeletionEvent[string, *nsecZone]) {
			if e.Cause == otter.CauseReplacement {
				return // the same zone, stored again after a change
			}
			s.records.Add(-int64(len(e.Value.recs)))
			if e.Cause == otter.CauseOverflow {
				s.evictions.Add(1)
			}
		},
		Clock:    clock,
		Executor: func(fn func()) { fn() }, // inline: the counters are exact when a call returns
	})
	if err != nil {
		return nil, fmt.Errorf("cache: nsec store: %w", err)
	}
	return s, nil
}

// nsecExpiry keeps a zone until its last record or SOA expires.
type nsecExpiry struct{ now func() time.Time }

func (x nsecExpiry) ExpireAfterCreate(e otter.Entry[string, *nsecZone]) time.Duration {
	return max(e.Value.expires.Sub(x.now()), time.Nanosecond)
}

func (x nsecExpiry) ExpireAfterUpdate(e otter.Entry[string, *nsecZone], _ *nsecZone) time.Duration {
	return x.ExpireAfterCreate(e)
}

func (nsecExpiry) ExpireAfterRead(e otter.Entry[string, *nsecZone]) time.Duration {
	return e.ExpiresAfter()
}

// LearnNSEC keeps the validated NSEC and NSEC3 records of zone found in
// proof, with the RRSIGs covering them: from a secure negative answer
// (soa is its SOA, whose negative TTL bounds theirs, RFC 8198 §5.4, and
// which later synthesised answers carry) or from the proof of a secure
// wildcard answer (soa nil). The caller vouches that proof was validated.
func (c *Cache) LearnNSEC(zone string, soa *dns.SOA, proof []dns.RR) {
	c.nsec.learn(canonicalName(dns.Fqdn(zone)), soa, proof)
}

func (s *nsecStore) learn(zone string, soa *dns.SOA, proof []dns.RR) {
	now := s.now()
	negTTL := uint32(maxTTLSeconds)
	if soa != nil {
		negTTL = min(soa.Hdr.Ttl, soa.Minttl, maxTTLSeconds)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.store.GetIfPresent(zone)
	if !ok {
		if soa == nil && !hasNSEC(proof) {
			return
		}
		z = &nsecZone{recs: map[string]*nsecRecord{}}
	}
	z.prune(now, &s.records)
	if soa != nil && negTTL > 0 {
		z.soa = dns.Copy(soa).(*dns.SOA)
		z.soaSigs = copyRRs(coveringSigs(proof, soa.Hdr.Name, dns.TypeSOA), negTTL)
		z.soaExpires = now.Add(time.Duration(negTTL) * time.Second)
		z.soaWeight = rrsWeight([]dns.RR{z.soa}) + rrsWeight(z.soaSigs)
	}
	for _, rr := range proof {
		h := rr.Header()
		if h.Rrtype != dns.TypeNSEC && h.Rrtype != dns.TypeNSEC3 {
			continue
		}
		owner := canonicalName(h.Name)
		if _, have := z.recs[owner]; !have && len(z.recs) >= maxNSECPerZone {
			continue
		}
		ttl := min(h.Ttl, negTTL, maxTTLSeconds) // RFC 8198 §5.4: never longer than the SOA negative TTL
		if ttl == 0 {
			continue
		}
		rec, err := s.record(rr, coveringSigs(proof, h.Name, h.Rrtype), now.Add(time.Duration(ttl)*time.Second))
		if err != nil {
			continue // not kept: the proof still answers this question
		}
		rec.weight = nsecRecordOverhead + uint32(len(owner)) + rrsWeight([]dns.RR{rec.rr}) + uint32(len(rec.sigs))
		if old, have := z.recs[owner]; have {
			z.recWeight -= old.weight
		} else {
			s.records.Add(1)
		}
		z.recs[owner] = rec
		z.recWeight += rec.weight
		exp := time.Unix(0, rec.expires)
		z.expires = maxTime(z.expires, exp)
		if z.earliest.IsZero() || exp.Before(z.earliest) {
			z.earliest = exp
		}
	}
	if z.soa == nil && len(z.recs) == 0 {
		if ok {
			s.store.Invalidate(zone)
		}
		return
	}
	z.reweigh()
	s.store.Set(zone, z)
}

// record returns rr and sigs packed for the store, or an error when they
// do not pack or decode again (ErrInvalid).
func (s *nsecStore) record(rr dns.RR, sigs []dns.RR, expires time.Time) (*nsecRecord, error) {
	if len(sigs) > maxRecords {
		return nil, fmt.Errorf("cache: %w: more than %d RRSIGs", ErrInvalid, maxRecords)
	}
	out, wire, err := packRecords(nil, sigs, true, s.scratch)
	s.scratch = wire
	if err != nil {
		return nil, err
	}
	rec := &nsecRecord{rr: dns.Copy(rr), sigs: out, expires: expires.UnixNano(), nsig: uint16(len(sigs))}
	if _, err := rec.sigRRs(0); err != nil {
		return nil, fmt.Errorf("cache: %w: RRSIGs over %s do not survive packing: %w", ErrInvalid, rr.Header().Name, err)
	}
	return rec, nil
}

// hasNSEC reports whether rrs hold an NSEC or NSEC3 record.
func hasNSEC(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; t == dns.TypeNSEC || t == dns.TypeNSEC3 {
			return true
		}
	}
	return false
}

// coveringSigs returns the RRSIGs in rrs covering owner/t.
func coveringSigs(rrs []dns.RR, owner string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == t && equalFold(sig.Hdr.Name, owner) {
			out = append(out, sig)
		}
	}
	return out
}

// equalFold compares two names without regard to ASCII case.
func equalFold(a, b string) bool {
	return len(a) == len(b) && canonicalName(dns.Fqdn(a)) == canonicalName(dns.Fqdn(b))
}

// prune drops the records and the SOA expired at now, keeping records
// (the count of every zone's records) exact. It walks the records only
// when one of them has expired.
func (z *nsecZone) prune(now time.Time, records *atomic.Int64) {
	if z.soa != nil && !now.Before(z.soaExpires) {
		z.soa, z.soaSigs, z.soaWeight = nil, nil, 0
	}
	if z.earliest.IsZero() || now.Before(z.earliest) {
		return
	}
	z.recWeight, z.expires, z.earliest = 0, z.soaExpires, time.Time{}
	for owner, rec := range z.recs {
		if !rec.live(now.UnixNano()) {
			delete(z.recs, owner)
			records.Add(-1)
			continue
		}
		z.recWeight += rec.weight
		exp := time.Unix(0, rec.expires)
		z.expires = maxTime(z.expires, exp)
		if z.earliest.IsZero() || exp.Before(z.earliest) {
			z.earliest = exp
		}
	}
}

// reweigh recomputes the weight and expiry of z after a change.
func (z *nsecZone) reweigh() {
	z.weight = nsecZoneOverhead + z.soaWeight + z.recWeight
	z.expires = maxTime(z.expires, z.soaExpires)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// NSECView is what the validated NSEC records of one zone can prove, at
// the moment it was taken. NSEC and NSEC3 are shared with the cache and
// must not be changed; [NSECView.Proof] returns copies to put in a reply.
type NSECView struct {
	Zone string
	// SOA is a copy of the zone's SOA with the TTL it has left; nil when
	// none was learnt or it expired (then nothing can be synthesised).
	SOA *dns.SOA
	// SOASigs are copies of the RRSIGs covering SOA, with its TTL.
	SOASigs []dns.RR
	NSEC    []*dns.NSEC
	NSEC3   []*dns.NSEC3

	recs []*nsecRecord // in the order of NSEC, then NSEC3
	now  time.Time
}

// NSECZone returns the unexpired validated records of zone; false when it
// holds none.
func (c *Cache) NSECZone(zone string) (NSECView, bool) {
	zone = canonicalName(dns.Fqdn(zone))
	s := c.nsec
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.store.GetIfPresent(zone)
	if !ok {
		return NSECView{}, false
	}
	v := NSECView{Zone: zone, now: now}
	if z.soa != nil && now.Before(z.soaExpires) {
		ttl := ttlSeconds(z.soaExpires.Sub(now))
		v.SOA = dns.Copy(z.soa).(*dns.SOA)
		v.SOA.Hdr.Ttl = ttl
		v.SOASigs = copyRRs(z.soaSigs, ttl)
	}
	var nsec3 []*nsecRecord
	at := now.UnixNano()
	for _, rec := range z.recs {
		if !rec.live(at) {
			continue
		}
		switch n := rec.rr.(type) {
		case *dns.NSEC:
			v.NSEC = append(v.NSEC, n)
			v.recs = append(v.recs, rec)
		case *dns.NSEC3:
			v.NSEC3 = append(v.NSEC3, n)
			nsec3 = append(nsec3, rec)
		}
	}
	v.recs = append(v.recs, nsec3...)
	if v.SOA == nil && len(v.recs) == 0 {
		return NSECView{}, false
	}
	return v, true
}

// Proof returns copies of the given records of the view (as returned by
// the dnssec package's aggressive proofs, which hand back the view's own
// pointers) and their RRSIGs, with the TTL each has left.
func (v *NSECView) Proof(records []dns.RR) []dns.RR {
	var out []dns.RR
	for _, want := range records {
		for _, rec := range v.recs {
			if rec.rr != want {
				continue
			}
			ttl := ttlSeconds(time.Duration(rec.expires - v.now.UnixNano()))
			sigs, err := rec.sigRRs(ttl)
			if err != nil {
				break // unreachable: the store decoded them when it kept them
			}
			out = append(out, copyRRs([]dns.RR{rec.rr}, ttl)...)
			out = append(out, sigs...)
			break
		}
	}
	return out
}

// DeepestNSECZone returns the deepest zone enclosing name (name included)
// for which validated NSEC or NSEC3 records are held.
func (c *Cache) DeepestNSECZone(name string) (string, bool) {
	name = canonicalName(dns.Fqdn(name))
	s := c.nsec
	s.mu.Lock()
	defer s.mu.Unlock()
	// Bounded by the labels of name (at most 127).
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z, ok := s.store.GetIfPresent(name[off:]); ok && len(z.recs) > 0 {
			return name[off:], true
		}
	}
	return "", false
}

// flush removes the zones whose records could prove anything about name
// or the names below it: zones at, below or above it ("" for all). It
// returns how many records went with them.
func (s *nsecStore) flush(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var drop []string
	for zone := range s.store.Keys() {
		if name == "" || dnsname.IsSubDomain(name, zone) || dnsname.IsSubDomain(zone, name) {
			drop = append(drop, zone)
		}
	}
	n := 0
	for _, zone := range drop {
		if z, ok := s.store.Invalidate(zone); ok {
			n += len(z.recs)
		}
	}
	return n
}

// stats returns the records held, their approximate bytes and the zones
// evicted.
func (s *nsecStore) stats() (records int, bytes, evictions uint64) {
	return int(s.records.Load()), s.store.WeightedSize(), s.evictions.Load()
}
