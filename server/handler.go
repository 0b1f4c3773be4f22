package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"

	"github.com/addrwalk/addrwalk/resolver"
)

// Resolver is what the server needs of the iterative resolver;
// *resolver.Resolver satisfies it.
type Resolver interface {
	Query(ctx context.Context, req resolver.Request) (*resolver.Result, error)
}

var _ Resolver = (*resolver.Resolver)(nil)

const (
	// DefaultUDPSize is the EDNS payload size we advertise and the largest
	// UDP reply we send: 1232 octets fit the IPv6 minimum MTU without
	// fragmentation (DNS Flag Day 2020).
	DefaultUDPSize = 1232
	// DefaultMaxInflight bounds concurrent resolutions (cache misses). A
	// resolution holds a few KB and a socket at a time; 1000 is Unbound's
	// default num-queries-per-thread for one thread, and keeps memory and
	// file descriptors well inside default limits.
	DefaultMaxInflight = 1000
	// DefaultResolveTimeout bounds how long one resolution started by
	// the server holds its slot (MaxInflight), whoever waits for it. It is
	// not the resolver's deadline, and deliberately a second number: a
	// *resolver.Resolver ends each request itself after its
	// RequestTimeout (resolver.DefaultRequestTimeout, 8 s), but the
	// Handler also serves other Resolver implementations that may have
	// no deadline, and a query whose resolver a reload closed is asked
	// again of the new one (up to maxClosedRetries times) within the same
	// bound. It must outlast one whole resolver request
	// (TestResolveTimeoutOutlastsRequest); a retry after a reload gets
	// what is left of it.
	DefaultResolveTimeout = 15 * time.Second
	// maxReplyHint sizes reply buffers so most replies need no growth.
	maxReplyHint = 1500
)

// Settings are the parts of the configuration a reload may change. They
// are swapped atomically: every query sees one whole Settings.
type Settings struct {
	// Resolver answers what local data and the packet cache cannot.
	Resolver Resolver
	// ACL says who may query; the zero value allows loopback only.
	ACL ACL
	// RateLimit limits queries per client network; zero is off.
	RateLimit RateLimit
	// Local is answered before the resolver; nil means none.
	Local *Local
	// QueryLog logs every query at Info level.
	QueryLog bool
	// MinTTL, MaxTTL and MaxNegTTL bound how long replies stay in the
	// packet cache (and the TTLs it hands out), as the resolver's cache
	// bounds RRsets. Zero means no bound.
	MinTTL, MaxTTL, MaxNegTTL time.Duration
	// Prefetch refreshes a popular packet-cache entry in the background
	// during the last tenth of its lifetime.
	Prefetch bool
	// KeepAnswers keeps the packet cache across the reload that installs
	// these settings; set it when nothing that changes answers (upstream
	// zones, hints, TTL bounds) changed.
	KeepAnswers bool
}

// state is Settings compiled for the query path.
type state struct {
	s   Settings
	acl compiledACL
	rl  *rateLimiter
	// refuseRL limits the REFUSED replies to clients outside the allow
	// list, per network, so spoofed queries cannot aim them at a victim.
	refuseRL *rateLimiter
	clamps   ttlClamps
}

func compile(s Settings) (*state, error) {
	if s.Resolver == nil {
		return nil, errors.New("server: no resolver")
	}
	acl, err := compileACL(s.ACL)
	if err != nil {
		return nil, err
	}
	return &state{s: s, acl: acl, rl: newRateLimiter(s.RateLimit), refuseRL: newRateLimiter(refuseRate),
		clamps: ttlClamps{min: s.MinTTL, max: s.MaxTTL, maxNeg: s.MaxNegTTL}}, nil
}

// HandlerConfig configures a Handler.
type HandlerConfig struct {
	Settings Settings
	// UDPSize is the EDNS payload size we advertise; 0 means
	// DefaultUDPSize. Values below 512 are raised to 512.
	UDPSize uint16
	// MaxInflight bounds concurrent resolutions; 0 means
	// DefaultMaxInflight. Beyond it a new resolution takes the slot of
	// one running longer than JostleTimeout (jostle.go), or its query
	// gets SERVFAIL at once.
	MaxInflight int
	// JostleTimeout is how long a resolution runs before a newcomer may
	// take its slot when all are busy (Unbound's jostle-timeout); 0
	// means DefaultJostleTimeout, negative never.
	JostleTimeout time.Duration
	// ResolveTimeout bounds one resolution; 0 means DefaultResolveTimeout.
	ResolveTimeout time.Duration
	// PacketCacheEntries bounds the packet cache; 0 means
	// DefaultPacketCacheEntries; negative turns it off.
	PacketCacheEntries int
	// PacketCacheBytes bounds the packet cache's approximate memory; 0
	// means the Packets share of cache.SplitBudget's default budget.
	PacketCacheBytes int64
	// Metrics receives counters; nil means none.
	Metrics *Metrics
	// Logger receives the query log and errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Traces, when set, receives each resolution with its trace (the
	// debug page's recent resolutions); resolutions are then traced,
	// which costs an allocation per step.
	Traces TraceSink
}

// Handler is the query path: raw query in, raw reply out. It is safe for
// concurrent use.
type Handler struct {
	st    atomic.Pointer[state]
	pc    *packetCache // nil when off
	slots *slots       // resolution slots (jostle.go)
	// flights shares one packed reply among identical concurrent
	// queries; the resolver's own group (resolver.Resolver.flights) sits
	// below it for library callers. Both are needed: see there. An entry
	// lives while its resolution does: the group is bounded by the
	// queries waiting (the Server's pending slots, TCP's per-connection
	// bound), not by input.
	flights singleflight.Group
	udpSize uint16
	rto     time.Duration
	m       *Metrics
	log     *slog.Logger
	now     func() time.Time
	traces  TraceSink  // nil when no one looks at traces
	sampled traceGate  // which resolutions traces is given (traces.go)
	watch   traceWatch // names traced at runtime (TraceOn)

	// bg is the context of resolutions; cancelled by Close.
	bg       context.Context
	bgCancel context.CancelFunc
	busy     tracker // resolutions and prefetches in flight
}

// NewHandler returns a Handler for cfg.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	st, err := compile(cfg.Settings)
	if err != nil {
		return nil, err
	}
	h := &Handler{udpSize: cfg.UDPSize, rto: cfg.ResolveTimeout, m: cfg.Metrics, log: cfg.Logger, now: cfg.Now, traces: cfg.Traces}
	if h.udpSize == 0 {
		h.udpSize = DefaultUDPSize
	}
	h.udpSize = max(h.udpSize, minUDPSize)
	if h.rto <= 0 {
		h.rto = DefaultResolveTimeout
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.JostleTimeout == 0 {
		cfg.JostleTimeout = DefaultJostleTimeout
	}
	if cfg.PacketCacheEntries >= 0 {
		h.pc = newPacketCache(cfg.PacketCacheEntries, cfg.PacketCacheBytes)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.slots = newSlots(cfg.MaxInflight, cfg.JostleTimeout, h.now)
	h.bg, h.bgCancel = context.WithCancel(context.Background())
	h.st.Store(st)
	h.m.setPacketCache(h.pc)
	return h, nil
}

// Reload installs new settings atomically. Queries in flight finish with
// the settings they started with. The packet cache is emptied unless
// s.KeepAnswers is set.
func (h *Handler) Reload(s Settings) error {
	st, err := compile(s)
	if err != nil {
		return err
	}
	h.st.Store(st)
	if !s.KeepAnswers && h.pc != nil {
		h.pc.flush()
	}
	return nil
}

// Inflight returns how many resolutions hold a slot now ([HandlerConfig]
// MaxInflight bounds them); serve's memory limit follows it.
func (h *Handler) Inflight() int { return h.slots.inUse() }

// Settings returns the settings in force.
func (h *Handler) Settings() Settings { return h.st.Load().s }

// Wait waits for resolutions in flight to finish or ctx to end, whichever
// is first; then it cancels any left.
func (h *Handler) Wait(ctx context.Context) error {
	select {
	case <-h.busy.idle():
		return nil
	case <-ctx.Done():
		h.bgCancel()
		<-h.busy.idle()
		return fmt.Errorf("server: resolutions still in flight: %w", ctx.Err())
	}
}

// Close cancels resolutions in flight and waits for them.
func (h *Handler) Close() {
	h.bgCancel()
	<-h.busy.idle()
}

// tracker counts work in flight. Unlike sync.WaitGroup it allows new work
// to start while someone waits for the count to reach zero.
type tracker struct {
	mu   sync.Mutex // guards the following
	n    int
	zero chan struct{} // closed when n drops to 0; nil when nobody waits
}

func (t *tracker) add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.zero != nil {
		close(t.zero)
		t.zero = nil
	}
}

// idle returns a channel closed once nothing is in flight.
func (t *tracker) idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	return t.zero
}

// Handle answers one query: req is the raw query, client the address it
// came from, transport how. It returns the raw reply, or
// ok=false when the query must be dropped (unreadable header, QR set,
// rate-limited UDP). It may block for a whole resolution; ctx cancels the
// wait (not the resolution, which others may share).
func (h *Handler) Handle(ctx context.Context, req []byte, client netip.AddrPort, transport Transport) (resp []byte, ok bool) {
	return h.AppendHandle(ctx, make([]byte, 0, maxReplyHint), req, client, transport)
}

// AppendHandle is Handle appending the reply to out, so listeners can reuse
// buffers.
func (h *Handler) AppendHandle(ctx context.Context, out, req []byte, client netip.AddrPort, transport Transport) (resp []byte, ok bool) {
	// A bug must cost one query, not the server: drop the query, log.
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("server: panic while answering; query dropped", "panic", p, "client", client, "stack", string(debug.Stack()))
			resp, ok = nil, false
		}
	}()
	c := call{st: h.st.Load(), client: client, transport: transport, start: h.now()}
	out, v := h.fast(out, req, &c)
	switch v {
	case verdictDrop:
		return nil, false
	case verdictReply:
		return out, true
	}
	// A copy for the resolution, which may outlive this call: c itself
	// stays on the stack, so a hit allocates nothing.
	rc := c
	return h.slow(ctx, out, &rc), true
}

// verdict is what the fast path decided.
type verdict int

const (
	verdictReply   verdict = iota // out holds the reply
	verdictDrop                   // send nothing
	verdictResolve                // the resolver must be asked
)

// fast does everything that needs no resolution: parsing, access control,
// rate limits, error replies, local data and packet-cache hits.
func (h *Handler) fast(out, req []byte, c *call) (resp []byte, v verdict) {
	// The listeners call this directly: a bug must cost one query, not
	// the process.
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("server: panic while answering; query dropped", "panic", p, "client", c.client, "stack", string(debug.Stack()))
			resp, v = out[:0], verdictDrop
		}
	}()
	q, st := &c.q, c.st
	if !parseHeader(req, q) || q.flags&flagQR != 0 {
		h.m.dropped("malformed")
		return out, verdictDrop
	}
	perr := parseQuery(req, q)
	if !st.acl.allowed(c.client.Addr()) {
		return h.refuse(out, req, c)
	}
	if !st.rl.allow(c.client.Addr(), c.start) {
		if c.transport == TransportUDP {
			if st.rl.slip() {
				return h.slipped(out, c), verdictReply
			}
			h.m.dropped("ratelimit")
			return out, verdictDrop
		}
		h.m.dropped("ratelimit")
		return h.short(out, c, rcodeRefused, &edeInfo{code: dns.ExtendedErrorCodeProhibited, text: "rate limit exceeded"}, sourceServer, reasonRateLimit), verdictReply
	}
	if q.opcode() != dns.OpcodeQuery {
		// Before the parse verdict: UPDATE and NOTIFY have sections a
		// QUERY must not, and deserve NOTIMP, not FORMERR.
		return h.short(out, c, rcodeNotImp, nil, sourceServer, reasonOpcode), verdictReply
	}
	if perr != nil {
		return h.short(out, c, rcodeFormErr, nil, sourceServer, reasonMalformed), verdictReply
	}
	if q.edns && q.ednsVersion != 0 {
		return h.short(out, c, rcodeBadVers, nil, sourceServer, reasonEDNSVersion), verdictReply
	}
	if q.qclass != dns.ClassINET {
		// REFUSED, not NOTIMP: NOTIMP is about the kind of query (the
		// opcode); other classes are a policy choice of a resolver that
		// serves the Internet class only (as Unbound refuses them).
		return h.short(out, c, rcodeRefused, &edeInfo{code: dns.ExtendedErrorCodeNotSupported, text: "only class IN is served"}, sourceServer, reasonClass), verdictReply
	}
	if rule, refused := resolver.RuleForType(q.qtype); refused {
		// Meta, question-only and obsolete types: the resolver's one
		// table says which reply code each gets.
		var ede *edeInfo
		if rule.EDE != resolver.NoEDE {
			ede = &edeInfo{code: rule.EDE, text: rule.Reason}
		}
		reason := reasonMetaType
		if q.qtype == dns.TypeAXFR || q.qtype == dns.TypeIXFR {
			reason = reasonZoneTransfer
		}
		return h.short(out, c, rule.Rcode, ede, sourceServer, reason), verdictReply
	}
	if l := st.s.Local; l != nil {
		if set, found := l.lookupWire(q.qname, q.qtype); found {
			out = h.local(out, c, set)
			h.logQuery(c, rcodeNoError, sourceLocal, "")
			return out, verdictReply
		}
	}
	if h.pc != nil && !h.watch.wantsWire(q.qname, h) {
		var kb [maxNameLen + 5]byte
		key := appendPKey(kb[:0], q)
		now := c.start.UnixNano()
		if e := h.pc.get(key, now); e != nil {
			n := len(out)
			out = e.appendReply(out, q, now)
			rcode := int(e.rcode)
			out = h.finish(out, n, c, rcode, e.ede())
			h.m.query(q.qtype, rcode, c.transport, true)
			h.logQuery(c, rcode, sourceCache, e.reason())
			if st.s.Prefetch && e.rcode != rcodeServFail && e.wantsPrefetch(now) {
				h.prefetch(q, st, string(key))
			}
			return out, verdictReply
		}
	}
	return out, verdictResolve
}

// short appends a reply without records and logs it: source and reason
// say who decided on it and why.
func (h *Handler) short(out []byte, c *call, rcode int, ede *edeInfo, source, reason string) []byte {
	n := len(out)
	out = pad(appendShortReply(out, &c.q, 0, rcode, h.udpSize, ede), n, &c.q, c.transport)
	h.m.query(c.q.qtype, rcode, c.transport, false)
	h.logQuery(c, rcode, source, reason)
	return out
}

// finish appends the OPT record (when the client sent one) to the reply
// that starts at out[n:], and truncates it when it is larger than the
// client accepts.
func (h *Handler) finish(out []byte, n int, c *call, rcode int, ede *edeInfo) []byte {
	q := &c.q
	if q.edns {
		out = appendOPT(out, h.udpSize, rcode, q.do, ede)
		ar := uint16(out[n+10])<<8 | uint16(out[n+11]) + 1
		out[n+10], out[n+11] = byte(ar>>8), byte(ar)
	}
	if len(out)-n > q.maxSize(c.transport, h.udpSize) {
		// RFC 1035 §4.2.1 / RFC 6891 §7: a reply that does not fit is sent
		// with TC=1; the client retries over TCP. We send the question
		// only, as Unbound does, rather than a partial RRset.
		f := uint16(out[n+2])<<8 | uint16(out[n+3])
		out = appendShortReply(out[:n], q, f&(flagAA|flagAD)|flagTC, rcode, h.udpSize, ede)
	}
	return pad(out, n, q, c.transport)
}
