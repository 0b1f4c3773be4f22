package resolver

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// Aggressive use of validated NSEC records (RFC 8198): a secure negative
// answer teaches which names and types of a zone do not exist, and later
// questions in those ranges are answered from memory with no query.

// maxAggrZones bounds the zones whose NSEC records are kept, and
// maxAggrNSECPerZone the records per zone: enough for the busy signed
// zones a resolver meets, small enough that a zone walking its whole NSEC
// chain at us cannot grow memory without bound (about 200 bytes each).
const (
	maxAggrZones       = 1024
	maxAggrNSECPerZone = 4096
)

// nsecEntry is a validated NSEC or NSEC3 record with its signatures.
type nsecEntry struct {
	rr      dns.RR // *dns.NSEC or *dns.NSEC3
	sigs    []dns.RR
	expires time.Time
}

// aggrZone holds one zone's validated NSEC records and its signed SOA,
// which a synthesised negative answer carries.
type aggrZone struct {
	soa        *dns.SOA
	soaSigs    []dns.RR
	soaExpires time.Time
	nsecs      map[string]nsecEntry // by lower-case owner
}

// nsecStore is the resolver's memory of validated NSEC records.
type nsecStore struct {
	mu    sync.Mutex // guards zones
	zones map[string]*aggrZone
}

// learn keeps the validated NSEC records of zone: from a negative answer
// (with its SOA, whose negative TTL bounds theirs) or from the proof of a
// wildcard answer (soa nil).
func (s *nsecStore) learn(zone string, soa dns.RR, proof []dns.RR, now time.Time) {
	sr, _ := soa.(*dns.SOA)
	negTTL := uint32(1<<31 - 1)
	if sr != nil {
		negTTL = min(sr.Hdr.Ttl, sr.Minttl)
	}
	zone = dns.CanonicalName(zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.zones == nil {
		s.zones = map[string]*aggrZone{}
	}
	z := s.zones[zone]
	if z == nil {
		if len(s.zones) >= maxAggrZones {
			return
		}
		z = &aggrZone{nsecs: map[string]nsecEntry{}}
		s.zones[zone] = z
	}
	if sr != nil {
		z.soa = dns.Copy(sr).(*dns.SOA)
		z.soaSigs = copyRRs(coveringSigsRR(proof, sr.Hdr.Name, dns.TypeSOA))
		z.soaExpires = now.Add(time.Duration(negTTL) * time.Second)
	}
	for _, rr := range proof {
		t := rr.Header().Rrtype
		if t != dns.TypeNSEC && t != dns.TypeNSEC3 {
			continue
		}
		key := strings.ToLower(rr.Header().Name)
		if _, have := z.nsecs[key]; !have && len(z.nsecs) >= maxAggrNSECPerZone {
			continue
		}
		ttl := min(rr.Header().Ttl, negTTL) // RFC 8198 §5.4: no longer than the SOA negative TTL
		z.nsecs[key] = nsecEntry{rr: dns.Copy(rr), sigs: copyRRs(coveringSigsRR(proof, rr.Header().Name, t)),
			expires: now.Add(time.Duration(ttl) * time.Second)}
	}
}

// answer tries to prove qname/qtype absent from the NSEC records of zone.
func (s *nsecStore) answer(zone, qname string, qtype uint16, now time.Time) (response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[dns.CanonicalName(zone)]
	if z == nil || z.soa == nil || !now.Before(z.soaExpires) {
		return response{}, false
	}
	var nsecs []*dns.NSEC
	var nsec3s []*dns.NSEC3
	for key, e := range z.nsecs {
		if !now.Before(e.expires) {
			delete(z.nsecs, key)
			continue
		}
		switch v := e.rr.(type) {
		case *dns.NSEC:
			nsecs = append(nsecs, v)
		case *dns.NSEC3:
			nsec3s = append(nsec3s, v)
		}
	}
	var proof []dns.RR
	nx, p, ok := dnssec.AggressiveNSEC(qname, qtype, zone, nsecs)
	for _, n := range p {
		proof = append(proof, n)
	}
	if !ok && len(nsec3s) > 0 {
		var p3 []*dns.NSEC3
		nx, p3, ok = dnssec.AggressiveNSEC3(qname, qtype, zone, nsec3s)
		for _, n := range p3 {
			proof = append(proof, n)
		}
	}
	if !ok {
		return response{}, false
	}
	left := func(t time.Time) uint32 { return uint32(t.Sub(now) / time.Second) }
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Hdr.Ttl = left(z.soaExpires)
	r := response{kind: KindNoData, soa: []dns.RR{soa}, target: qname, validated: true, security: dnssec.Secure,
		rank: 0, authAnswer: true}
	if nx {
		r.kind = KindNXDomain
	}
	r.proof = append(r.proof, withTTL(z.soaSigs, soa.Hdr.Ttl)...)
	for _, n := range proof {
		e := z.nsecs[strings.ToLower(n.Header().Name)]
		ttl := left(e.expires)
		nn := dns.Copy(n)
		nn.Header().Ttl = ttl
		r.proof = append(r.proof, nn)
		r.proof = append(r.proof, withTTL(e.sigs, ttl)...)
	}
	return r, true
}

// aggressiveAnswer answers name/qtype from validated NSEC records of the
// zone that holds name, when validation is on and the client did not set
// CD.
func (rq *request) aggressiveAnswer(name string, qtype uint16) (response, bool) {
	if rq.r.anchors == nil || rq.cd || rq.depth > 0 {
		return response{}, false
	}
	// The cut cached for name may lie above the zone that signed the
	// NSEC records: a child served by its parent's servers is never seen
	// through a referral. The deepest zone with validated records wins.
	zone := rq.zoneOf(name)
	if nz, ok := rq.r.nsecs.deepest(name); ok && nz != zone && dns.IsSubDomain(zone, nz) {
		zone = nz
	}
	r, ok := rq.r.nsecs.answer(zone, name, qtype, rq.r.now())
	if ok {
		rq.cacheHit(false, fmt.Sprintf("hit: %s %s is %s by validated NSEC records of %s (RFC 8198)", name, dns.TypeToString[qtype], r.kind, zone), r.soa)
		return r, true
	}
	return rq.synthesiseWildcard(zone, name, qtype)
}

// synthesiseWildcard answers name from a cached, validated wildcard when
// cached NSEC records prove name itself does not exist (RFC 8198 §5.3).
func (rq *request) synthesiseWildcard(zone, name string, qtype uint16) (response, bool) {
	wc, proof, ok := rq.r.nsecs.wildcard(zone, name, rq.r.now())
	if !ok {
		return response{}, false
	}
	for _, t := range []uint16{qtype, dns.TypeCNAME} {
		h, ok := rq.r.cache.Lookup(wc, t, rq.class, cache.LookupOpts{})
		if !ok || h.Security != cache.SecuritySecure || len(h.RRs) == 0 {
			continue
		}
		r := response{kind: KindAnswer, answer: renamed(h.RRs, name), sigs: renamed(h.Sigs, name), proof: proof,
			wildcard: true, validated: true, security: dnssec.Secure, rank: h.Rank, authAnswer: true}
		if t == dns.TypeCNAME && qtype != dns.TypeCNAME {
			r.kind, r.target = KindCNAME, dns.Fqdn(h.RRs[0].(*dns.CNAME).Target)
		}
		rq.cacheHit(false, fmt.Sprintf("hit: %s %s synthesised from the wildcard %s; validated NSEC records of %s prove %s does not exist (RFC 8198)",
			name, dns.TypeToString[t], wc, zone, name), r.answer)
		return r, true
	}
	return response{}, false
}

// wildcard finds the proof that name does not exist but the wildcard
// that covers it does, returning the wildcard and the proof records.
func (s *nsecStore) wildcard(zone, name string, now time.Time) (string, []dns.RR, bool) {
	var owners []dns.RR
	wc, p, ok := dnssec.AggressiveWildcard(name, zone, s.records(zone, now))
	for _, n := range p {
		owners = append(owners, n)
	}
	if !ok {
		var p3 []*dns.NSEC3
		wc, p3, ok = dnssec.AggressiveWildcardNSEC3(name, zone, s.records3(zone, now))
		for _, n := range p3 {
			owners = append(owners, n)
		}
	}
	if !ok {
		return "", nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[dns.CanonicalName(zone)]
	if z == nil {
		return "", nil, false
	}
	var proof []dns.RR
	for _, n := range owners {
		e := z.nsecs[strings.ToLower(n.Header().Name)]
		ttl := uint32(e.expires.Sub(now) / time.Second)
		nn := dns.Copy(n)
		nn.Header().Ttl = ttl
		proof = append(proof, nn)
		proof = append(proof, withTTL(e.sigs, ttl)...)
	}
	return wc, proof, true
}

// deepest returns the deepest zone enclosing name (name included) whose
// validated NSEC records are held.
func (s *nsecStore) deepest(name string) (string, bool) {
	name = dns.CanonicalName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z := s.zones[name[off:]]; z != nil && len(z.nsecs) > 0 {
			return name[off:], true
		}
	}
	return "", false
}

// records returns the unexpired validated NSEC records of zone.
func (s *nsecStore) records(zone string, now time.Time) []*dns.NSEC {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[dns.CanonicalName(zone)]
	if z == nil {
		return nil
	}
	var out []*dns.NSEC
	for _, e := range z.nsecs {
		if n, ok := e.rr.(*dns.NSEC); ok && now.Before(e.expires) {
			out = append(out, n)
		}
	}
	return out
}

// records3 returns the unexpired validated NSEC3 records of zone.
func (s *nsecStore) records3(zone string, now time.Time) []*dns.NSEC3 {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[dns.CanonicalName(zone)]
	if z == nil {
		return nil
	}
	var out []*dns.NSEC3
	for _, e := range z.nsecs {
		if n, ok := e.rr.(*dns.NSEC3); ok && now.Before(e.expires) {
			out = append(out, n)
		}
	}
	return out
}
