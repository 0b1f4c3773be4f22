package cache

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/miekg/dns"
)

// kind tells apart the kinds of entry that share the byte budget.
type kind uint8

const (
	kindRRset    kind = iota + 1 // positive RRset
	kindNoData                   // NODATA for (name, type, class)
	kindNXDomain                 // NXDOMAIN for (name, class); type is 0
	kindFailure                  // failed resolution (RFC 9520)
	numKinds
)

// partNames name the kinds in [Stats.Parts] and the metrics.
var partNames = [numKinds]string{kindRRset: PartRRset, kindNoData: PartNegative, kindNXDomain: PartNegative, kindFailure: PartFailure}

// key identifies an entry. name is lower-case and fully qualified.
type key struct {
	name  string
	qtype uint16
	class uint16
	kind  kind
}

// entry is one cached item. Everything but the atomics is written once
// before the entry is published and never changed: lookups decode copies of
// the records. Fields are ordered to keep the struct at 64 bytes, a size
// class of Go's allocator (TestEntrySize): a failure's error lives in a
// failEntry around it (failure.go).
type entry struct {
	// data holds the records packed (pack.go). An RRset: nrr owned
	// records, nsig owned RRSIGs over them, then the foreign records of a
	// wildcard proof. A negative answer: its foreign proof records (NSEC,
	// NSEC3 and their RRSIGs) after those in soa.
	data     []byte
	soa      shared        // negative entries only: the SOA and the RRSIGs over it, shared per zone
	inserted int64         // Cache.tick when stored
	ttl      time.Duration // after clamps; whole seconds but for failures
	weight   uint32        // approximate bytes, see weigh
	// hits counts fresh hits, for the prefetch hint, up to
	// Config.PrefetchMinHits (all the hint needs); its top bit,
	// prefetchedBit, is set once the hint was given.
	hits atomic.Uint32
	nrr  uint16
	nsig uint16
	rank Rank
	sec  Security
	kind kind
	// soaCarrier is set in the negative entry that weighs its zone's
	// shared SOA (soaweight.go).
	soaCarrier bool
}

// prefetchedBit is the flag in entry.hits that the prefetch hint was
// given; the count stays far below it.
const prefetchedBit = 1 << 31

// fresh reports whether e is still within its TTL at tick at.
func (e *entry) fresh(at int64) bool { return at-e.inserted < int64(e.ttl) }

// left returns how much of e's TTL remains at tick at.
func (e *entry) left(at int64) time.Duration { return e.ttl - time.Duration(at-e.inserted) }

// Cache is a concurrency-safe DNS cache of RRsets, negative answers and
// failures, bounded by a byte budget. Create it with [New]; the zero value
// is not usable.
type Cache struct {
	cfg Config
	now func() time.Time
	// epoch is when the cache was made: entries store their insertion
	// time as nanoseconds since (tick), 8 bytes instead of a time.Time's
	// 24, measured on the monotonic clock when now has one.
	epoch time.Time
	// scratch holds buffers to pack records into (packRecords).
	scratch sync.Pool
	store   *otter.Cache[key, *entry]
	nsec    *nsecStore  // validated NSEC records (RFC 8198), with a share of their own
	soas    soaCarriers // which negative entry weighs each zone's shared SOA
	// parts count the entries and bytes of each kind in store: added
	// before a write, taken away by the deletion listener.
	parts [numKinds]partCount

	hits      atomic.Uint64
	misses    atomic.Uint64
	staleHits atomic.Uint64
	evictions atomic.Uint64
}

// New returns a Cache configured by cfg; nil means defaults. The error wraps
// [ErrConfig] when cfg is invalid.
func New(cfg *Config) (*Cache, error) {
	c := &Cache{}
	var err error
	if c.cfg, err = cfg.withDefaults(); err != nil {
		return nil, err
	}
	c.now = c.cfg.Now
	var clock otter.Clock
	if c.now == nil {
		c.now = time.Now
	} else {
		clock = otterClock{now: c.now}
	}
	c.epoch = c.now()
	c.store, err = otter.New(&otter.Options[key, *entry]{
		MaximumWeight:    uint64(c.cfg.MaxBytes),
		Weigher:          weigh,
		ExpiryCalculator: keepCalculator{stale: c.cfg.StaleMax},
		OnDeletion: func(e otter.DeletionEvent[key, *entry]) {
			c.parts[e.Key.kind].add(-1, weigh(e.Key, e.Value))
			if e.Value.soa != (shared{}) {
				c.soas.release(e.Value.soa, e.Value.soaCarrier)
			}
			if e.Cause == otter.CauseOverflow {
				c.evictions.Add(1)
			}
		},
		Clock: clock,
		// Run otter's tasks (the deletion listener) inline: they only
		// bump a counter, and Stats is then exact when a call returns.
		Executor: func(fn func()) { fn() },
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if c.nsec, err = newNSECStore(c.cfg.NSECBytes, c.now, clock); err != nil {
		return nil, err
	}
	return c, nil
}

// partCount is the size of one kind of entry.
type partCount struct {
	entries atomic.Int64
	bytes   atomic.Int64
}

// add changes the count by n entries of weight w each.
func (p *partCount) add(n int64, w uint32) {
	p.entries.Add(n)
	p.bytes.Add(n * int64(w))
}

// Close stops the background goroutines of the cache. The cache still
// works afterwards, without periodic clean-ups.
func (c *Cache) Close() {
	c.store.StopAllGoroutines()
	c.nsec.store.StopAllGoroutines()
}

// Stats is a snapshot of the cache's counters.
type Stats struct {
	Hits      uint64 // lookups answered with fresh data
	Misses    uint64 // lookups answered with nothing
	StaleHits uint64 // lookups answered with stale data (RFC 8767)
	Evictions uint64 // entries dropped to stay within the byte budget
	Entries   int    // entries held, of every kind, expired ones included
	Bytes     uint64 // approximate bytes held
	// Parts break Entries and Bytes down by part of the memory budget:
	// PartRRset, PartNegative, PartFailure (which share Config.MaxBytes)
	// and PartNSEC (Config.NSECBytes; its entries are records). Entries
	// and Bytes above do not count PartNSEC.
	Parts []PartStats
}

// Names of the parts of the memory budget, in [PartStats.Part] and in the
// server's metrics.
const (
	PartRRset    = "rrset"    // positive RRsets, zone keys (DNSKEY, DS) included
	PartNegative = "negative" // NXDOMAIN and NODATA (RFC 2308)
	PartFailure  = "failure"  // failed resolutions (RFC 9520)
	PartNSEC     = "nsec"     // validated NSEC/NSEC3 records (RFC 8198)
	PartInfra    = "infra"    // server RTTs and lameness ([Infra])
	PartPacket   = "packet"   // the server's packet cache
	// PartInflight is not in the budget: the server's resolutions in
	// flight, bounded by its max-inflight, reported beside the parts.
	PartInflight = "inflight"
)

// PartStats is the size of one part of the memory budget.
type PartStats struct {
	Part      string
	Entries   int
	Bytes     uint64
	Evictions uint64 // only for parts with a budget of their own; 0 otherwise
}

// Stats returns the current counters. Hits and misses count every call of
// Lookup and LookupNegative (Failed is not counted).
func (c *Cache) Stats() Stats {
	st := Stats{
		Hits:      c.hits.Load(),
		Misses:    c.misses.Load(),
		StaleHits: c.staleHits.Load(),
		Evictions: c.evictions.Load(),
		Entries:   c.store.EstimatedSize(),
		Bytes:     c.store.WeightedSize(),
	}
	for _, name := range []string{PartRRset, PartNegative, PartFailure} {
		p := PartStats{Part: name}
		for k, n := range partNames {
			if n == name {
				p.Entries += int(max(c.parts[k].entries.Load(), 0))
				p.Bytes += uint64(max(c.parts[k].bytes.Load(), 0))
			}
		}
		st.Parts = append(st.Parts, p)
	}
	n, b, ev := c.nsec.stats()
	st.Parts = append(st.Parts, PartStats{Part: PartNSEC, Entries: n, Bytes: b, Evictions: ev})
	return st
}

// otterClock makes otter expire entries by the injected clock. It gives no
// ticks, so otter does no periodic clean-up: expired entries go when they
// are read, written over or evicted, which a fake clock needs anyway.
type otterClock struct{ now func() time.Time }

func (c otterClock) NowNano() int64                      { return c.now().UnixNano() }
func (c otterClock) Tick(time.Duration) <-chan time.Time { return nil }

// tick returns t as an entry's time: nanoseconds since the cache's epoch.
func (c *Cache) tick(t time.Time) int64 { return int64(t.Sub(c.epoch)) }

// keepCalculator keeps each entry for its TTL plus the stale window (none
// for failures), counted from its last write; reads do not extend it.
type keepCalculator struct{ stale time.Duration }

func (k keepCalculator) keep(e otter.Entry[key, *entry]) time.Duration {
	if e.Key.kind == kindFailure {
		return e.Value.ttl
	}
	return e.Value.ttl + k.stale
}

func (k keepCalculator) ExpireAfterCreate(e otter.Entry[key, *entry]) time.Duration {
	return k.keep(e)
}

func (k keepCalculator) ExpireAfterUpdate(e otter.Entry[key, *entry], _ *entry) time.Duration {
	return k.keep(e)
}

func (keepCalculator) ExpireAfterRead(e otter.Entry[key, *entry]) time.Duration {
	return e.ExpiresAfter()
}

// Weights approximate the heap bytes of an entry. They were calibrated
// against runtime.MemStats by TestBytesPerEntry, which fails when the
// estimate drifts far from the measurement.
const (
	// entryOverhead covers otter's node and table slot, the key and the
	// 64-byte entry struct; the packed records are counted by length.
	entryOverhead = 188
	// rrOverhead covers the interface value, the RR struct and its header
	// beyond the wire bytes dns.Len counts.
	rrOverhead = 48
)

// weigh returns the precomputed weight of an entry.
func weigh(k key, e *entry) uint32 { return uint32(len(k.name)) + e.weight }

// rrsWeight approximates the heap bytes of rrs held as dns.RR values (the
// NSEC store keeps them so).
func rrsWeight(rrs []dns.RR) uint32 {
	var w uint32
	for _, rr := range rrs {
		w += rrOverhead + uint32(dns.Len(rr))
	}
	return w
}

// copyRRs returns deep copies of rrs with their TTL set to ttl, or nil when
// rrs is empty. A and AAAA sets, the bulk of lookups, are copied with one
// allocation for all their records.
func copyRRs(rrs []dns.RR, ttl uint32) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	if a, ok := rrs[0].(*dns.A); ok && len(rrs) == 1 && len(a.A) <= net.IPv6len {
		// A single A record, the most common lookup: one allocation.
		one := new(struct {
			out [1]dns.RR
			box aBox
		})
		one.box.set(a, ttl)
		one.out[0] = &one.box.rr
		return one.out[:]
	}
	out := make([]dns.RR, len(rrs))
	switch rrs[0].(type) {
	case *dns.A:
		if copyA(out, rrs, ttl) {
			return out
		}
	case *dns.AAAA:
		if copyAAAA(out, rrs, ttl) {
			return out
		}
	}
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Ttl = ttl
	}
	return out
}

// aBox and aaaaBox hold an A or AAAA record with room for its address, so a
// copy takes one allocation instead of two.
type (
	aBox struct {
		rr dns.A
		ip [net.IPv6len]byte
	}
	aaaaBox struct {
		rr dns.AAAA
		ip [net.IPv6len]byte
	}
)

// set copies a into b, with TTL ttl.
func (b *aBox) set(a *dns.A, ttl uint32) {
	b.rr.Hdr = a.Hdr
	b.rr.Hdr.Ttl = ttl
	if a.A != nil {
		n := copy(b.ip[:], a.A)
		b.rr.A = b.ip[:n:n]
	}
}

// copyA copies rrs into out when all are A records; otherwise it reports
// false.
func copyA(out, rrs []dns.RR, ttl uint32) bool {
	boxes := make([]aBox, len(rrs))
	for i, rr := range rrs {
		a, ok := rr.(*dns.A)
		if !ok || len(a.A) > net.IPv6len {
			return false
		}
		boxes[i].set(a, ttl)
		out[i] = &boxes[i].rr
	}
	return true
}

// copyAAAA copies rrs into out when all are AAAA records; otherwise it
// reports false.
func copyAAAA(out, rrs []dns.RR, ttl uint32) bool {
	boxes := make([]aaaaBox, len(rrs))
	for i, rr := range rrs {
		a, ok := rr.(*dns.AAAA)
		if !ok || len(a.AAAA) > net.IPv6len {
			return false
		}
		b := &boxes[i]
		b.rr.Hdr = a.Hdr
		b.rr.Hdr.Ttl = ttl
		if a.AAAA != nil {
			n := copy(b.ip[:], a.AAAA)
			b.rr.AAAA = b.ip[:n:n]
		}
		out[i] = &b.rr
	}
	return true
}

// canonicalName is dns.CanonicalName without its cost for names that are
// already lower-case and fully qualified, as most are.
func canonicalName(name string) string {
	if name == "" || name[len(name)-1] != '.' {
		return dns.CanonicalName(name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return dns.CanonicalName(name)
		}
	}
	return name
}

// ttlSeconds turns a remaining duration into a header TTL, rounding down.
func ttlSeconds(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(d / time.Second)
}

// LookupOpts tunes a lookup. The zero value asks for fresh data only.
type LookupOpts struct {
	// AllowStale returns data expired less than Config.StaleMax ago, with
	// TTL StaleTTL and Stale set (RFC 8767). Ask for it only when fresh
	// data cannot be had.
	AllowStale bool
}

// freshness is what a lookup learned about an entry's age.
type freshness struct {
	ttl      uint32 // TTL to write into returned RRs
	stale    bool
	prefetch bool
}

// check decides whether e can answer at now. It counts the hit or miss.
func (c *Cache) check(e *entry, now time.Time, opts LookupOpts) (freshness, bool) {
	age := time.Duration(c.tick(now) - e.inserted)
	if age < e.ttl {
		c.hits.Add(1)
		left := e.ttl - age
		f := freshness{ttl: ttlSeconds(left)}
		// Hint once per entry, in the last tenth of its TTL, when the
		// entry earned it (Unbound's prefetch rule, plus a hit count).
		hits := e.hits.Load()
		if hits&^prefetchedBit < c.cfg.PrefetchMinHits {
			// Counted until it reaches the minimum: a hot entry's
			// hits then only read it.
			hits = e.hits.Add(1)
		}
		if left*10 <= e.ttl && hits&^prefetchedBit >= c.cfg.PrefetchMinHits && hits&prefetchedBit == 0 {
			f.prefetch = e.hits.Or(prefetchedBit)&prefetchedBit == 0
		}
		return f, true
	}
	if opts.AllowStale && age < e.ttl+c.cfg.StaleMax {
		c.staleHits.Add(1)
		return freshness{ttl: StaleTTL, stale: true}, true
	}
	c.misses.Add(1)
	return freshness{}, false
}

// clamp applies the configured bounds to a TTL in seconds; ok is false for
// TTL 0, which is never stored.
func clamp(ttl uint32, minTTL, maxTTL time.Duration) (time.Duration, bool) {
	if ttl == 0 || ttl > maxTTLSeconds {
		// RFC 2181 §8: a TTL with the top bit set means zero.
		return 0, false
	}
	d := time.Duration(ttl) * time.Second
	d = max(d, minTTL.Truncate(time.Second))
	d = min(d, maxTTL.Truncate(time.Second))
	if d <= 0 {
		return 0, false
	}
	return d, true
}
