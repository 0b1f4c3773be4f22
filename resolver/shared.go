package resolver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// The shared second-level cache (Config.Shared, Unbound's cachedb): after a
// miss in the local cache the resolver asks it for the piece of answer one
// zone gave for the question, before resolving; every piece it resolves,
// validates (unless validation is off) and finds not bogus it offers back.
// A shared hit fills the local cache, so the next question is local.

// sharedAnswer looks name/qtype up in the shared cache. ok is false on a
// miss, an entry unfit to answer, or when this lookup must stay local.
func (rq *request) sharedAnswer(ctx context.Context, name string, qtype uint16) (response, bool) {
	sh := rq.r.cfg.Shared
	if sh == nil || rq.localOnly || rq.allowStale || rq.refresh != "" && rq.refresh == cacheKey(name, qtype, rq.class) {
		// The fast path asks again with the full resolution; serve-stale
		// runs after a resolution that already asked; a prefetch wants
		// fresh data.
		return response{}, false
	}
	k := cache.SharedKey{Name: dns.CanonicalName(name), Type: qtype, Class: rq.class}
	e, ok := sh.Get(ctx, k)
	if !ok {
		return response{}, false
	}
	left := e.Expires.Sub(rq.r.cfg.Now())
	if left < time.Second || !sharedUsable(k, e) {
		return response{}, false
	}
	ttl := uint32(left / time.Second)
	for _, rrs := range [][]dns.RR{e.Answer, e.Sigs, e.Authority, e.Proof} {
		for _, rr := range rrs {
			rr.Header().Ttl = ttl // the records are ours: Get decoded them
		}
	}
	rq.fillLocal(k, e)
	var r response
	var shown []dns.RR
	switch e.Kind {
	case cache.SharedAnswer:
		r, shown = response{kind: kindAnswer, answer: e.Answer, sigs: e.Sigs, proof: e.Proof, wildcard: e.Wildcard}, e.Answer
	case cache.SharedCNAME:
		r, shown = response{kind: kindCNAME, answer: e.Answer, sigs: e.Sigs, target: e.Target}, e.Answer
	case cache.SharedNXDomain, cache.SharedNoData:
		kind := kindNoData
		if e.Kind == cache.SharedNXDomain {
			kind = kindNXDomain
		}
		r, shown = response{kind: kind, answer: e.Answer, sigs: e.Sigs, soa: e.Authority, proof: e.Proof, target: e.Target}, append(e.Answer[:len(e.Answer):len(e.Answer)], e.Authority[0])
	}
	rq.fromCache++
	if rq.obs != nil {
		rq.emit(Event{Kind: EventCache, Outcome: "shared-hit", Name: name, Type: dns.TypeToString[qtype], Answer: rrStrings(shown),
			Detail: fmt.Sprintf("shared hit: %s %s is %s, TTL %d s left, %s", name, dns.TypeToString[qtype], e.Kind, ttl, e.Security)})
	}
	return rq.fromHit(r, name, e.Rank, e.Security), true
}

// sharedUsable checks an entry read from the shared cache beyond what its
// decoder checks: it must answer the key's question. Whoever can write to
// the shared cache can still plant data; this only keeps nonsense (or an
// entry stored under the wrong key) from being served.
func sharedUsable(k cache.SharedKey, e cache.SharedEntry) bool {
	if !e.Kind.Valid() || e.Security == cache.SecurityBogus {
		return false
	}
	for _, rrs := range [][]dns.RR{e.Answer, e.Sigs, e.Authority, e.Proof} {
		for _, rr := range rrs {
			if rr == nil || rr.Header().Class != k.Class {
				return false
			}
		}
	}
	if len(e.Answer) > 0 && e.Answer[0].Header().Rrtype != dns.TypeDNAME && !strings.EqualFold(e.Answer[0].Header().Name, k.Name) {
		return false
	}
	switch e.Kind {
	case cache.SharedAnswer:
		last := e.Answer
		return len(last) > 0 && e.Rank >= cache.RankAnswerNonAuth &&
			(last[len(last)-1].Header().Rrtype == k.Type || k.Type == dns.TypeANY)
	case cache.SharedCNAME:
		_, ok := dns.IsDomainName(e.Target)
		return len(e.Answer) > 0 && e.Target != "" && ok && e.Rank >= cache.RankAnswerNonAuth
	default:
		_, ok := dns.IsDomainName(e.Target)
		if len(e.Authority) == 0 || !ok || e.Target == "" || e.Rank < cache.RankAuthorityNonAuth {
			return false
		}
		_, isSOA := e.Authority[0].(*dns.SOA)
		return isSOA
	}
}

// fillLocal puts a shared hit into the local cache, as store and the
// validator would have, so the next lookup needs no round trip.
func (rq *request) fillLocal(k cache.SharedKey, e cache.SharedEntry) {
	c := rq.r.cache
	sets := groupRRsets(e.Answer)
	expanded := make([]bool, len(sets))
	if e.Wildcard {
		// RFC 4035 §3.1.3.3, §5.3.4: an RRset expanded from a wildcard is
		// only good with the proof that the name itself does not exist.
		// The local cache keeps that proof with the RRset that needs it
		// (as the validator does), so a later local hit gives a DO client
		// the same sections; the RRset's RRSIG tells which one that is
		// (its labels field is shorter than the owner). Without one such
		// set the entry is not copied: asking the shared cache again is
		// cheaper than a local copy that would answer without its proof.
		found := false
		for i, set := range sets {
			h := set[0].Header()
			for _, rr := range coveringSigsRR(e.Sigs, h.Name, h.Rrtype) {
				if _, ok := dnssec.WildcardExpansion(rr.(*dns.RRSIG), h.Name); ok {
					expanded[i], found = true, true
				}
			}
		}
		if !found {
			return
		}
	}
	for i, set := range sets {
		if synthesised(e.Answer, set[0]) {
			continue
		}
		h := set[0].Header()
		var proof []dns.RR
		if expanded[i] {
			proof = e.Proof
		}
		rank := e.Rank
		if e.Kind == cache.SharedNXDomain || e.Kind == cache.SharedNoData {
			// The rank of a negative entry is its authority section's;
			// the CNAMEs before it were in the answer section.
			rank = cache.RankAnswerNonAuth
			if e.Rank >= cache.RankAuthorityAuth {
				rank = cache.RankAnswerAuth
			}
		}
		c.Insert(cache.RRset{RRs: set, Sigs: coveringSigsRR(e.Sigs, h.Name, h.Rrtype), Proof: proof, Rank: rank, Security: e.Security})
	}
	if e.Kind != cache.SharedNXDomain && e.Kind != cache.SharedNoData {
		return
	}
	kind := cache.NoData
	if e.Kind == cache.SharedNXDomain {
		kind = cache.NXDomain
	}
	proof := append(append([]dns.RR{}, e.Authority[1:]...), e.Proof...)
	c.InsertNegative(e.Target, k.Type, k.Class, cache.Negative{Kind: kind, SOA: e.Authority[0].(*dns.SOA), Proof: proof, Rank: e.Rank, Security: e.Security})
}

// publish offers a piece of the client's answer that this request fetched
// from the network to the shared cache. Only what the local cache would
// keep goes there: never bogus data, never data a CD client got unchecked,
// never name servers' addresses looked up on the way (glue may answer
// those), TTLs clamped as the local cache clamps them.
func (rq *request) publish(name string, qtype uint16, out response) {
	sh := rq.r.cfg.Shared
	if sh == nil || rq.cd || rq.depth != 0 || len(rq.nsStack) > 0 || !out.from.IsValid() ||
		out.dnameMismatch != "" || qtype == dns.TypeANY || qtype == dns.TypeRRSIG {
		return
	}
	e := cache.SharedEntry{Answer: out.answer, Sigs: out.sigs, Proof: out.proof, Wildcard: out.wildcard}
	if out.target != "" {
		e.Target = dns.CanonicalName(out.target)
	}
	negative := false
	switch out.kind {
	case kindAnswer:
		e.Kind, e.Target = cache.SharedAnswer, ""
	case kindCNAME:
		e.Kind = cache.SharedCNAME
	case kindNXDomain, kindNoData:
		e.Kind, negative = cache.SharedNoData, true
		if out.kind == kindNXDomain {
			e.Kind = cache.SharedNXDomain
		}
		if e.Target == "" {
			e.Target = dns.CanonicalName(name)
		}
		if len(out.soa) == 0 {
			return
		}
		if _, ok := out.soa[0].(*dns.SOA); !ok {
			return
		}
		e.Authority = out.soa
	default:
		return
	}
	if !negative && len(out.answer) == 0 {
		return
	}
	e.Security = cache.SecurityUnchecked
	if rq.r.anchors != nil {
		switch out.security {
		case dnssec.Secure:
			e.Security = cache.SecuritySecure
		case dnssec.Insecure:
			e.Security = cache.SecurityInsecure
		case dnssec.Indeterminate:
			e.Security = cache.SecurityIndeterminate
		default:
			return // bogus: never shared
		}
	}
	switch {
	case negative && out.authAnswer:
		e.Rank = cache.RankAuthorityAuth
	case negative:
		e.Rank = cache.RankAuthorityNonAuth
	case e.Security == cache.SecuritySecure:
		e.Rank = cache.RankSecure
	case out.authAnswer:
		e.Rank = cache.RankAnswerAuth
	default:
		e.Rank = cache.RankAnswerNonAuth
	}
	ttl, ok := rq.r.cache.ClampTTL(pieceTTL(e), negative)
	if !ok {
		return
	}
	e.Expires = rq.r.cfg.Now().Add(ttl)
	sh.Put(cache.SharedKey{Name: dns.CanonicalName(name), Type: qtype, Class: rq.class}, e)
}

// pieceTTL is the smallest TTL of an entry's records; a negative answer's
// SOA counts with min(TTL, MINIMUM) (RFC 2308 §5).
func pieceTTL(e cache.SharedEntry) uint32 {
	ttl := uint32(maxTTLSeconds)
	for _, rrs := range [][]dns.RR{e.Answer, e.Sigs, e.Authority, e.Proof} {
		for _, rr := range rrs {
			ttl = min(ttl, rr.Header().Ttl)
			if soa, ok := rr.(*dns.SOA); ok {
				ttl = min(ttl, soa.Minttl)
			}
		}
	}
	return ttl
}

// maxTTLSeconds is the largest TTL RFC 2181 §8 allows (top bit clear).
const maxTTLSeconds = 1<<31 - 1
