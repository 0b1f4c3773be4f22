package resolver

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// Aggressive use of validated NSEC records (RFC 8198): a secure negative
// answer teaches which names and types of a zone do not exist, and later
// questions in those ranges are answered from memory with no query. The
// records live in the cache (cache.Cache.LearnNSEC), under its budget.

// nsecAnswer tries to prove qname/qtype absent from the validated NSEC
// records of zone held in the cache.
func (r *Resolver) nsecAnswer(zone, qname string, qtype uint16) (response, bool) {
	v, ok := r.cache.NSECZone(zone)
	if !ok || v.SOA == nil {
		return response{}, false
	}
	var owners []dns.RR
	nx, p, ok := dnssec.AggressiveNSEC(qname, qtype, v.Zone, v.NSEC)
	for _, n := range p {
		owners = append(owners, n)
	}
	if !ok && len(v.NSEC3) > 0 {
		var p3 []*dns.NSEC3
		nx, p3, ok = dnssec.AggressiveNSEC3(qname, qtype, v.Zone, v.NSEC3)
		for _, n := range p3 {
			owners = append(owners, n)
		}
	}
	if !ok {
		return response{}, false
	}
	r2 := response{kind: kindNoData, soa: []dns.RR{v.SOA}, target: qname, validated: true, security: dnssec.Secure,
		rank: 0, authAnswer: true}
	if nx {
		r2.kind = kindNXDomain
	}
	r2.proof = append(v.SOASigs, v.Proof(owners)...)
	return r2, true
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
	if nz, ok := rq.r.cache.DeepestNSECZone(name); ok && nz != zone && dnsname.IsSubDomain(zone, nz) {
		zone = nz
	}
	r, ok := rq.r.nsecAnswer(zone, name, qtype)
	if ok {
		rq.cacheHit(false, fmt.Sprintf("hit: %s %s is %s by validated NSEC records of %s (RFC 8198)", name, dns.TypeToString[qtype], r.kind, zone), r.soa)
		return r, true
	}
	return rq.synthesiseWildcard(zone, name, qtype)
}

// synthesiseWildcard answers name from a cached, validated wildcard when
// cached NSEC records prove name itself does not exist (RFC 8198 §5.3).
func (rq *request) synthesiseWildcard(zone, name string, qtype uint16) (response, bool) {
	wc, proof, ok := rq.r.nsecWildcard(zone, name)
	if !ok {
		return response{}, false
	}
	for _, t := range []uint16{qtype, dns.TypeCNAME} {
		h, ok := rq.r.cache.Lookup(wc, t, rq.class, cache.LookupOpts{})
		if !ok || h.Security != cache.SecuritySecure || len(h.RRs) == 0 {
			continue
		}
		r := response{kind: kindAnswer, answer: renamed(h.RRs, name), sigs: renamed(h.Sigs, name), proof: proof,
			wildcard: true, validated: true, security: dnssec.Secure, rank: h.Rank, authAnswer: true}
		if t == dns.TypeCNAME && qtype != dns.TypeCNAME {
			r.kind, r.target = kindCNAME, dns.Fqdn(h.RRs[0].(*dns.CNAME).Target)
		}
		rq.cacheHit(false, fmt.Sprintf("hit: %s %s synthesised from the wildcard %s; validated NSEC records of %s prove %s does not exist (RFC 8198)",
			name, dns.TypeToString[t], wc, zone, name), r.answer)
		return r, true
	}
	return response{}, false
}

// nsecWildcard finds the proof that name does not exist but the wildcard
// that covers it does, returning the wildcard and the proof records.
func (r *Resolver) nsecWildcard(zone, name string) (string, []dns.RR, bool) {
	v, ok := r.cache.NSECZone(zone)
	if !ok {
		return "", nil, false
	}
	var owners []dns.RR
	wc, p, ok := dnssec.AggressiveWildcard(name, v.Zone, v.NSEC)
	for _, n := range p {
		owners = append(owners, n)
	}
	if !ok && len(v.NSEC3) > 0 {
		var p3 []*dns.NSEC3
		wc, p3, ok = dnssec.AggressiveWildcardNSEC3(name, v.Zone, v.NSEC3)
		for _, n := range p3 {
			owners = append(owners, n)
		}
	}
	if !ok {
		return "", nil, false
	}
	return wc, v.Proof(owners), true
}

// cachedNSEC returns the unexpired validated NSEC records of zone held in
// the cache (shared: not to be changed).
func (r *Resolver) cachedNSEC(zone string) []*dns.NSEC {
	v, _ := r.cache.NSECZone(zone)
	return v.NSEC
}
