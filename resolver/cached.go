package resolver

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// cacheAnswer looks for name/qtype in the cache: the RRset, a CNAME to
// follow, or a negative answer. ok is false on a miss.
func (rq *request) cacheAnswer(name string, qtype uint16) (response, bool) {
	c := rq.r.cache
	opts := cache.LookupOpts{AllowStale: rq.allowStale}
	skip := rq.refresh != "" && rq.refresh == cacheKey(name, qtype, rq.class)
	if !skip {
		if h, ok := c.Lookup(name, qtype, rq.class, opts); ok {
			rq.cacheEvent(true, fmt.Sprintf("hit: %s %s, TTL %d s left%s", name, dns.TypeToString[qtype], h.TTL, staleNote(h.Stale)), h.RRs)
			rq.notePrefetch(h.Prefetch, h.Stale, name, qtype)
			return response{kind: KindAnswer, answer: h.RRs}, true
		}
	}
	if qtype != dns.TypeCNAME {
		if h, ok := c.Lookup(name, dns.TypeCNAME, rq.class, opts); ok && len(h.RRs) > 0 {
			target := dns.Fqdn(h.RRs[0].(*dns.CNAME).Target)
			rq.cacheEvent(true, fmt.Sprintf("hit: %s CNAME %s, TTL %d s left%s", name, target, h.TTL, staleNote(h.Stale)), h.RRs)
			return response{kind: KindCNAME, answer: h.RRs[:1], target: target}, true
		}
	}
	if !skip {
		if h, ok := c.LookupNegative(name, qtype, rq.class, opts); ok {
			kind := KindNoData
			if h.Kind == cache.NXDomain {
				kind = KindNXDomain
			}
			soa := append([]dns.RR{h.SOA}, h.Proof...)
			rq.cacheEvent(true, fmt.Sprintf("hit: %s %s is %s, TTL %d s left%s", name, dns.TypeToString[qtype], kind, h.TTL, staleNote(h.Stale)), soa)
			rq.notePrefetch(h.Prefetch, h.Stale, name, qtype)
			return response{kind: kind, soa: soa, target: name}, true
		}
	}
	rq.metricCache(false)
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

func (rq *request) cacheEvent(hit bool, detail string, rrs []dns.RR) {
	rq.metricCache(hit)
	if hit {
		rq.fromCache++
	}
	if rq.obs != nil {
		outcome := "miss"
		if hit {
			outcome = "hit"
		}
		rq.emit(Event{Kind: EventCache, Outcome: outcome, Detail: detail, Answer: rrStrings(rrs)})
	}
}

func (rq *request) metricCache(hit bool) {
	if m := rq.r.cfg.Metrics; m != nil {
		m.CacheLookup(hit)
	}
}

// cachedCut returns the zone cut for zone from a cached NS RRset, with the
// cached addresses of its NS names, or nil.
func (rq *request) cachedCut(zone string) *zoneServers {
	h, ok := rq.r.cache.Lookup(zone, dns.TypeNS, rq.class, cache.LookupOpts{AllowStale: rq.allowStale})
	if !ok || len(h.RRs) == 0 {
		return nil
	}
	zs := &zoneServers{zone: zone, cached: true}
	for i, rr := range h.RRs {
		if i >= MaxNSPerZone {
			break
		}
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		e := &nsEntry{name: dns.CanonicalName(ns.Ns)}
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			if a, ok := rq.r.cache.Lookup(e.name, t, rq.class, cache.LookupOpts{}); ok {
				for _, rr := range a.RRs {
					if addr, ok := rrAddr(rr); ok && len(e.addrs) < MaxAddrsPerNS {
						e.addrs = append(e.addrs, addr)
					}
				}
			}
		}
		e.resolved = len(e.addrs) > 0
		zs.ns = append(zs.ns, e)
	}
	if rq.obs != nil {
		rq.emit(Event{Kind: EventCache, Outcome: "cut", Zone: zone,
			Detail: fmt.Sprintf("resume at zone cut %s: %d NS from cache, TTL %d s left", zone, len(zs.ns), h.TTL)})
	}
	return zs
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
	case KindReferral:
		ns := make([]dns.RR, len(r.ns))
		for i, n := range r.ns {
			ns[i] = n
		}
		c.Insert(cache.RRset{RRs: ns, Rank: cache.RankAuthorityNonAuth})
		for _, set := range groupRRsets(r.glue) {
			c.Insert(cache.RRset{RRs: set, Rank: cache.RankAdditional})
		}
		return
	case KindAnswer, KindCNAME, KindNXDomain, KindNoData:
		for _, set := range groupRRsets(r.answer) {
			c.Insert(cache.RRset{RRs: set, Rank: ansRank})
		}
	}
	if r.kind != KindNXDomain && r.kind != KindNoData || len(r.soa) == 0 {
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
	if r.kind == KindNXDomain {
		kind = cache.NXDomain
	}
	c.InsertNegative(name, qtype, rq.class, cache.Negative{Kind: kind, SOA: soa, Proof: r.soa[1:], Rank: authRank})
}

// groupRRsets splits records into RRsets by owner, type and class, in the
// order they first appear.
func groupRRsets(rrs []dns.RR) [][]dns.RR {
	var sets [][]dns.RR
	idx := map[string]int{}
	for _, rr := range rrs {
		h := rr.Header()
		k := strings.ToLower(h.Name) + "|" + dns.TypeToString[h.Rrtype] + "|" + dns.ClassToString[h.Class]
		if i, ok := idx[k]; ok {
			sets[i] = append(sets[i], rr)
			continue
		}
		idx[k] = len(sets)
		sets = append(sets, []dns.RR{rr})
	}
	return sets
}

func cacheKey(name string, qtype, class uint16) string {
	return fmt.Sprintf("%s|%d|%d", strings.ToLower(name), qtype, class)
}

// notePrefetch starts a background refresh of an entry the cache says is
// popular and about to expire (Unbound's prefetch).
func (rq *request) notePrefetch(suggested, stale bool, name string, qtype uint16) {
	if !suggested || stale || !rq.r.cfg.Prefetch || rq.refresh != "" {
		return
	}
	rq.r.prefetch(name, qtype, rq.class)
}

// selectServer picks among candidate addresses with the infrastructure
// cache: the fastest known, or at random within a band of it.
func (rq *request) selectServer(zone string, pool []candidate) (candidate, string, bool) {
	addrs := make([]netip.Addr, len(pool))
	for i, c := range pool {
		addrs[i] = c.addr
	}
	sel, err := rq.r.infra.Select(zone, addrs)
	if err != nil {
		return candidate{}, "", false
	}
	for _, c := range pool {
		if c.addr == sel.Addr {
			c.rto = sel.RTO
			return c, sel.Reason, true
		}
	}
	return candidate{}, "", false
}
