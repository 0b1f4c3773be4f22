package server

import (
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// answer is a reply built once from a resolution and shared by every
// client that asked the same question at the same time.
type answer struct {
	e      *pentry // the reply without OPT; TTL offsets recorded
	rcode  int
	ede    *edeInfo
	reason string  // why it is a SERVFAIL: resolver.Error.Reason or the server's own
	traced *traced // for the TraceSink, when one is set
}

// The Extended DNS Error of a SERVFAIL sent because every resolution slot
// is taken. RFC 8914 has no code for overload; Other with a text says it.
const (
	overloadCode = dns.ExtendedErrorCodeOther
	overloadText = "server overloaded: too many resolutions in flight"
	jostledText  = "server overloaded: resolution given up for newer queries (jostled)"
)

// resolveRaw finishes a query that the fast path handed to the resolver;
// req is a copy the caller no longer uses, which c.q is parsed from again
// (the fast path parsed the listener's buffer, which it reuses). A late
// query (it waited too long to start: misspool.go) is shed instead.
func (h *Handler) resolveRaw(ctx context.Context, out, req []byte, c call, late bool) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("server: panic while answering; query dropped", "panic", p, "client", c.client, "stack", string(debug.Stack()))
			resp = nil
		}
	}()
	c.q = query{}
	parseHeader(req, &c.q)
	_ = parseQuery(req, &c.q) // the fast path parsed it without error
	if late {
		return h.shed(out, &c, reasonBacklog)
	}
	return h.slow(ctx, out, &c)
}

// slow resolves c's question and appends the reply.
func (h *Handler) slow(ctx context.Context, out []byte, c *call) []byte {
	q := &c.q
	var kb [maxNameLen + 5]byte
	key := string(appendPKey(kb[:0], q))
	name, _, err := dns.UnpackDomainName(q.qname, 0)
	if err != nil {
		return h.short(out, c, rcodeFormErr, nil, sourceServer, reasonMalformed)
	}
	cacheOnly := !q.rd()
	watched := h.watch.wants(name, h)
	req := resolver.Request{Name: name, Type: q.qtype, Class: q.qclass, DO: q.do, CD: q.cd(), CacheOnly: cacheOnly,
		Trace: watched || h.traces != nil && h.sampled.take(h.now())}
	flight := key
	if cacheOnly {
		flight += "\x00norec" // a cache-only miss must not answer recursive askers
	}
	if watched {
		flight += "\x00trace" // an untraced resolution in flight would record nothing
	}
	mode := modeNormal
	if cacheOnly {
		mode = modeCacheOnly
	}
	// The flight's function takes copies of what it needs of c, not c:
	// captured, c would move to the heap, a call's worth of bytes per
	// miss (#11).
	st, client, transport := c.st, c.client, c.transport
	fn := func() (any, error) {
		a := h.resolve(st, req, key, mode)
		h.recordTrace(req, client, transport.String(), a)
		return a, nil
	}
	var a *answer
	if ctx.Done() == nil {
		// Nothing cancels the wait (the listeners' misses, on a worker
		// of misspool.go): the flight runs on this goroutine, with no
		// goroutine of its own to schedule.
		v, _, _ := h.flights.Do(flight, fn)
		a = v.(*answer)
	} else {
		select {
		case r := <-h.flights.DoChan(flight, fn):
			a = r.Val.(*answer)
		case <-ctx.Done():
			a = &answer{rcode: rcodeServFail, ede: &edeInfo{code: dns.ExtendedErrorCodeOther, text: "request cancelled"}, reason: "cancelled"}
		}
	}
	if a.e == nil {
		return h.short(out, c, a.rcode, a.ede, sourceResolver, a.reason)
	}
	n := len(out)
	out = a.e.appendReply(out, q, h.now().UnixNano())
	out = h.finish(out, n, c, a.rcode, a.ede)
	h.m.query(q.qtype, a.rcode, c.transport, false)
	h.logQuery(c, a.rcode, sourceResolver, a.reason)
	return out
}

// Refresher is implemented by resolvers that can resolve a question anew,
// bypassing their own cache, as a prefetch needs. Without it a prefetch
// asks Query, which may answer from a cache entry about to expire.
type Refresher interface {
	Refresh(ctx context.Context, req resolver.Request) (*resolver.Result, error)
}

// resolveMode says how a resolution may use the resolver's cache.
type resolveMode int

const (
	modeNormal    resolveMode = iota
	modeCacheOnly             // RD=0: cached data only; never kept in the packet cache
	modeRefresh               // a prefetch: bypass the resolver's cache if it can
)

// resolve runs one resolution in a slot, builds the reply and keeps it in
// the packet cache when it may be kept.
func (h *Handler) resolve(st *state, req resolver.Request, key string, mode resolveMode) (a *answer) {
	// This runs on its own goroutine (singleflight): a panic here would
	// end the process, so it becomes a SERVFAIL for the waiters.
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("server: panic while resolving", "panic", p, "name", req.Name, "stack", string(debug.Stack()))
			h.m.servfail("panic")
			a = &answer{rcode: rcodeServFail, ede: &edeInfo{code: dns.ExtendedErrorCodeOther, text: "internal error"}, reason: "panic"}
		}
	}()
	ctx, cancel := context.WithCancelCause(h.bg)
	defer cancel(nil)
	sl := h.slots.acquire(cancel)
	if sl == nil {
		// Every slot is taken by work not yet past its jostle timeout:
		// shed only what the caches cannot answer.
		if mode != modeRefresh {
			if a := h.cacheAnswer(st, req); a != nil {
				h.m.shedFromCache()
				return a
			}
		}
		h.m.servfail(reasonOverload)
		return &answer{rcode: rcodeServFail, ede: &edeInfo{code: overloadCode, text: overloadText}, reason: reasonOverload}
	}
	h.busy.add()
	defer func() {
		h.slots.release(sl)
		h.busy.done()
	}()
	h.m.inflight(1)
	defer h.m.inflight(-1)
	// The resolution's time bound cancels ctx itself: a
	// context.WithTimeout below it was a second context per miss, with
	// ctx's table of children to hold it (#11).
	bound := time.AfterFunc(h.rto, func() { cancel(context.DeadlineExceeded) })
	defer bound.Stop()
	res, err := h.ask(ctx, st, req, mode)
	if errors.Is(context.Cause(ctx), errJostled) {
		// A newer query took the slot: SERVFAIL now, as overload, and
		// nothing kept (the next asker gets a fresh try).
		h.m.servfail(reasonJostled)
		return &answer{rcode: rcodeServFail, ede: &edeInfo{code: overloadCode, text: jostledText}, reason: reasonJostled}
	}
	a = h.buildAnswer(res, err, req)
	if req.Trace {
		a.traced = &traced{res: res, err: err}
	}
	if a.rcode == rcodeServFail && a.e == nil && h.pc != nil && mode != modeCacheOnly {
		h.keepFailure(a, err, req, key)
	}
	if a.e != nil && a.rcode != rcodeServFail && a.ede == nil && h.pc != nil && mode != modeCacheOnly && (res == nil || !res.FreshOnly) {
		// Stale answers are not kept: the next question should try the
		// servers again (nor are Insecure ones with an EDE, whose
		// reason a cache hit would not repeat). Nor are
		// replies the resolver's own cache would answer differently.
		if ce := newPEntry(a.e.reply(), 0, a.rcode, a.e.secure, h.now(), st.clamps); ce != nil {
			h.pc.put([]byte(key), ce)
		}
	}
	return a
}

// keepFailure puts a's SERVFAIL in the packet cache when the resolver
// keeps the failure (RFC 9520): until it retries, repeats get the same
// SERVFAIL from the packet cache. A function of its own so that only a
// failure pays for the error errors.As fills (on the heap: 1 allocation
// per cache miss when it was resolve's, #11).
func (h *Handler) keepFailure(a *answer, err error, req resolver.Request, key string) {
	var re *resolver.Error
	if !errors.As(err, &re) || re.RetryAfter <= 0 {
		return
	}
	reason := a.ede
	if reason != nil && reason.next != nil {
		reason = &edeInfo{code: reason.code, text: reason.text} // "Cached Error" is added again
	}
	if ce := newFailEntry(req.Name, req.Type, req.Class, reason, a.reason, re.RetryAfter, h.now()); ce != nil {
		h.pc.put([]byte(key), ce)
	}
}

// buildAnswer packs the result (without OPT) for the question of req.
func (h *Handler) buildAnswer(res *resolver.Result, err error, req resolver.Request) *answer {
	if err != nil || res == nil {
		ede := &edeInfo{code: dns.ExtendedErrorCodeOther, text: "resolution failed"}
		reason := "other"
		var re *resolver.Error
		switch {
		case errors.As(err, &re):
			ede = &edeInfo{code: re.EDE, text: edeText(re)}
			if errors.Is(err, resolver.ErrCachedFailure) && re.EDE != dns.ExtendedErrorCodeCachedError {
				// The original reason first, then "Cached Error".
				ede.next = &edeInfo{code: dns.ExtendedErrorCodeCachedError, text: "failed recently; not retried yet (RFC 9520)"}
			}
			reason = re.Reason()
		case err != nil:
			ede.text = strings.TrimPrefix(err.Error(), "resolver: ")
		}
		h.m.servfail(reason)
		if errors.Is(err, resolver.ErrCacheMiss) {
			ede.text = "not in cache (RD=0 asks for cached data only)"
		}
		if res == nil || len(res.Answer) == 0 || !errors.Is(err, resolver.ErrCNAMELoop) {
			return &answer{rcode: rcodeServFail, ede: ede, reason: reason}
		}
		// A CNAME/DNAME loop: SERVFAIL with the chain up to the loop, so
		// the client sees where it loops (as Knot Resolver answers).
		a := h.buildAnswer(res, nil, req)
		if a.e != nil {
			a.e.rcode, a.rcode, a.ede, a.e.secure, a.reason = rcodeServFail, rcodeServFail, ede, false, reason
		}
		return a
	}
	m := res.Msg()
	m.Question[0] = dns.Question{Name: dns.CanonicalName(req.Name), Qtype: req.Type, Qclass: req.Class}
	if !req.DO {
		m.Answer = stripDNSSEC(m.Answer, req.Type)
		m.Ns = stripDNSSEC(m.Ns, req.Type)
	}
	m.Compress = true
	wire, perr := m.Pack()
	if perr != nil {
		h.m.servfail("pack")
		return &answer{rcode: rcodeServFail, ede: &edeInfo{code: dns.ExtendedErrorCodeOther, text: "cannot pack the answer"}, reason: "pack"}
	}
	e := &pentry{rcode: uint8(res.Rcode & rcodeMask), qend: headerLen, secure: res.Security == dnssec.Secure}
	if off, err := skipName(wire, headerLen); err == nil && off+4 <= len(wire) {
		e.qend = uint16(off + 4)
	}
	var n int
	e.wire, n, _ = appendTTLOffsets(wire) // a reply that does not parse keeps the offsets of what did
	e.n = uint32(n)
	e.inserted = h.now().UnixNano()
	a := &answer{e: e, rcode: int(e.rcode)}
	if res.Stale {
		// RFC 8767 §6 / RFC 8914 §4.4: say the data is stale.
		a.ede = &edeInfo{code: dns.ExtendedErrorCodeStaleAnswer, text: "serving stale data: every authoritative server failed"}
	} else if res.EDE != 0 {
		// An answer Insecure for a reason with its own code (RFC 9276
		// §3.2: EDE 27 for NSEC3 iterations above the limit).
		text := strings.TrimPrefix(res.EDEText, "dnssec: ")
		if len(text) > edeMaxText {
			text = text[:edeMaxText]
		}
		a.ede = &edeInfo{code: res.EDE, text: text}
	}
	return a
}

// edeText is the short reason a SERVFAIL carries.
func edeText(e *resolver.Error) string {
	s := "resolution failed"
	if e.Err != nil {
		s = e.Why()
	}
	if len(s) > edeMaxText {
		s = s[:edeMaxText]
	}
	return s
}

// stripDNSSEC drops RRSIG, NSEC and NSEC3 records unless the question asked
// for that type (RFC 4035 §3.2.1, RFC 3225 §3).
// rrs is returned itself, not copied, when it has none to drop (most
// answers: two allocations a miss, #11); it is never changed.
func stripDNSSEC(rrs []dns.RR, qtype uint16) []dns.RR {
	drop := func(rr dns.RR) bool {
		switch t := rr.Header().Rrtype; t {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			return t != qtype
		}
		return false
	}
	if !slices.ContainsFunc(rrs, drop) {
		return rrs
	}
	keep := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		if !drop(rr) {
			keep = append(keep, rr)
		}
	}
	return keep
}

// local appends the reply from local data: AA set, the records, or NODATA.
func (h *Handler) local(out []byte, c *call, set *localSet) []byte {
	q := &c.q
	n := len(out)
	var an uint16
	if set != nil {
		an = uint16(set.n)
	}
	out = appendHeader(out, q, flagAA, rcodeNoError, 1, an, 0, 0)
	out = append(out, q.question...)
	if set != nil {
		out = append(out, set.wire...)
	}
	out = h.finish(out, n, c, rcodeNoError, nil)
	h.m.query(q.qtype, rcodeNoError, c.transport, false)
	return out
}

// prefetch refreshes the packet-cache entry of q in the background when a
// resolution slot is free; busy servers let the entry expire instead.
func (h *Handler) prefetch(q *query, st *state, key string) {
	name, _, err := dns.UnpackDomainName(q.qname, 0)
	if err != nil {
		return
	}
	req := resolver.Request{Name: name, Type: q.qtype, Class: q.qclass, DO: q.do, CD: q.cd()}
	h.busy.add()
	go func() {
		defer h.busy.done()
		h.flights.Do(key, func() (any, error) { return h.resolve(st, req, key, modeRefresh), nil })
	}()
}

// maxClosedRetries bounds how often one resolution follows a reload to the
// next resolver: each retry needs a reload to have swapped in a newer one
// in the meantime, so more than two in one resolution means reloads come
// faster than resolutions finish, and the query gets its SERVFAIL.
const maxClosedRetries = 2

// ask puts req to the resolver of st. A reload swaps the resolver and
// closes the old one once its requests drain; a question that picked the
// old settings just before the swap finds it closed (resolver.ErrClosed)
// and is put to the resolver now in force instead, so no query is lost
// to a reload.
func (h *Handler) ask(ctx context.Context, st *state, req resolver.Request, mode resolveMode) (*resolver.Result, error) {
	for try := 0; ; try++ {
		var res *resolver.Result
		var err error
		if rf, ok := st.s.Resolver.(Refresher); ok && mode == modeRefresh {
			res, err = rf.Refresh(ctx, req)
		} else {
			res, err = st.s.Resolver.Query(ctx, req)
		}
		next := h.st.Load()
		if !errors.Is(err, resolver.ErrClosed) || next == st || try == maxClosedRetries {
			return res, err
		}
		st = next
	}
}
