package resolver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// cacheAnswer looks for name/qtype in the cache: the RRset, a CNAME to
// follow, or a negative answer. ok is false on a miss.
func (rq *request) cacheAnswer(name string, qtype uint16) (response, bool) {
	c := rq.r.cache
	opts := cache.LookupOpts{AllowStale: rq.allowStale}
	skip := rq.refresh != "" && rq.refresh == cacheKey(name, qtype, rq.class)
	if !skip {
		// Referral NS sets and glue are never an answer (RFC 2181 §5.4.1):
		// they only steer the walk.
		if h, ok := c.Lookup(name, qtype, rq.class, opts); ok && h.Rank >= cache.RankAnswerNonAuth {
			rq.cacheHit(h.Stale, fmt.Sprintf("hit: %s %s, TTL %d s left%s", name, dns.TypeToString[qtype], h.TTL, staleNote(h.Stale)), h.RRs)
			rq.notePrefetch(h.Prefetch, h.Stale, name, qtype)
			return rq.fromHit(response{kind: kindAnswer, answer: h.RRs, sigs: h.Sigs, proof: h.Proof, wildcard: len(h.Proof) > 0}, name, h.Rank, h.Security), true
		}
	}
	if qtype != dns.TypeCNAME {
		if h, ok := c.Lookup(name, dns.TypeCNAME, rq.class, opts); ok && len(h.RRs) > 0 && h.Rank >= cache.RankAnswerNonAuth {
			target := dns.Fqdn(h.RRs[0].(*dns.CNAME).Target)
			rq.cacheHit(h.Stale, fmt.Sprintf("hit: %s CNAME %s, TTL %d s left%s", name, target, h.TTL, staleNote(h.Stale)), h.RRs)
			return rq.fromHit(response{kind: kindCNAME, answer: h.RRs[:1], sigs: h.Sigs, target: target}, name, h.Rank, h.Security), true
		}
	}
	if qtype != dns.TypeDNAME {
		if r, ok := rq.cachedDNAME(name, opts); ok {
			if qtype == dns.TypeCNAME {
				r.kind, r.target = kindAnswer, "" // the synthesised CNAME is the answer
			}
			return r, true
		}
	}
	if !skip {
		if h, ok := c.LookupNegative(name, qtype, rq.class, opts); ok {
			kind := kindNoData
			if h.Kind == cache.NXDomain {
				kind = kindNXDomain
			}
			soa, proof := []dns.RR{h.SOA}, []dns.RR(nil)
			for _, rr := range h.Proof {
				switch rr.Header().Rrtype {
				case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
					proof = append(proof, rr)
				default:
					soa = append(soa, rr)
				}
			}
			rq.cacheHit(h.Stale, fmt.Sprintf("hit: %s %s is %s, TTL %d s left%s", name, dns.TypeToString[qtype], kind, h.TTL, staleNote(h.Stale)), soa)
			rq.notePrefetch(h.Prefetch, h.Stale, name, qtype)
			return rq.fromHit(response{kind: kind, soa: soa, proof: proof, target: name}, name, h.Rank, h.Security), true
		}
	}
	if !skip {
		if r, ok := rq.aggressiveAnswer(name, qtype); ok {
			return r, true
		}
	}
	rq.metricCache("miss")
	if rq.obs != nil {
		rq.emit(Event{Kind: EventCache, Outcome: "miss", Name: name, Type: dns.TypeToString[qtype],
			Detail: fmt.Sprintf("miss: %s %s", name, dns.TypeToString[qtype])})
	}
	return response{}, false
}

func staleNote(stale bool) string {
	if stale {
		return " (stale, RFC 8767)"
	}
	return ""
}

// cacheHit counts and reports a question the cache answered.
func (rq *request) cacheHit(stale bool, detail string, rrs []dns.RR) {
	result := "hit"
	if stale {
		result = "stale"
	}
	rq.metricCache(result)
	rq.fromCache++
	if rq.obs != nil {
		rq.emit(Event{Kind: EventCache, Outcome: "hit", Detail: detail, Answer: rrStrings(rrs)})
	}
}

// metricCache counts one question asked of the cache (see
// Metrics.CacheLookup for what counts).
func (rq *request) metricCache(result string) {
	m := rq.r.cfg.Metrics
	switch {
	case m == nil:
	case rq.probe:
		rq.probed = append(rq.probed, result)
	default:
		m.CacheLookup(result)
	}
}

// store puts what a usable response taught into the cache, with its rank
// (RFC 2181 §5.4.1). Only records that survived classification, that is
// inside the bailiwick of the server that sent them, get here.
func (rq *request) store(zs *zoneServers, r response, qname string, qtype uint16) {
	c := rq.r.cache
	ansRank, authRank := cache.RankAnswerNonAuth, cache.RankAuthorityNonAuth
	if r.authAnswer {
		ansRank, authRank = cache.RankAnswerAuth, cache.RankAuthorityAuth
	}
	switch r.kind {
	case kindReferral:
		ns := make([]dns.RR, len(r.ns))
		for i, n := range r.ns {
			ns[i] = n
		}
		// An unsigned delegation's proof (NSEC with NS, no DS) rides
		// with the NS set, so a later request learns the zone is
		// insecure without asking for its DS.
		c.Insert(cache.RRset{RRs: ns, Proof: r.proof, Rank: cache.RankAuthorityNonAuth})
		for _, set := range groupRRsets(r.glue) {
			c.Insert(cache.RRset{RRs: set, Rank: cache.RankAdditional})
		}
		if ds := withoutSigs(r.ds); len(ds) > 0 {
			c.Insert(cache.RRset{RRs: ds, Sigs: coveringSigsRR(r.ds, r.zone, dns.TypeDS), Rank: cache.RankAuthorityNonAuth})
		} else if len(r.proof) > 0 {
			// An unsigned delegation's proof (NSEC with NS, no DS):
			// kept for the validator in this request.
			if rq.refProofs == nil {
				rq.refProofs = map[string]response{}
			}
			rq.refProofs[r.zone] = response{kind: kindReferral, proof: r.proof, servedBy: zs.zone}
		}
		return
	case kindAnswer, kindCNAME, kindNXDomain, kindNoData, kindYXDomain:
		if qtype == dns.TypeANY && r.kind == kindAnswer {
			// An ANY answer is whatever subset the server picked (RFC
			// 8482) and is not validated as a whole: passed on, never
			// cached, so it cannot stand in for a validated RRset.
			break
		}
		for _, set := range groupRRsets(r.answer) {
			if synthesised(r.answer, set[0]) {
				// Made from a DNAME here: it has no signature of its
				// own, so alone in the cache it could not be validated;
				// the DNAME is cached and makes it again.
				continue
			}
			h := set[0].Header()
			c.Insert(cache.RRset{RRs: set, Sigs: coveringSigsRR(r.sigs, h.Name, h.Rrtype), Rank: ansRank})
		}
	}
	if r.kind != kindNXDomain && r.kind != kindNoData || len(r.soa) == 0 {
		return
	}
	soa, ok := r.soa[0].(*dns.SOA)
	if !ok {
		return
	}
	name := qname
	if r.target != "" {
		name = r.target
	}
	kind := cache.NoData
	if r.kind == kindNXDomain {
		kind = cache.NXDomain
	}
	proof := append(append([]dns.RR{}, r.soa[1:]...), r.proof...)
	c.InsertNegative(name, qtype, rq.class, cache.Negative{Kind: kind, SOA: soa, Proof: proof, Rank: authRank})
}

func cacheKey(name string, qtype, class uint16) string {
	var buf [keyRoom]byte
	return string(appendCacheKey(buf[:0], name, qtype, class))
}

// appendCacheKey appends cacheKey's form of the question to b.
func appendCacheKey(b []byte, name string, qtype, class uint16) []byte {
	b = append(b, strings.ToLower(name)...)
	b = strconv.AppendUint(append(b, '|'), uint64(qtype), 10)
	return strconv.AppendUint(append(b, '|'), uint64(class), 10)
}

// keyRoom is the stack buffer cacheKey and flightsKey build a key in: a
// name of 255 octets in presentation form without escapes, and the
// numbers and flags. A longer key (a name full of escapes) grows on the
// heap.
const keyRoom = 255 + 32

// notePrefetch starts a background refresh of an entry the cache says is
// popular and about to expire (Unbound's prefetch).
func (rq *request) notePrefetch(suggested, stale bool, name string, qtype uint16) {
	if !suggested || stale || !rq.r.cfg.Prefetch || rq.refresh != "" {
		return
	}
	rq.r.prefetch(name, qtype, rq.class)
}

// fromHit completes a response built from a cache hit: its rank, the
// security the cache remembers, and the zone it came from when the
// validator will need it.
func (rq *request) fromHit(r response, name string, rank cache.Rank, sec cache.Security) response {
	r.rank = rank
	r.authAnswer = rank >= cache.RankAnswerAuth
	switch sec {
	case cache.SecuritySecure:
		r.security, r.validated = dnssec.Secure, true
	case cache.SecurityInsecure:
		r.security, r.validated = dnssec.Insecure, true
	case cache.SecurityIndeterminate:
		r.security, r.validated = dnssec.Indeterminate, true
	}
	if rq.r.anchors != nil && !r.validated {
		r.servedBy = rq.zoneOf(name)
	}
	return r
}

// markStatus remembers a piece's validation outcome in the cache, so a
// hit does not validate again.
func (rq *request) markStatus(r *response, status dnssec.Status) {
	sec := cache.SecurityIndeterminate
	if status == dnssec.Insecure {
		sec = cache.SecurityInsecure
	}
	rank := r.rank
	if rank == 0 {
		rank = cache.RankAnswerNonAuth
		if r.authAnswer {
			rank = cache.RankAnswerAuth
		}
	}
	var proof []dns.RR
	if r.wildcard {
		// An Insecure wildcard answer (its next closer name in an
		// opt-out span) keeps its proof like a Secure one, so a DO
		// client gets the same sections from the cache.
		proof = r.proof
	}
	for _, set := range groupRRsets(r.answer) {
		h := set[0].Header()
		rq.r.cache.Insert(cache.RRset{RRs: set, Sigs: coveringSigsRR(r.sigs, h.Name, h.Rrtype), Proof: proof, Rank: rank, Security: sec})
	}
}

// cachedDNAME looks for a cached DNAME at an ancestor of name and, if one
// is there, synthesises the CNAME for name from it (RFC 6672 §3.3), so a
// redirected subtree costs no query while the DNAME lives.
func (rq *request) cachedDNAME(name string, opts cache.LookupOpts) (response, bool) {
	lname := dns.CanonicalName(name)
	for off, end := dns.NextLabel(lname, 0); !end; off, end = dns.NextLabel(lname, off) {
		owner := lname[off:]
		h, ok := rq.r.cache.Lookup(owner, dns.TypeDNAME, rq.class, opts)
		if !ok || len(h.RRs) == 0 || h.Rank < cache.RankAnswerNonAuth {
			continue
		}
		c := classifier{zone: owner, qname: name, qclass: rq.class}
		dn, synth := c.dname(h.RRs, name)
		if dn == nil {
			return response{}, false
		}
		if synth == nil {
			// The synthesised name is too long: YXDOMAIN (RFC 6672 §2.2).
			rq.cacheHit(h.Stale, fmt.Sprintf("hit: DNAME %s -> %s, TTL %d s left: %s would be too long (YXDOMAIN)", owner, dn.Target, h.TTL, name), h.RRs)
			return rq.fromHit(response{kind: kindYXDomain, answer: []dns.RR{dn}, sigs: h.Sigs}, owner, h.Rank, h.Security), true
		}
		rq.cacheHit(h.Stale, fmt.Sprintf("hit: DNAME %s -> %s, TTL %d s left: %s becomes %s", owner, dn.Target, h.TTL, name, synth.Target), h.RRs)
		r := rq.fromHit(response{kind: kindCNAME, answer: []dns.RR{dn, synth}, sigs: h.Sigs, target: synth.Target}, owner, h.Rank, h.Security)
		return r, true
	}
	return response{}, false
}
