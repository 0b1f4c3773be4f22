package resolver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// Resolver is an iterative resolver. It is safe for concurrent use.
type Resolver struct {
	// cfg is the Config given to New with its defaults applied
	// (Config.withDefaults): the one copy of every setting, read as
	// r.cfg.Port, r.cfg.Now and so on.
	cfg Config
	// zones are the stub and forward zones by canonical name.
	zones map[string]*ZoneConfig

	anchors  *dnssec.Anchors
	ntas     *dnssec.NegativeAnchors
	cache    *cache.Cache
	infra    *cache.Infra
	ownCache bool // made by New: Close closes it
	ownInfra bool
	staleOK  bool // serve-stale is on
	// flights shares one resolution among identical concurrent
	// requests of library callers (the CLI, examples, the server's
	// prefetch); flights.go. The server has its own group
	// (server.Handler.flights) keyed by its packet-cache key, because it
	// shares the packed reply, not the Result, and must not share RD=0
	// with RD=1 askers.
	flights   flights
	keyFlight singleflight.Group // zone-key builds shared by concurrent requests
	// upFlights sends identical questions in flight to one zone once
	// (inflight.go); it sits below both groups above, at the wire.
	upFlights inflight
	// The three groups hold an entry per question in flight only, so
	// they are bounded by the work in flight, not by input: the server's
	// max-inflight resolutions and maxPrefetchInFlight prefetches, each
	// with one question on the wire at a time (a library caller bounds
	// its own concurrency). They are outside [cache] size; serve's memory
	// limit counts them per slot (internal/cli/memlimit.go).
	life lifecycle  // drain then close (lifecycle.go)
	unw  unwanted   // replies with the wrong ID or question (unwanted.go)
	up   *upstreams // per-server and per-zone state (upstream.go)
}

// New returns a Resolver for cfg.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{cfg: cfg.withDefaults()}
	cfg = r.cfg
	r.zones = map[string]*ZoneConfig{}
	for i, list := range [][]ZoneConfig{cfg.Stub, cfg.Forward} {
		for _, zc := range list {
			zc.forward = i == 1
			z := dns.CanonicalName(dns.Fqdn(zc.Zone))
			if _, ok := dns.IsDomainName(z); !ok {
				return nil, fmt.Errorf("resolver: zone %q is not a domain name", zc.Zone)
			}
			if len(zc.Servers) == 0 {
				return nil, fmt.Errorf("resolver: zone %s has no servers", z)
			}
			if _, dup := r.zones[z]; dup {
				return nil, fmt.Errorf("resolver: zone %s configured twice", z)
			}
			zc.Zone = z
			r.zones[z] = &zc
		}
	}
	if len(cfg.Hints.Servers) == 0 {
		return nil, fmt.Errorf("resolver: hints have no servers")
	}
	if r.cfg.Exchanger == nil {
		ports, err := NewSourcePorts(cfg.ExcludeSourcePorts)
		if err != nil {
			return nil, err
		}
		r.cfg.Exchanger = &NetExchanger{Timeout: cfg.QueryTimeout, Ports: ports, TLS: cfg.UpstreamTLS, OnUnwanted: r.unwantedReply}
	}
	up, err := newUpstreams(cfg.Hardening, cfg.Now)
	if err != nil {
		return nil, err
	}
	r.up = up
	if cfg.DisableIPv4 && cfg.DisableIPv6 {
		return nil, ErrNoAddressFamily
	}
	r.anchors, r.ntas = cfg.TrustAnchors, cfg.NegativeAnchors
	if cfg.AutoTrust != nil {
		if cfg.TrustAnchors != nil {
			return nil, errors.New("resolver: TrustAnchors and AutoTrust are exclusive: give the anchors to the trust points")
		}
		r.anchors = cfg.AutoTrust.Anchors()
	}
	r.cache, r.infra = cfg.Cache, cfg.Infra
	if r.cache == nil {
		cc := cfg.CacheConfig
		c, err := cache.New(&cc)
		if err != nil {
			return nil, fmt.Errorf("resolver: %w", err)
		}
		r.cache, r.ownCache = c, true
	}
	if r.infra == nil {
		ic := cfg.InfraConfig
		in, err := cache.NewInfra(&ic)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("resolver: %w", err)
		}
		r.infra, r.ownInfra = in, true
	}
	r.staleOK = r.cache.Settings().StaleMax > 0
	r.life.init()
	return r, nil
}

// CacheStats returns the cache's counters; its Parts include the
// infrastructure cache's (cache.PartInfra).
func (r *Resolver) CacheStats() cache.Stats {
	st := r.cache.Stats()
	st.Parts = append(st.Parts, r.infra.Part())
	return st
}

// InfraSnapshot returns the server-selection table: RTT, RTO, timeouts and
// lameness per server and zone.
func (r *Resolver) InfraSnapshot() []cache.InfraEntry { return r.infra.Snapshot() }

// Request is one question and how to report on it.
type Request struct {
	Name  string
	Type  uint16
	Class uint16 // 0 means IN
	// DO asks for DNSSEC records (RFC 3225): RRSIGs and NSEC/NSEC3
	// proofs are kept in the result. CD asks for data without validation
	// (RFC 4035 §3.2.2): a bogus answer is returned instead of failing,
	// and cached bogus failures are ignored.
	DO, CD bool
	// CacheOnly answers from the cache without sending any query, as a
	// server does for RD=0 questions. A miss is an *Error with ErrCacheMiss.
	CacheOnly bool
	// refresh marks a prefetch: the cached entry for the question is
	// skipped so it is fetched anew.
	refresh string
	// Observer, if set, receives every trace event as it happens.
	Observer Observer
	// Trace asks for the recorded trace tree in Result.Trace.
	Trace bool
}

// Result is the outcome of a resolution.
type Result struct {
	Name  string
	Type  uint16
	Class uint16
	// Rcode is NOERROR (answer or NODATA), NXDOMAIN, or SERVFAIL when the
	// resolution failed (then the error returned with it says why).
	Rcode int
	// Answer is the whole chain from the question name: CNAMEs, DNAMEs
	// with their synthesised CNAMEs, and the final RRset.
	Answer []dns.RR
	// Authority holds the SOA of a negative answer (RFC 2308).
	Authority []dns.RR
	// Security is the DNSSEC status of the whole answer: Secure only when
	// every piece of the chain validated (then a server sets AD for
	// clients that asked with DO or AD). Indeterminate without validation.
	Security dnssec.Status
	// Stale is set when the answer is expired data served because every
	// authoritative server failed (RFC 8767); its TTLs are 30 s.
	Stale bool
	// Shared is set when the answer came from a resolution another
	// identical concurrent question started.
	Shared bool
	// FreshOnly is set when Authority holds records only a fresh
	// resolution gives (the zone's signed NS set that came with a
	// wildcard proof): a cache hit answers without them, so a packet
	// cache should not replay this reply.
	FreshOnly bool
	// EDE, when not zero, is an Extended DNS Error (RFC 8914) for an
	// answer that succeeded: 27 (Unsupported NSEC3 Iterations Value) when
	// it is Insecure because of RFC 9276's limit. EDEText says more.
	EDE     uint16
	EDEText string
	// Upstream counts the queries sent to authoritative servers.
	Upstream int
	// Duration is the wall time the resolution took.
	Duration time.Duration
	// Trace is set when Request.Trace was.
	Trace *Trace
}

// Msg builds a response to a query for the result's question: minimal
// (answer chain, and the SOA only in negative answers), RA set, AA clear.
func (res *Result) Msg() *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	m.RecursionAvailable = true
	m.Rcode = res.Rcode
	m.Question = []dns.Question{{Name: res.Name, Qtype: res.Type, Qclass: res.Class}}
	m.Answer = res.Answer
	// Authority is set only where it belongs: the SOA of a negative
	// answer, and the NSEC proof of a wildcard answer for DO clients.
	m.Ns = res.Authority
	return m
}

// Resolve resolves name and type in class IN.
func (r *Resolver) Resolve(ctx context.Context, name string, qtype uint16) (*Result, error) {
	return r.Query(ctx, Request{Name: name, Type: qtype})
}

// Query resolves req. On failure it returns a Result with Rcode SERVFAIL
// (and the trace, if asked for) together with an *Error.
//
// Identical concurrent questions without a trace share one resolution
// (the slices of their Results are then shared: copy before changing).
func (r *Resolver) Query(ctx context.Context, req Request) (*Result, error) {
	if err := CheckRequest(&req); err != nil {
		return nil, err
	}
	if !r.life.enter() {
		return nil, asError(ErrClosed, req.Name, req.Type, "")
	}
	defer r.life.leave()
	if req.Trace || req.Observer != nil || req.CacheOnly {
		return r.query(ctx, req)
	}
	// Fast path: an answer wholly in the cache needs no coalescing,
	// deadline or bookkeeping.
	rq := request{r: r, class: req.Class, cacheOnly: true, localOnly: true, probe: true, do: req.DO, cd: req.CD}
	if ans, auth, rcode, err := rq.resolve(ctx, req.Name, req.Type); err == nil {
		if m := r.cfg.Metrics; m != nil {
			for _, res := range rq.probed {
				m.CacheLookup(res)
			}
		}
		return &Result{Name: req.Name, Type: req.Type, Class: req.Class, Rcode: rcode, Answer: ans, Authority: auth,
			Security: rq.status()}, nil
	}
	key := flightsKey(req)
	res, err, shared := r.flights.do(ctx, key, func() (*Result, error) { return r.query(ctx, req) })
	if res == nil {
		if isCtxErr(err) {
			// A joiner that gave up waiting.
			return &Result{Name: req.Name, Type: req.Type, Class: req.Class, Rcode: dns.RcodeServerFailure},
				asError(ctxEnded(ctx), req.Name, req.Type, "")
		}
		return nil, err
	}
	if !shared {
		return res, err
	}
	cp := *res
	cp.Name = req.Name // keep the caller's letter case
	cp.Shared = true
	return &cp, err
}

// flightsKey names req in Resolver.flights: its cacheKey, then DO and CD
// ("name|1|1|true|false"). Built on the stack, so the string is its one
// allocation (the concatenations were two per cache miss, #11).
func flightsKey(req Request) string {
	var buf [keyRoom]byte
	b := appendCacheKey(buf[:0], req.Name, req.Type, req.Class)
	b = strconv.AppendBool(append(b, '|'), req.DO)
	b = strconv.AppendBool(append(b, '|'), req.CD)
	return string(b)
}

// Refresh resolves req anew, skipping the cached answer for the question
// itself (delegations and other cached data are still used), and stores
// the fresh answer: what a prefetch needs.
func (r *Resolver) Refresh(ctx context.Context, req Request) (*Result, error) {
	if err := CheckRequest(&req); err != nil {
		return nil, err
	}
	if !r.life.enter() {
		return nil, asError(ErrClosed, req.Name, req.Type, "")
	}
	defer r.life.leave()
	req.refresh = cacheKey(req.Name, req.Type, req.Class)
	req.CacheOnly = false
	return r.query(ctx, req)
}

// query runs one resolution.
func (r *Resolver) query(ctx context.Context, req Request) (*Result, error) {
	name := req.Name
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	rq := &request{
		r:         r,
		start:     r.cfg.Now(),
		class:     req.Class,
		cacheOnly: req.CacheOnly,
		refresh:   req.refresh,
		do:        req.DO,
		cd:        req.CD,
	}
	var rec *Recorder
	switch {
	case req.Trace && req.Observer != nil:
		rec = &Recorder{}
		rq.obs = multiObserver{rec, req.Observer}
	case req.Trace:
		rec = &Recorder{}
		rq.obs = rec
	default:
		rq.obs = req.Observer
	}
	if rec != nil {
		rec.trace.Name, rec.trace.Type = name, dns.TypeToString[req.Type]
	}
	var ans, auth []dns.RR
	var rcode int
	var err error
	if f, failed := r.cache.Failed(name, req.Type, req.Class); failed && !req.CacheOnly && req.refresh == "" &&
		!(req.CD && errors.Is(f.Err, ErrBogus)) {
		// RFC 9520: a question that just failed is not resolved again
		// for a short while; the authoritative servers get a rest. (A
		// validation failure does not count for a CD client, which
		// asked for the data unchecked.) The original reason stays in
		// the chain (errors.Is finds ErrBogus or a dnssec sentinel) and
		// its EDE code is kept: a client is told "DNSSEC Bogus" again,
		// not only "cached".
		ede := uint16(edeCachedErrorMarker)
		if oe := (*Error)(nil); errors.As(f.Err, &oe) && oe.EDE != 0 {
			ede = oe.EDE
		}
		when := fmt.Sprintf("failed %s ago; retried in %s", (f.TTL - f.Remaining).Round(time.Millisecond), f.Remaining.Round(time.Millisecond))
		err = &Error{Name: name, Type: req.Type, Err: &cachedFailure{orig: f.Err}, EDE: ede, RetryAfter: f.Remaining, Detail: when}
		if rq.obs != nil {
			rq.emit(Event{Kind: EventCache, Outcome: "failure", Detail: "recent failure cached (RFC 9520): " + stepErr(f.Err) + "; " + when})
		}
	} else {
		ans, auth, rcode, err = rq.resolve(ctx, name, req.Type)
		if err != nil && !req.CacheOnly && !errors.Is(err, ErrCacheMiss) && !zoneWide(err) && caller.Err() == nil {
			// A failure of the whole zone (zoneWide) is not kept per
			// name: the zone's record already fails every name under
			// it at once; nor a question the caller gave up (it did
			// not fail, it was abandoned, e.g. jostled out of a
			// server's slot). Set before the error is published in the
			// failure cache, where other requests read it.
			// Bogus data is remembered for BogusTTL (val-bogus-ttl),
			// other failures for FailureTTL.
			mark, ttl := r.cache.MarkFailed, r.cache.Settings().FailureTTL
			if errors.Is(err, ErrBogus) {
				mark, ttl = r.cache.MarkBogus, r.cache.Settings().BogusTTL
			}
			e := (*Error)(nil)
			if errors.As(err, &e) {
				e.RetryAfter = ttl
			}
			if mark(name, req.Type, req.Class, err) != nil && e != nil {
				e.RetryAfter = 0
			}
		}
	}
	if err == nil && r.anchors != nil && !req.CD && (req.Type == dns.TypeA || req.Type == dns.TypeAAAA) &&
		rq.status() == dnssec.Secure && dnssec.SentinelServfail(name, r.anchors) {
		// RFC 8509 §3: a validated A/AAAA answer for a key-sentinel name
		// fails when the named root key is (not-ta) or is not (is-ta) one
		// of ours, so a client can tell which root keys its resolver
		// trusts. CD turns the logic off.
		err = &Error{Name: name, Type: req.Type, Err: ErrSentinel, EDE: edeOther,
			Detail: "RFC 8509 key sentinel: the named root key is not in the expected trust-anchor state"}
	}
	stale := false
	if err != nil && !req.CacheOnly && r.staleOK && !errors.Is(err, ErrCachedFailure) || err != nil && errors.Is(err, ErrCachedFailure) && r.staleOK {
		// RFC 8767: the authorities failed; answer from expired data.
		rq.cacheOnly, rq.allowStale = true, true
		if sa, sauth, srcode, serr := rq.resolve(ctx, name, req.Type); serr == nil {
			ans, auth, rcode, err, stale = sa, sauth, srcode, nil, true
		}
	}
	res := &Result{
		Name: name, Type: req.Type, Class: req.Class,
		Rcode: rcode, Answer: ans, Authority: auth, Stale: stale, Security: rq.status(), FreshOnly: rq.freshOnly,
		Upstream: rq.upstream, Duration: r.cfg.Now().Sub(rq.start),
	}
	if res.Security == dnssec.Insecure && rq.insecureEDE != 0 {
		res.EDE, res.EDEText = rq.insecureEDE, rq.insecureWhy
	}
	if err != nil {
		res.Rcode = dns.RcodeServerFailure
		res.Authority = nil
		if errors.Is(err, ErrBogus) {
			res.Security = dnssec.Bogus
		}
		if !errors.Is(err, ErrCNAMELoop) {
			// A loop's chain shows the client where it loops, as Knot
			// Resolver does; any other failure has no partial answer.
			res.Answer = nil
		}
		e := asError(err, name, req.Type, rq.lastServer())
		if rq.obs != nil {
			rq.emit(Event{Kind: EventFail, Name: name, Type: dns.TypeToString[req.Type], Err: e.Why()})
		}
		err = e
	} else if rq.obs != nil && rq.upstream > 0 {
		rq.emit(Event{Kind: EventDone, Name: name, Type: dns.TypeToString[req.Type],
			Rcode: dns.RcodeToString[rcode], Answer: rrStrings(ans), Negative: rrStrings(auth),
			Detail: fmt.Sprintf("%d upstream queries, %d cache hits", rq.upstream, rq.fromCache)})
	}
	if rec != nil {
		res.Trace = rec.Trace()
	}
	return res, err
}

// asError wraps err into an *Error unless it is one already.
func asError(err error, name string, qtype uint16, server string) *Error {
	var e *Error
	if errors.As(err, &e) {
		out := *e
		if out.Name != "" && (out.Name != name || out.Type != qtype) {
			// The failure happened on a sub-question (a minimised name,
			// an NS lookup): keep it in the detail, report the client's.
			d := "while asking " + out.Name + " " + dns.TypeToString[out.Type]
			if out.Detail != "" {
				d += ", " + out.Detail
			}
			out.Detail = d
		}
		out.Name, out.Type = name, qtype
		if out.Server == "" {
			out.Server = server
		}
		if out.EDE == 0 {
			out.EDE = edeFor(out.Err)
		}
		return &out
	}
	if isCtxErr(err) {
		err = ctxErrWords(err)
	}
	return &Error{Name: name, Type: qtype, Server: server, Err: err, EDE: edeFor(err)}
}

// ctxEnded is why ctx ended, in words: the request's deadline passed,
// or it was cancelled. Either is ErrDeadline, which ends the request;
// the context's error is not wrapped (isCtxErr would take a per-query
// timeout for the request's end).
func ctxEnded(ctx context.Context) error { return ctxErrWords(ctx.Err()) }

// ctxErrWords rewords a context error without Go's "context deadline
// exceeded" after "request deadline exceeded".
func ctxErrWords(err error) error {
	if errors.Is(err, context.Canceled) {
		return &quietError{msg: "resolver: request cancelled", err: ErrDeadline}
	}
	return ErrDeadline
}

// quietError is an error whose message is msg alone, and that still
// matches what it wraps with errors.Is.
type quietError struct {
	msg string
	err error
}

func (e *quietError) Error() string { return e.msg }
func (e *quietError) Unwrap() error { return e.err }

func isCtxErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// Metrics receives the resolver's counters. Implementations must be safe
// for concurrent use and fast: they are called on the query path.
type Metrics interface {
	// UpstreamQuery is called after every upstream query with its
	// transport, round-trip time and outcome (a reply kind name, "timeout",
	// "error", "malformed", "truncated", "case_mismatch" (0x20 not
	// echoed over UDP), "rejected" (a flood of replies failing the
	// checks, or any such reply from a server known to send cookies: the
	// question goes over TCP) or "badcookie").
	UpstreamQuery(transport string, rtt time.Duration, outcome string)
	// CacheLookup is called once for every question the resolver asks
	// its cache (the client's, and each CNAME target, NS address, DS or
	// DNSKEY a resolution needs), with its result: "hit" (a fresh answer,
	// positive or negative, or one synthesised from validated NSEC
	// records), "stale" (RFC 8767 stale data) or "miss" (the question
	// goes upstream). The cache's own per-RRset counters (cache.Stats)
	// count more: every internal lookup, zone-cut probes included.
	CacheLookup(result string)
}
