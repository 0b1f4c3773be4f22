package resolver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// This file owns the zone cut and the choice of server (as Knot
// Resolver's zonecut.c and selection.c): where a walk starts (startCut,
// cachedCut, zoneOf), the cut a referral leads to (learnDelegation), which
// NS addresses may be used (usable), which to try next (nextCandidate,
// selectServer over the infrastructure cache's RTT estimates in
// cache/infra.go) and the glueless NS-name lookups (resolveNS).

// nsEntry is one NS name of a zone cut and what is known of its addresses.
type nsEntry struct {
	name     string
	port     uint16 // 0: the resolver's upstream port
	addrs    []netip.Addr
	resolved bool  // addresses are known (glue, hints or a finished lookup)
	failed   error // why its address lookup failed, if it did
}

// zoneServers is a zone cut: the zone and its name servers.
type zoneServers struct {
	zone    string
	ns      []*nsEntry
	trusted bool // configured (hints, stub, forward): loopback addresses allowed
	cached  bool // taken from the cache, not learned in this request
	forward bool // servers are recursive forwarders: RD=1, no referrals
}

// clone returns a copy of zs that shares nothing with it (another
// request's goroutine may change its entries).
func (zs *zoneServers) clone() *zoneServers {
	c := *zs
	c.ns = make([]*nsEntry, len(zs.ns))
	for i, e := range zs.ns {
		ce := *e
		ce.addrs = slices.Clone(e.addrs)
		c.ns[i] = &ce
	}
	return &c
}

// delegs holds the zone cuts learned during one request, in the order
// learned: a slice searched from the start, not a map, which was two
// allocations and some 250 bytes per cache miss (#11). A request learns a
// cut per referral it follows (at most MaxReferralDepth for a name, a few
// in practice), so the search is short. A zone appears at most once.
type delegs []delegation

// delegation is one zone cut of delegs.
type delegation struct {
	zone string
	zs   *zoneServers
}

// delegsFirstCap is the room delegs makes on first use: one allocation
// holds the cuts of a walk from the root to a zone three levels down (a
// cache miss under a cached cut uses one).
const delegsFirstCap = 4

// get returns the cut for zone, or nil.
func (d delegs) get(zone string) *zoneServers {
	for _, e := range d {
		if e.zone == zone {
			return e.zs
		}
	}
	return nil
}

// set makes zs the cut for zone.
func (d *delegs) set(zone string, zs *zoneServers) {
	for i := range *d {
		if (*d)[i].zone == zone {
			(*d)[i].zs = zs
			return
		}
	}
	if *d == nil {
		*d = make(delegs, 0, delegsFirstCap)
	}
	*d = append(*d, delegation{zone: zone, zs: zs})
}

// remove forgets the cut for zone.
func (d *delegs) remove(zone string) {
	*d = slices.DeleteFunc(*d, func(e delegation) bool { return e.zone == zone })
}

// startCut returns the deepest zone cut learned in this request that
// encloses qname, or the hints. A DS record lives on the parent side of a
// cut, so for DS the cut at qname itself is skipped.
func (rq *request) startCut(qname string, qtype uint16) *zoneServers {
	name := dns.CanonicalName(qname)
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		z := name[off:]
		if qtype == dns.TypeDS && off == 0 && z != "." {
			continue
		}
		if zs := rq.deleg.get(z); zs != nil {
			return zs
		}
		if zc, ok := rq.r.zones[z]; ok {
			zs := zc.servers()
			rq.setDeleg(z, zs)
			return zs
		}
		if z == "." {
			break // the root's servers come from the hints: no priming
		}
		if rq.skipped[z] {
			continue
		}
		if zs := rq.cachedCut(z); zs != nil {
			rq.setDeleg(z, zs)
			return zs
		}
	}
	if zs := rq.deleg.get("."); zs != nil {
		return zs
	}
	if zc, ok := rq.r.zones["."]; ok {
		// A forward or stub zone for the root: everything goes there.
		zs := zc.servers()
		rq.setDeleg(".", zs)
		return zs
	}
	h := rq.r.cfg.Hints
	zs := &zoneServers{zone: dns.CanonicalName(h.Zone), trusted: true}
	for _, s := range h.Servers {
		zs.ns = append(zs.ns, &nsEntry{name: s.Name, addrs: s.Addrs, resolved: true})
	}
	rq.setDeleg(zs.zone, zs)
	return zs
}

// learnDelegation turns a referral into the next zone cut, keeping glue
// for the NS names it covers.
func (rq *request) learnDelegation(ref response) *zoneServers {
	zs := &zoneServers{zone: ref.zone}
	byName := map[string]*nsEntry{}
	for _, n := range ref.ns {
		name := dns.CanonicalName(n.Ns)
		if byName[name] != nil {
			continue
		}
		e := &nsEntry{name: name}
		// An NS name learned in an earlier cut of this request (a sibling
		// zone served by the same hosts) keeps its addresses.
		for _, d := range rq.deleg {
			other := d.zs
			for _, o := range other.ns {
				if o.name == name && o.resolved && len(o.addrs) > 0 && !other.trusted {
					e.addrs, e.resolved = o.addrs, true
				}
			}
		}
		byName[name] = e
		zs.ns = append(zs.ns, e)
	}
	for _, rr := range ref.glue {
		e := byName[dns.CanonicalName(rr.Header().Name)]
		if e == nil || len(e.addrs) >= MaxAddrsPerNS {
			continue
		}
		if a, ok := rrAddr(rr); ok {
			e.addrs = append(e.addrs, a)
			e.resolved = true
		}
	}
	rq.setDeleg(zs.zone, zs)
	return zs
}

func rrAddr(rr dns.RR) (netip.Addr, bool) {
	switch v := rr.(type) {
	case *dns.A:
		a, ok := netip.AddrFromSlice(v.A.To4())
		return a, ok
	case *dns.AAAA:
		a, ok := netip.AddrFromSlice(v.AAAA.To16())
		return a, ok
	}
	return netip.Addr{}, false
}

// usable filters an NS entry's addresses by family, scope and loopback
// policy, and says why the others were dropped.
func (rq *request) usable(zs *zoneServers, e *nsEntry) (ok []netip.Addr, dropped []string) {
	cfg := &rq.r.cfg
	for _, a := range e.addrs {
		a = a.Unmap()
		switch {
		case a.Is4() && cfg.DisableIPv4, a.Is6() && cfg.DisableIPv6:
			dropped = append(dropped, a.String()+" (address family disabled)")
		case a.IsUnspecified(), a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
			dropped = append(dropped, a.String()+" (not a unicast address)")
		case a.IsLoopback() && !cfg.AllowLoopback && !zs.trusted:
			dropped = append(dropped, a.String()+" (loopback upstreams not allowed)")
		default:
			ok = append(ok, a)
		}
	}
	return ok, dropped
}

// candidate is one address to try for a zone.
type candidate struct {
	ns   *nsEntry
	addr netip.Addr
	rto  time.Duration // the timeout the infrastructure cache suggests
	// probeDone, when set, is told the outcome of a probe of a zone
	// whose servers are held down (upstream.go).
	probeDone func(answered bool)
	// joined is set by exchange when the reply (or timeout) was another
	// request's query to the same zone, which may have gone to another
	// server (exchange then sets ns and addr to that server's): that
	// request keeps the infrastructure cache's books on it.
	joined bool
	// asked holds the addresses askZone already had a reply or a
	// failure from in this round: a query in flight to one of them is
	// not joined (its outcome is known), the candidate is asked itself.
	asked addrSet
	// settle, set by exchange, ends the visibility of the NS question
	// this request sent (asked.settle); askZone calls it (settleFlight)
	// once the reply is stored or given up on.
	settle func()
}

// settleFlight calls and clears c.settle, if set.
func (c *candidate) settleFlight() {
	if c != nil && c.settle != nil {
		c.settle()
		c.settle = nil
	}
}

// askZone sends the question to the zone's servers until one gives a
// usable response: an answer, a negative answer, a CNAME or a referral.
// Lame, failing and silent servers are skipped; NS names without glue are
// resolved when the servers with addresses are used up.
func (rq *request) askZone(ctx context.Context, zs *zoneServers, qname string, qtype uint16, minimised bool) (response, error) {
	cl := classifier{zone: zs.zone, qname: qname, qtype: qtype, qclass: rq.class, permissive: rq.r.cfg.PermissiveGlue,
		minimised: minimised}
	var failures []string // what each server asked said
	lame := 0
	busy := 0 // servers not asked: at their outstanding cap
	timedOut := map[netip.Addr]bool{}
	prev := ""
	// last is the candidate asked last: its NS question stays joinable
	// by other requests until what it taught is stored (store, below) or
	// the next candidate is tried.
	var last *candidate
	defer func() { last.settleFlight() }()
	for round := 0; round < MaxServerRounds; round++ {
		var tried addrSet
		for {
			last.settleFlight()
			c, why, err := rq.nextCandidate(ctx, zs, tried, round, timedOut)
			if err != nil {
				return response{}, err
			}
			if c == nil {
				break
			}
			tried.add(c.addr)
			why.fallback = prev
			picked := c.addr
			c.asked = tried
			last = c
			resp, outcome, err := rq.exchange(ctx, zs, c, why, qname, qtype, &cl)
			if c.addr != picked {
				// exchange joined another request's query of the same
				// question to another server (c.addr now): what follows
				// is that server's outcome, and the picked one was not
				// asked, so it stays a candidate. The joined server is
				// new to tried (ask joins no server in it), so every
				// pass still adds one address: the loop ends.
				tried.remove(picked)
				tried.add(c.addr)
			}
			if c.probeDone != nil {
				c.probeDone(err == nil)
			}
			if err != nil {
				if errIsFatal(err) {
					return response{}, err
				}
				if errors.Is(err, ErrRateLimited) {
					// The zone's budget is spent: no other server of it
					// may be asked either (Unbound's ratelimit).
					return response{}, &Error{Name: qname, Type: qtype, Server: rq.lastServer(), Err: err, EDE: edeOther,
						Detail: "upstream queries to " + zs.zone + " are limited"}
				}
				if errors.Is(err, errServerBusy) {
					busy++
				}
				if errors.Is(err, ErrTimeout) {
					timedOut[c.addr] = true
					if !c.joined {
						rq.r.infra.RecordTimeout(c.addr, zs.zone)
					}
				} else {
					rq.setBad(badKey(zs.zone, c.addr), err.Error())
				}
				prev = fmt.Sprintf("%s from %s (%s)", outcome, c.ns.name, c.addr)
				failures = append(failures, fmt.Sprintf("%s (%s) %s", c.ns.name, c.addr, failureWords(err, 0)))
				continue
			}
			if zs.forward && resp.kind == kindReferral {
				resp.kind, resp.reason = kindLame, "a forwarder sent a referral"
			}
			if minimised && resp.kind == kindServFail {
				// Some servers fail the shortened NS question and answer
				// the real one: the caller asks again with the full name,
				// this server included (relaxed minimisation, as Knot
				// Resolver and Unbound).
				return resp, nil
			}
			switch resp.kind {
			case kindLame, kindServFail, kindMalformed:
				if resp.kind == kindLame {
					lame++
					if !c.joined {
						rq.r.infra.MarkLame(c.addr, zs.zone)
					}
				}
				rq.setBad(badKey(zs.zone, c.addr), resp.reason)
				prev = fmt.Sprintf("%s from %s (%s)", resp.kind, c.ns.name, c.addr)
				failures = append(failures, fmt.Sprintf("%s (%s) gave a %s reply (%s)", c.ns.name, c.addr, resp.kind, resp.reason))
				continue
			}
			rq.store(zs, resp, qname, qtype)
			return resp, nil
		}
		if len(timedOut) == 0 {
			break // nothing worth a second round
		}
	}
	return response{}, rq.zoneFailure(zs, qname, qtype, failures, lame, busy)
}

// zoneFailure explains why no server of zs gave a usable reply. asked
// lists what each server that was asked said; lame counts the lame ones,
// busy those not asked because they were at their outstanding cap.
func (rq *request) zoneFailure(zs *zoneServers, qname string, qtype uint16, asked []string, lame, busy int) error {
	var err error = ErrNoServers
	why := asked
	switch {
	case len(asked) > 0:
		if lame == len(asked) {
			err = ErrLame
		}
		if busy == len(asked) {
			// Nothing was sent: a state of the servers, not of the
			// question (zoneWide).
			err = fmt.Errorf("%w: %w", ErrNoServers, errServerBusy)
		}
	default:
		// No server could even be asked: an NS lookup failed (a
		// dependency cycle, a tripped limit), or every address was
		// filtered out.
		for _, e := range zs.ns {
			if e.failed != nil {
				if len(why) == 0 {
					err = e.failed
				}
				why = append(why, fmt.Sprintf("%s: %v", e.name, e.failed))
			}
		}
		if len(why) > 0 {
			break
		}
		loopback := true
		for _, e := range zs.ns {
			_, dropped := rq.usable(zs, e)
			for _, d := range dropped {
				why = append(why, e.name+" "+d)
				loopback = loopback && strings.Contains(d, "loopback")
			}
		}
		if len(why) > 0 && loopback {
			err = ErrLoopbackUpstream
		}
	}
	detail := fmt.Sprintf("no server for %s answered usefully", zs.zone)
	if len(why) > 0 {
		detail += ": " + strings.Join(capList(why, 6), "; ")
	}
	return &Error{Name: qname, Type: qtype, Server: rq.lastServer(), Err: err, Detail: detail, EDE: edeFor(err)}
}

func capList(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}

// addrSet is a small set of server addresses: those a round of askZone
// tried. A slice, not a map: it holds a zone's few addresses (at most
// MaxNSPerZone × MaxAddrsPerNS), and a map per round was one more
// allocation, of a few hundred bytes, per cache miss (#11).
type addrSet []netip.Addr

func (s addrSet) has(a netip.Addr) bool { return slices.Contains(s, a) }

func (s *addrSet) add(a netip.Addr) {
	if !s.has(a) {
		*s = append(*s, a)
	}
}

func (s *addrSet) remove(a netip.Addr) {
	if i := slices.Index(*s, a); i >= 0 {
		*s = slices.Delete(*s, i, i+1)
	}
}

// badServer keys request.bad: a server address for a zone. A struct, not
// a string made of both: it is looked up for every candidate of every
// query, and the string was made each time (#11).
type badServer struct {
	zone string
	addr netip.Addr
}

func badKey(zone string, a netip.Addr) badServer { return badServer{zone: zone, addr: a} }

// candidatesOnStack is how many candidate addresses nextCandidate and
// selectServer hold on the stack, not the heap: two allocations per
// upstream query (#11). Most zones have two to four servers with an
// address each that is usable; more (a TLD's six NS with IPv4 and IPv6)
// spill to the heap, as before. Not more: a candidate is some 90 bytes,
// and a worker's stack grows to hold them (cache/select.go).
const candidatesOnStack = 4

// nextCandidate picks the next address to try. In the first round every
// usable address is tried once, in random order (with no RTT knowledge,
// a random choice spreads load as the hints intend); in later rounds only
// addresses that timed out are retried. When no address is left, an NS
// name without glue is resolved.
func (rq *request) nextCandidate(ctx context.Context, zs *zoneServers, tried addrSet, round int, timedOut map[netip.Addr]bool) (*candidate, pickWhy, error) {
	for {
		var poolBuf [candidatesOnStack]candidate
		pool := poolBuf[:0]
		for _, e := range zs.ns {
			addrs, _ := rq.usable(zs, e)
			for _, a := range addrs {
				if tried.has(a) || rq.bad[badKey(zs.zone, a)] != "" {
					continue
				}
				if round > 0 && !timedOut[a] {
					continue
				}
				pool = append(pool, candidate{ns: e, addr: a})
			}
		}
		if len(pool) > 0 {
			c, sel, ok := rq.selectServer(zs.zone, pool)
			why := pickWhy{sel: sel, round: round}
			if !ok {
				// Every candidate is remembered as lame: try one anyway
				// rather than fail without asking.
				c = pool[rand.IntN(len(pool))]
				why.allLame = true
			}
			if c.rto >= cache.MaxRTO {
				// Every server left is held down after timeouts: one
				// probe at a time, spaced out; other questions fail at
				// once instead of waiting on a dead zone.
				done, wait, ok := rq.r.up.probe(zs.zone)
				if !ok {
					return nil, pickWhy{}, &Error{Err: ErrHeldDown, EDE: edeNoReachable, Server: rq.lastServer(),
						Detail: fmt.Sprintf("every server of %s timed out repeatedly; next probe in %v", zs.zone, wait.Round(time.Millisecond))}
				}
				c.probeDone = done
				why.probing = true
			}
			return &c, why, nil
		}
		if round > 0 {
			return nil, pickWhy{}, nil
		}
		// Resolve one NS name that has no address yet.
		var next *nsEntry
		for _, e := range zs.ns {
			if !e.resolved && e.failed == nil {
				next = e
				break
			}
		}
		if next == nil {
			return nil, pickWhy{}, nil
		}
		if err := rq.resolveNS(ctx, zs, next); err != nil && errIsFatal(err) {
			return nil, pickWhy{}, err
		}
	}
}

// resolveNS looks up the addresses of an NS name that came without glue,
// as a nested resolution. Failures mark only that NS name, unless a limit
// of the whole request tripped.
func (rq *request) resolveNS(ctx context.Context, zs *zoneServers, e *nsEntry) (err error) {
	fail := func(err error) error {
		e.failed = err
		return err
	}
	for _, n := range rq.nsStack {
		if n == e.name {
			return fail(&Error{Name: e.name, Type: dns.TypeA, Err: ErrDependencyCycle,
				Detail: "resolving " + e.name + " needs " + e.name + " itself", EDE: edeOther})
		}
	}
	if len(rq.nsStack) >= rq.r.cfg.Limits.SubDepth {
		return fail(&Error{Name: e.name, Type: dns.TypeA, Err: ErrSubDepth, EDE: edeOther,
			Detail: fmt.Sprintf("more than %d nested NS lookups", rq.r.cfg.Limits.SubDepth)})
	}
	if rq.glueless >= rq.r.cfg.Limits.Glueless {
		return fail(&Error{Name: e.name, Type: dns.TypeA, Err: ErrGluelessLimit, EDE: edeOther,
			Detail: fmt.Sprintf("more than %d NS names without glue", rq.r.cfg.Limits.Glueless)})
	}
	rq.glueless++
	if rq.obs != nil {
		rq.emit(Event{Kind: EventSubBegin, Name: e.name, Zone: zs.zone,
			Detail: fmt.Sprintf("%s is a name server for %s but came without usable glue: resolve its address", e.name, zs.zone)})
	}
	rq.nsStack = append(rq.nsStack, e.name)
	rq.depth++
	defer func() {
		rq.depth--
		rq.nsStack = rq.nsStack[:len(rq.nsStack)-1]
		if rq.obs != nil {
			ev := Event{Kind: EventSubEnd, Name: e.name}
			if err != nil {
				ev.Outcome, ev.Err = "failed", stepErr(err)
			} else {
				ev.Outcome = "resolved"
				ev.Detail = fmt.Sprintf("%s has %s", e.name, addrList(e.addrs))
			}
			rq.emit(ev)
		}
	}()
	// A first, AAAA only if A gave nothing usable: half the queries for
	// the common case, and either family still works.
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	if rq.r.cfg.DisableIPv4 {
		types = types[1:]
	} else if rq.r.cfg.DisableIPv6 {
		types = types[:1]
	}
	var lastErr error
	for _, t := range types {
		ans, _, rcode, err := rq.resolve(ctx, e.name, t)
		if err != nil {
			if errIsFatal(err) {
				return fail(err)
			}
			lastErr = err
			continue
		}
		if rcode != dns.RcodeSuccess {
			lastErr = fmt.Errorf("%w: %s %s", ErrNoServers, e.name, dns.RcodeToString[rcode])
			continue
		}
		for _, rr := range ans {
			if a, ok := rrAddr(rr); ok && len(e.addrs) < MaxAddrsPerNS {
				e.addrs = append(e.addrs, a)
			}
		}
		if ok, _ := rq.usable(zs, e); len(ok) > 0 {
			e.resolved = true
			return nil
		}
	}
	e.resolved = true
	if lastErr == nil {
		lastErr = fmt.Errorf("%w: %s has no usable address", ErrNoServers, e.name)
	}
	return fail(lastErr)
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "no address"
	}
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// ZoneConfig names servers for a zone: a stub zone (iterate from these
// authoritative servers) or a forward zone (send the whole question with
// RD=1 to these recursive servers).
type ZoneConfig struct {
	Zone    string
	Servers []netip.AddrPort
	forward bool
}

// servers returns a fresh zone cut for the configured zone.
func (zc *ZoneConfig) servers() *zoneServers {
	zs := &zoneServers{zone: dns.CanonicalName(zc.Zone), trusted: true, forward: zc.forward}
	for _, ap := range zc.Servers {
		zs.ns = append(zs.ns, &nsEntry{name: ap.String(), port: ap.Port(), addrs: []netip.Addr{ap.Addr()}, resolved: true})
	}
	return zs
}

// cachedCut returns the zone cut for zone from a cached NS RRset, with the
// cached addresses of its NS names, or nil.
func (rq *request) cachedCut(zone string) *zoneServers {
	h, ok := rq.r.cache.Lookup(zone, dns.TypeNS, rq.class, cache.LookupOpts{AllowStale: rq.allowStale})
	if !ok || len(h.RRs) == 0 {
		return nil
	}
	// The cut's entries in one allocation and its list in another, not
	// an allocation per NS name and the list's growth: this runs for
	// every cache miss under a cached cut (#11).
	n := min(len(h.RRs), MaxNSPerZone)
	zs := &zoneServers{zone: zone, cached: true, ns: make([]*nsEntry, 0, n)}
	entries := make([]nsEntry, n)
	for i, rr := range h.RRs[:n] {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		e := &entries[i]
		e.name = dns.CanonicalName(ns.Ns)
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

// selectServer picks among candidate addresses with the infrastructure
// cache (Infra.Select): servers not asked yet first, then the fastest,
// exploring another one pick in 20.
func (rq *request) selectServer(zone string, pool []candidate) (candidate, cache.Selection, bool) {
	var buf [candidatesOnStack]netip.Addr
	addrs := buf[:0]
	for _, c := range pool {
		addrs = append(addrs, c.addr)
	}
	sel, err := rq.r.infra.Select(zone, addrs)
	if err != nil {
		return candidate{}, cache.Selection{}, false
	}
	for _, c := range pool {
		if c.addr == sel.Addr {
			c.rto = sel.RTO
			return c, sel, true
		}
	}
	return candidate{}, cache.Selection{}, false
}

// pickWhy is why a server was picked, put in words (String) only for a
// trace: the words were several allocations per upstream query, and most
// queries are traced by nobody (#11).
type pickWhy struct {
	sel     cache.Selection // Infra.Select's pick
	allLame bool            // every candidate is remembered lame: one is tried anyway
	probing bool            // the zone is held down after timeouts: this is its probe
	round   int             // past 0: a round of retries after timeouts
	// fallback is what the server asked before said, when it failed.
	fallback string
}

// String says why, as a trace's Event.Why.
func (w pickWhy) String() string {
	why := w.sel.Reason()
	if w.allLame {
		why = "every server is remembered as lame; trying one anyway"
	}
	if w.probing {
		why = "zone held down after timeouts, probing; " + why
	}
	if w.round > 0 {
		why = fmt.Sprintf("retry %d after timeout; %s", w.round, why)
	}
	if w.fallback != "" {
		why = "fallback after " + w.fallback + "; " + why
	}
	return why
}

// zoneOf guesses the zone that holds name from the deepest zone cut
// known for it (this request's delegations, then the cache).
func (rq *request) zoneOf(name string) string {
	name = dns.CanonicalName(name)
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		z := name[off:]
		if rq.deleg.get(z) != nil {
			return z
		}
		if _, ok := rq.r.cache.Lookup(z, dns.TypeNS, rq.class, cache.LookupOpts{}); ok {
			return z
		}
	}
	return "."
}
