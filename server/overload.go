package server

import (
	"net/netip"
	"sync"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// Overload shedding applies to cache misses only. When every resolution
// slot (or a client's share of them) is taken, a query is still answered
// from the resolver's cache when the data is there: a flood of misses
// (random subdomains, a dead zone) must never turn names the resolver
// holds into SERVFAIL "overload" (Unbound answers from its cache whatever
// its request list holds).

// cacheProber is implemented by *resolver.Resolver: a cache-only
// question's plain miss found without allocating.
type cacheProber interface {
	MayAnswerFromCache(req resolver.Request) bool
}

var _ cacheProber = (*resolver.Resolver)(nil)

// cacheAnswer answers req from the resolver's cache alone, or returns nil
// when the resolver holds nothing for it (a miss, or only a failure). A
// cache-only query sends nothing and the resolver bounds every query by
// its request timeout, so no deadline of the server's is set here (its
// context and timer were 4 of a shed miss's allocations). A plain miss
// is found by the resolver's probe first (cacheProber), without
// allocating: nearly every miss a flood sheds is one.
func (h *Handler) cacheAnswer(st *state, req resolver.Request) *answer {
	req.CacheOnly = true
	if p, ok := st.s.Resolver.(cacheProber); ok && !p.MayAnswerFromCache(req) {
		return nil
	}
	res, err := st.s.Resolver.Query(h.bg, req)
	if err != nil || res == nil {
		return nil
	}
	if a := h.buildAnswer(res, nil, req); a.e != nil {
		return a
	}
	return nil
}

// fromCache appends the reply to c's question from the resolver's cache
// alone, and reports false when the resolver holds nothing for it.
func (h *Handler) fromCache(out []byte, c *call) ([]byte, bool) {
	q := &c.q
	name, _, err := dns.UnpackDomainName(q.qname, 0)
	if err != nil {
		return out, false
	}
	a := h.cacheAnswer(c.st, resolver.Request{Name: name, Type: q.qtype, Class: q.qclass, DO: q.do, CD: q.cd()})
	if a == nil {
		return out, false
	}
	n := len(out)
	out = a.e.appendReply(out, q, h.now().UnixNano())
	out = h.finish(out, n, c, a.rcode, a.ede)
	h.m.query(q.qtype, a.rcode, c.transport, false)
	h.m.shedFromCache()
	h.logQuery(c, a.rcode, sourceCacheOverload, "")
	return out, true
}

// shed answers a query that may not start a resolution (reason: no slot
// free, reasonOverload, or it waited too long in the listener's queue,
// reasonBacklog): from the resolver's cache when it can, else SERVFAIL
// with the overload EDE.
func (h *Handler) shed(out []byte, c *call, reason string) []byte {
	h.m.missShed(reason)
	n := len(out)
	if r, ok := h.fromCache(out, c); ok {
		return r
	}
	h.m.servfail(reason)
	return h.short(out[:n], c, rcodeServFail, &edeInfo{code: overloadCode, text: overloadText}, sourceServer, reason)
}

// clientSlots bounds the queries one client address has waiting on
// resolutions, so one client flooding misses cannot take every slot from
// the others. A mutex-guarded map is enough: it is touched once per cache
// miss, never on the hit path. An address has an entry only while it
// holds a pending slot, so the map never has more entries than the
// Server's pending slots (max-inflight x pendingPerSlot).
type clientSlots struct {
	max int

	mu sync.Mutex // guards n
	n  map[netip.Addr]int
}

func newClientSlots(max int) *clientSlots {
	return &clientSlots{max: max, n: map[netip.Addr]int{}}
}

// enter takes a slot for a; false when a has max already.
func (c *clientSlots) enter(a netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[a] >= c.max {
		return false
	}
	c.n[a]++
	return true
}

func (c *clientSlots) leave(a netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[a] <= 1 {
		delete(c.n, a)
	} else {
		c.n[a]--
	}
}
