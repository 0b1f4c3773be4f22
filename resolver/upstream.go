package resolver

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
)

// This file holds what the resolver remembers about upstream servers and
// zones across requests to defend itself and them on a hostile network:
// how many queries are outstanding per server and per zone, the per-zone
// query rate (Unbound's ratelimit), the hold-down of zones whose servers
// all stopped answering (one probe at a time, exponentially spaced), and
// per server the DNS cookies (cookies.go) and whether it echoes 0x20 case
// (caps.go).

// Hardening configures the defences against a hostile network. The zero
// value gives the defaults: outstanding caps and dead-zone hold-down on,
// 0x20, cookies and the zone rate limit off (as Unbound's defaults).
type Hardening struct {
	// CaseRandomisation sends each UDP question name with its letters'
	// case randomised (draft-vixie-dnsext-dns0x20, Unbound's
	// use-caps-for-id) and accepts only replies that echo it. A server
	// that does not echo case is asked again without, and remembered.
	CaseRandomisation bool
	// Cookies sends a DNS cookie (RFC 7873, RFC 9018) to every server,
	// keeps each server's cookie, and ignores replies that do not echo
	// the client cookie (or that lack a cookie from a server known to
	// send one).
	Cookies bool
	// MaxOutstandingPerServer bounds the queries in flight to one server
	// address; 0 means DefaultMaxOutstandingPerServer, negative none.
	MaxOutstandingPerServer int
	// MaxOutstandingPerZone bounds the queries in flight to the servers
	// of one zone; 0 means DefaultMaxOutstandingPerZone, negative none.
	MaxOutstandingPerZone int
	// ZoneRateLimit is the queries per second sent to the servers of one
	// zone (Unbound's ratelimit); 0 turns it off. Questions over it fail
	// at once with ErrRateLimited.
	ZoneRateLimit float64
	// ProbeInterval is the first wait between probes of a zone whose
	// servers are all held down after timeouts; it doubles after each
	// failed probe up to MaxProbeInterval. 0 means DefaultProbeInterval.
	ProbeInterval time.Duration
	// MaxProbeInterval caps ProbeInterval's growth; 0 means
	// DefaultMaxProbeInterval.
	MaxProbeInterval time.Duration
}

// Hardening defaults.
const (
	// DefaultMaxOutstandingPerServer: at a 100 ms RTT, 100 queries in
	// flight carry 1,000 q/s to one server, more than a LAN resolver sends
	// any single authoritative; a dead or slow server holds no more than
	// that of the resolver's own slots.
	DefaultMaxOutstandingPerServer = 100
	// DefaultMaxOutstandingPerZone is two servers' worth: the common zone
	// has two or more servers, and one zone under a random-subdomain flood
	// must leave slots for every other zone.
	DefaultMaxOutstandingPerZone = 200
	// DefaultProbeInterval: a zone whose servers are held down is probed
	// by one query at a time, 2 s apart at first (a server back from a
	// restart is found within seconds) ...
	DefaultProbeInterval = 2 * time.Second
	// DefaultMaxProbeInterval ... and at most 120 s apart (Unbound's
	// RTT_MAX_TIMEOUT, the longest it holds a server down).
	DefaultMaxProbeInterval = 120 * time.Second
	// maxUpstreamEntries bounds the servers and the zones remembered
	// (Unbound's infra-cache-numhosts is 10,000); an entry is under 200
	// bytes, so each table stays under 2 MB. Bounded by count, not in
	// [cache] size: serve's memory limit counts both in its fixed
	// overhead (internal/cli/memlimit.go).
	maxUpstreamEntries = 10_000
)

// ErrRateLimited is wrapped by the error of a question that found its
// zone over the rate limit or the outstanding-query cap.
var ErrRateLimited = errors.New("resolver: upstream query limit for the zone reached")

// ErrHeldDown is wrapped by the error of a question whose zone's servers
// are all held down after timeouts and not yet due for a probe.
var ErrHeldDown = errors.New("resolver: every server of the zone is held down after timeouts")

// zoneWide reports whether err is a failure remembered for a whole zone
// rather than for one question, nothing having been sent for it: every
// server of the zone held down after timeouts (ErrHeldDown), the zone's
// query budget spent (ErrRateLimited), or every server at its outstanding
// cap (errServerBusy). Such a failure is not kept in the failure cache per
// name, nor, since its Error has no RetryAfter, in a server's packet
// cache: the zone's state here fails every later name under the zone at
// once, without a query, until its next probe (RFC 9520 §3.2: "unresponsive
// servers might be best cached according to the server's IP address"), so
// a per-name entry would save nothing, while a random-subdomain flood
// under a dead zone would fill both caches with names never asked again,
// pushing out what clients do ask. (Unbound keeps a 5 s SERVFAIL per name
// in its small message cache instead, beside the same per-server record
// in its infrastructure cache.)
func zoneWide(err error) bool {
	return errors.Is(err, ErrHeldDown) || errors.Is(err, ErrRateLimited) || errors.Is(err, errServerBusy)
}

// errServerBusy marks a server with MaxOutstandingPerServer queries in
// flight: another server of the zone is tried.
var errServerBusy = errors.New("resolver: server has too many queries outstanding")

// serverState is what is remembered about one server address and port.
type serverState struct {
	mu sync.Mutex // guards the following
	// outstanding counts queries in flight.
	outstanding int
	// noCapsUntil: the server did not echo 0x20 case; ask in lower case
	// until then.
	noCapsUntil time.Time
}

// zoneState is what is remembered about one zone.
type zoneState struct {
	mu          sync.Mutex // guards the following
	outstanding int
	// tokens and last are the rate limit's bucket.
	tokens float64
	last   time.Time
	// Hold-down probing: the next probe may start at nextProbe when none
	// is in flight; interval is the wait after the next failure.
	nextProbe time.Time
	interval  time.Duration
	probing   bool
}

// upstreams is the resolver's memory of servers and zones. Both tables
// are bounded; an evicted entry only loses its counters and 0x20 state
// (which starts again at "echoes case", the safe side). What servers
// send cookies lives in the jar, which eviction here does not touch.
type upstreams struct {
	h       Hardening
	now     func() time.Time
	servers *otter.Cache[netip.AddrPort, *serverState]
	zones   *otter.Cache[string, *zoneState]
	jar     *cookieJar // cookies.go
}

func newUpstreams(h Hardening, now func() time.Time) (*upstreams, error) {
	if h.MaxOutstandingPerServer == 0 {
		h.MaxOutstandingPerServer = DefaultMaxOutstandingPerServer
	}
	if h.MaxOutstandingPerZone == 0 {
		h.MaxOutstandingPerZone = DefaultMaxOutstandingPerZone
	}
	if h.ProbeInterval <= 0 {
		h.ProbeInterval = DefaultProbeInterval
	}
	if h.MaxProbeInterval <= 0 {
		h.MaxProbeInterval = DefaultMaxProbeInterval
	}
	if h.ZoneRateLimit < 0 {
		return nil, fmt.Errorf("resolver: negative zone rate limit %v", h.ZoneRateLimit)
	}
	u := &upstreams{h: h, now: now, jar: newCookieJar(now, maxCookieServers)}
	var err error
	if u.servers, err = otter.New(&otter.Options[netip.AddrPort, *serverState]{MaximumSize: maxUpstreamEntries}); err != nil {
		return nil, fmt.Errorf("resolver: %w", err)
	}
	if u.zones, err = otter.New(&otter.Options[string, *zoneState]{MaximumSize: maxUpstreamEntries}); err != nil {
		return nil, fmt.Errorf("resolver: %w", err)
	}
	return u, nil
}

func (u *upstreams) close() {
	u.servers.StopAllGoroutines()
	u.zones.StopAllGoroutines()
}

// server returns the state of server, made on first use.
func (u *upstreams) server(server netip.AddrPort) *serverState {
	if s, ok := u.servers.GetIfPresent(server); ok {
		return s
	}
	s, _ := u.servers.SetIfAbsent(server, &serverState{})
	return s
}

func (u *upstreams) zone(zone string) *zoneState {
	if z, ok := u.zones.GetIfPresent(zone); ok {
		return z
	}
	z, _ := u.zones.SetIfAbsent(zone, &zoneState{tokens: u.h.ZoneRateLimit, last: u.now(), interval: u.h.ProbeInterval})
	return z
}

// acquire takes a slot for one query to server for zone, or says why
// there is none: errServerBusy (try another server) or ErrRateLimited
// (the zone is over its rate or cap). release gives the slot back.
func (u *upstreams) acquire(zone string, server netip.AddrPort) (release func(), err error) {
	z := u.zone(zone)
	z.mu.Lock()
	if u.h.MaxOutstandingPerZone > 0 && z.outstanding >= u.h.MaxOutstandingPerZone {
		z.mu.Unlock()
		return nil, fmt.Errorf("%w: %d queries outstanding to %s", ErrRateLimited, u.h.MaxOutstandingPerZone, zone)
	}
	if qps := u.h.ZoneRateLimit; qps > 0 {
		now := u.now()
		z.tokens = min(max(1, qps), z.tokens+now.Sub(z.last).Seconds()*qps)
		z.last = now
		if z.tokens < 1 {
			z.mu.Unlock()
			return nil, fmt.Errorf("%w: over %v queries per second to %s", ErrRateLimited, qps, zone)
		}
		z.tokens--
	}
	z.outstanding++
	z.mu.Unlock()
	s := u.server(server)
	s.mu.Lock()
	if u.h.MaxOutstandingPerServer > 0 && s.outstanding >= u.h.MaxOutstandingPerServer {
		s.mu.Unlock()
		z.mu.Lock()
		z.outstanding--
		z.mu.Unlock()
		return nil, fmt.Errorf("%w: %d queries outstanding to %v", errServerBusy, u.h.MaxOutstandingPerServer, server)
	}
	s.outstanding++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.outstanding--
		s.mu.Unlock()
		z.mu.Lock()
		z.outstanding--
		z.mu.Unlock()
	}, nil
}

// probe asks whether a query may go to a zone whose servers are all held
// down: yes when no probe is in flight and the next one is due. done
// reports the probe's outcome: an answer ends the hold-down, a failure
// doubles the wait (up to MaxProbeInterval).
func (u *upstreams) probe(zone string) (done func(answered bool), wait time.Duration, ok bool) {
	z := u.zone(zone)
	now := u.now()
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.probing || now.Before(z.nextProbe) {
		return nil, max(0, z.nextProbe.Sub(now)), false
	}
	z.probing = true
	return func(answered bool) {
		z.mu.Lock()
		defer z.mu.Unlock()
		z.probing = false
		if answered {
			z.nextProbe, z.interval = time.Time{}, u.h.ProbeInterval
			return
		}
		z.nextProbe = u.now().Add(z.interval)
		z.interval = min(2*z.interval, u.h.MaxProbeInterval)
	}, 0, true
}
