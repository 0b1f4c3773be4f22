package cache

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/miekg/dns"
)

// Infrastructure cache constants, after Unbound's infra cache
// (util/rtt.h, services/cache/infra.h).
const (
	// UnknownRTO is the RTO of a server never heard from: Unbound's
	// UNKNOWN_SERVER_NICENESS, pessimistic enough that a known fast server
	// is preferred and a known slow one is not.
	UnknownRTO = 376 * time.Millisecond
	// MinRTO is the default smallest RTO, Unbound's RTT_MIN_TIMEOUT (its
	// infra-cache-min-rtt default): a server on the same LAN still gets
	// time to answer. InfraConfig.MinRTO raises it.
	MinRTO = 50 * time.Millisecond
	// MaxRTO caps the RTO after repeated timeouts (Unbound's
	// RTT_MAX_TIMEOUT); a server at the cap is down until it may be probed.
	MaxRTO = 120 * time.Second
	// DefaultBand is how much larger than the fastest server's RTO another
	// server's may be for Select to explore it (Unbound's RTT_BAND, within
	// which Unbound picks at random every time). A server slower still is
	// not worth the wait; its record expires after HostTTL and it is then
	// tried again as an unknown server.
	DefaultBand = 400 * time.Millisecond
	// DefaultTie is how close two smoothed RTTs are for their servers to
	// count as equally fast: Select picks at random among them, spreading
	// load over servers it cannot tell apart. A millisecond or two is the
	// jitter of one path (scheduling, interrupt coalescing); Knot Resolver
	// compares its timeouts in whole milliseconds after a shuffle, to the
	// same effect. A pick among ties costs at most this much per query.
	DefaultTie = 2 * time.Millisecond
	// DefaultHostTTL is how long a server's record lives after its last
	// update (Unbound's infra-host-ttl), so the RTT of a moved server is
	// relearnt.
	DefaultHostTTL = 15 * time.Minute
	// DefaultLameTTL is how long a server stays lame for a zone (Unbound
	// uses infra-host-ttl for lameness too).
	DefaultLameTTL = 15 * time.Minute
	// DefaultProbeDelay is how long a server whose RTO reached MaxRTO is
	// skipped before it is tried again.
	DefaultProbeDelay = time.Minute
	// DefaultMaxInfraEntries bounds the records kept (Unbound's
	// infra-cache-numhosts is 10000): about 300 bytes each, 3 MB at most.
	DefaultMaxInfraEntries = 10000
	// infraEntryBytes approximates the heap bytes of a record beyond its
	// zone name: otter's node, the key and the InfraEntry value.
	infraEntryBytes = 300

	// rttAlpha and rttBeta are RFC 6298 §2.3's gains as shifts: 1/8, 1/4.
	rttAlphaShift = 3
	rttBetaShift  = 2
	// rttK is RFC 6298's K: the RTO is SRTT + K*RTTVAR.
	rttK = 4
)

// ErrNoServer is wrapped by the error Select returns when no candidate can
// be used.
var ErrNoServer = errors.New("no usable server")

// InfraConfig configures an [Infra]. The zero value, or a nil *InfraConfig,
// gives the defaults.
type InfraConfig struct {
	// MaxBytes bounds the approximate memory of the records kept
	// ([SplitBudget] gives it a share of the one budget); 0 means
	// MaxEntries records.
	MaxBytes int64
	// MaxEntries bounds the records kept when MaxBytes is 0; 0 means
	// DefaultMaxInfraEntries.
	MaxEntries int
	// HostTTL is how long a record lives after its last update; 0 means
	// DefaultHostTTL.
	HostTTL time.Duration
	// LameTTL is how long MarkLame excludes a server; 0 means
	// DefaultLameTTL.
	LameTTL time.Duration
	// ProbeDelay is how long a server at MaxRTO is skipped; 0 means
	// DefaultProbeDelay.
	ProbeDelay time.Duration
	// Band is how much larger than the smallest RTO an RTO may be for its
	// server to be explored; 0 means DefaultBand.
	Band time.Duration
	// Tie is how close smoothed RTTs are for their servers to count as
	// equally fast; 0 means DefaultTie. A lab without simulated latency,
	// whose RTTs are scheduling noise, sets it high to make every answering
	// server as fast as the others.
	Tie time.Duration
	// MinRTO is the smallest RTO, of known and unknown servers alike
	// (Unbound's infra-cache-min-rtt); 0 means MinRTO. Raise it when the
	// measured RTT says too little about how long an answer takes: a
	// forwarder that resolves before it answers, or a test lab on a loaded
	// machine (and a fake clock, whose measured RTT is 0), where a reply
	// slower than 50 ms would otherwise be asked again of another server.
	MinRTO time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand returns a number in [0, n); nil means math/rand/v2.IntN. Select
	// draws from it whether to explore and which server among equals or
	// explored ones; a Rand that always returns 0 never explores and
	// always takes the first. Tests inject a deterministic one. It must be
	// safe for concurrent use.
	Rand func(n int) int
}

// InfraEntry is what is known about a server for a zone.
type InfraEntry struct {
	Addr       netip.Addr
	Zone       string        // lower-case, fully qualified; "" when not per zone
	SRTT       time.Duration // smoothed RTT (RFC 6298); 0 before any sample
	RTTVar     time.Duration // RTT variation (RFC 6298)
	RTO        time.Duration // retransmission timeout: how long to wait
	Timeouts   int           // timeouts since the last answer
	Lame       bool          // lame for Zone until LameUntil
	LameUntil  time.Time     // zero if never lame
	ProbeAfter time.Time     // when RTO reached MaxRTO: skipped until then
	Updated    time.Time     // last RTT sample, timeout or lameness
}

// Selection is the server Select picked, and why (Reason).
type Selection struct {
	Addr netip.Addr
	RTO  time.Duration // the timeout to use for the query
	// why is what Reason puts in words, only when asked: Select runs
	// for every query sent upstream, and most are traced by nobody.
	why selectWhy
}

// infraKey identifies a record.
type infraKey struct {
	addr netip.Addr
	zone string
}

// infraRecord is a record as stored: updated in place, under mu. Every
// reply updates two records (RecordRTT); otter keeps values immutable, so
// writing a new value each time allocated a node, a deletion event and a
// task per update, about 1 KB per reply under a flood of cache misses
// (#11).
type infraRecord struct {
	mu sync.Mutex // guards the following
	e  InfraEntry
	// storedFor is how long after it was last written to the store the
	// store keeps the record (infraExpiry), and storedUntil that moment.
	// An update that makes the record live past storedUntil writes it
	// again, with storeSlack more, so a record updated all the time is
	// written once per storeSlack, not once per update.
	storedFor   time.Duration
	storedUntil time.Time
}

// Infra is the infrastructure cache: RTTs, timeouts and lameness per server
// and zone, for server selection. It is safe for concurrent use. Create it
// with [NewInfra].
type Infra struct {
	cfg   InfraConfig
	store *otter.Cache[infraKey, *infraRecord]
	// storeSlack is how much longer than its life (infraExpiry.keep)
	// the store keeps a record when it is written: HostTTL/4, so a busy
	// record is written again at most every few minutes, and a record
	// past its life, which Lookup already treats as gone, holds memory
	// at most that much longer.
	storeSlack time.Duration
}

// NewInfra returns an Infra configured by cfg; nil means defaults. The error
// wraps [ErrConfig] when cfg is invalid.
func NewInfra(cfg *InfraConfig) (*Infra, error) {
	var c InfraConfig
	if cfg != nil {
		c = *cfg
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxInfraEntries
	}
	if c.HostTTL == 0 {
		c.HostTTL = DefaultHostTTL
	}
	if c.LameTTL == 0 {
		c.LameTTL = DefaultLameTTL
	}
	if c.ProbeDelay == 0 {
		c.ProbeDelay = DefaultProbeDelay
	}
	if c.Band == 0 {
		c.Band = DefaultBand
	}
	if c.Tie == 0 {
		c.Tie = DefaultTie
	}
	if c.MinRTO == 0 {
		c.MinRTO = MinRTO
	}
	if c.Rand == nil {
		c.Rand = rand.IntN
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = int64(c.MaxEntries) * infraEntryBytes
	}
	if c.MaxBytes < 0 || c.MaxEntries < 0 || c.HostTTL < 0 || c.LameTTL < 0 || c.ProbeDelay < 0 || c.Band < 0 || c.Tie < 0 || c.MinRTO < 0 {
		return nil, fmt.Errorf("cache: %w: negative infra bound", ErrConfig)
	}
	if c.MinRTO >= MaxRTO {
		return nil, fmt.Errorf("cache: %w: smallest RTO %v not below the largest, %v", ErrConfig, c.MinRTO, MaxRTO)
	}
	var clock otter.Clock
	if c.Now == nil {
		c.Now = time.Now
	} else {
		clock = otterClock{now: c.Now}
	}
	in := &Infra{cfg: c, storeSlack: c.HostTTL / 4}
	var err error
	in.store, err = otter.New(&otter.Options[infraKey, *infraRecord]{
		MaximumWeight:    uint64(c.MaxBytes),
		Weigher:          func(k infraKey, _ *infraRecord) uint32 { return infraEntryBytes + uint32(len(k.zone)) },
		ExpiryCalculator: infraExpiry{in: in},
		Clock:            clock,
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return in, nil
}

// Close stops the background goroutines of the Infra.
func (in *Infra) Close() { in.store.StopAllGoroutines() }

// Part returns the records held and their approximate bytes, as the
// PartInfra part of the memory budget.
func (in *Infra) Part() PartStats {
	return PartStats{Part: PartInfra, Entries: in.store.EstimatedSize(), Bytes: in.store.WeightedSize()}
}

// infraExpiry keeps a record for HostTTL after its last update, or while it
// is lame or skipped if that is longer (keep); the store keeps it for the
// record's storedFor, keep and some slack (infraRecord).
type infraExpiry struct{ in *Infra }

func (x infraExpiry) keep(e InfraEntry) time.Duration {
	until := e.Updated.Add(x.in.cfg.HostTTL)
	if e.LameUntil.After(until) {
		until = e.LameUntil
	}
	if e.ProbeAfter.After(until) {
		until = e.ProbeAfter
	}
	return until.Sub(e.Updated)
}

// stored is how long the store keeps r from now, when it is written.
func (infraExpiry) stored(r *infraRecord) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.storedFor
}

func (x infraExpiry) ExpireAfterCreate(e otter.Entry[infraKey, *infraRecord]) time.Duration {
	return x.stored(e.Value)
}

func (x infraExpiry) ExpireAfterUpdate(e otter.Entry[infraKey, *infraRecord], _ *infraRecord) time.Duration {
	return x.stored(e.Value)
}

func (x infraExpiry) ExpireAfterRead(e otter.Entry[infraKey, *infraRecord]) time.Duration {
	return e.ExpiresAfter()
}

// update applies fn to the record of addr and zone, starting from an
// unknown server's when there is none or it expired. The record is
// changed in place; it is written to the store only when it is new or
// outlives what the store was told (infraRecord).
func (in *Infra) update(addr netip.Addr, zone string, fn func(e *InfraEntry, now time.Time)) {
	k := infraKey{addr: addr.Unmap(), zone: canonicalZone(zone)}
	now := in.cfg.Now()
	r, found := in.store.GetIfPresent(k)
	if !found {
		fresh := &infraRecord{}
		in.apply(fresh, k, fn, now)
		var inserted bool
		if r, inserted = in.store.SetIfAbsent(k, fresh); inserted {
			return
		}
		// Another update made the record meanwhile: apply fn to it.
	}
	if in.apply(r, k, fn, now) {
		in.store.Set(k, r)
	}
}

// apply runs fn on r's entry (reset to an unknown server's when it
// expired) and reports whether r must be written to the store again to
// live as long as it now should.
func (in *Infra) apply(r *infraRecord, k infraKey, fn func(e *InfraEntry, now time.Time), now time.Time) (rewrite bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.e.Updated.IsZero() || now.Sub(r.e.Updated) >= in.expiry().keep(r.e) {
		r.e = InfraEntry{Addr: k.addr, Zone: k.zone, RTO: in.unknownRTO()}
	}
	fn(&r.e, now)
	r.e.Updated = now
	until := now.Add(in.expiry().keep(r.e))
	if !until.After(r.storedUntil) {
		return false
	}
	r.storedFor = until.Sub(now) + in.storeSlack
	r.storedUntil = now.Add(r.storedFor)
	return true
}

func (in *Infra) expiry() infraExpiry { return infraExpiry{in: in} }

// unknownRTO is the RTO of a server never heard from: UnknownRTO, or the
// configured MinRTO if that is larger.
func (in *Infra) unknownRTO() time.Duration { return max(UnknownRTO, in.cfg.MinRTO) }

// updateBoth applies fn to the record of addr and zone and to addr's
// address-wide record (zone ""), which Select falls back on for a zone the
// server has not answered for yet: the RTT is mostly the path's, the same
// for every zone the server holds (Knot Resolver keys its RTT state by
// address alone, lib/selection.c get_rtt_state). Lameness stays per zone.
func (in *Infra) updateBoth(addr netip.Addr, zone string, fn func(e *InfraEntry, now time.Time)) {
	in.update(addr, zone, fn)
	if zone != "" {
		in.update(addr, "", fn)
	}
}

// RecordRTT records an answer from addr for zone after rtt, updating SRTT,
// RTTVAR and RTO as RFC 6298 §2 says, and clears the timeout count; the
// same for addr's address-wide record.
func (in *Infra) RecordRTT(addr netip.Addr, zone string, rtt time.Duration) {
	rtt = max(rtt, 0)
	in.updateBoth(addr, zone, func(e *InfraEntry, _ time.Time) {
		if e.SRTT == 0 && e.RTTVar == 0 {
			e.SRTT, e.RTTVar = rtt, rtt/2 // RFC 6298 §2.2
		} else {
			diff := e.SRTT - rtt
			if diff < 0 {
				diff = -diff
			}
			e.RTTVar += (diff - e.RTTVar) >> rttBetaShift // RFC 6298 §2.3
			e.SRTT += (rtt - e.SRTT) >> rttAlphaShift
		}
		e.RTO = min(max(e.SRTT+rttK*e.RTTVar, in.cfg.MinRTO), MaxRTO) // RFC 6298 §2.4, 2.5
		e.Timeouts = 0
		e.ProbeAfter = time.Time{}
	})
}

// RecordTimeout records that a query to addr for zone timed out: the RTO
// doubles up to MaxRTO (RFC 6298 §5.5); at MaxRTO the server is skipped for
// ProbeDelay. The address-wide record counts the timeout too, so a zone
// not asked yet does not prefer a server that stopped answering; only the
// zone's record holds a server down.
func (in *Infra) RecordTimeout(addr netip.Addr, zone string) {
	in.updateBoth(addr, zone, func(e *InfraEntry, now time.Time) {
		e.Timeouts++
		e.RTO = min(2*e.RTO, MaxRTO)
		if e.RTO >= MaxRTO {
			e.ProbeAfter = now.Add(in.cfg.ProbeDelay)
		}
	})
}

// MarkLame records that addr is lame for zone (it answered without
// authority or with an error for the zone) for LameTTL.
func (in *Infra) MarkLame(addr netip.Addr, zone string) {
	in.update(addr, zone, func(e *InfraEntry, now time.Time) {
		e.Lame = true
		e.LameUntil = now.Add(in.cfg.LameTTL)
	})
}

// Lookup returns what is known about addr for zone.
func (in *Infra) Lookup(addr netip.Addr, zone string) (InfraEntry, bool) {
	r, ok := in.store.GetIfPresent(infraKey{addr: addr.Unmap(), zone: canonicalZone(zone)})
	if !ok {
		return InfraEntry{}, false
	}
	r.mu.Lock()
	e := r.e
	r.mu.Unlock()
	now := in.cfg.Now()
	if now.Sub(e.Updated) >= in.expiry().keep(e) {
		return InfraEntry{}, false
	}
	e.Lame = now.Before(e.LameUntil)
	return e, true
}

// Snapshot returns every live record, sorted by zone then address, for
// display.
func (in *Infra) Snapshot() []InfraEntry {
	var out []InfraEntry
	for k := range in.store.Keys() {
		if e, ok := in.Lookup(k.addr, k.zone); ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b InfraEntry) int {
		return cmp.Or(cmp.Compare(a.Zone, b.Zone), a.Addr.Compare(b.Addr))
	})
	return out
}

// canonicalZone lower-cases and qualifies zone; "" stays "".
func canonicalZone(zone string) string {
	if zone == "" {
		return ""
	}
	return dns.CanonicalName(zone)
}
