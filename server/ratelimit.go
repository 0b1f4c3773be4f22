package server

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// RateLimit configures the per-client rate limit. Clients are grouped by
// network (an IPv4 /24, an IPv6 /56: what one customer typically has), and
// each network gets a token bucket.
type RateLimit struct {
	// QPS is the sustained queries per second per network; 0 turns the
	// limit off.
	QPS float64
	// Burst is the bucket size; 0 means QPS (at least 1).
	Burst float64
	// Entries bounds the networks tracked; 0 means DefaultRateLimitEntries.
	Entries int
	// Slip: every Slip-th UDP query over the limit gets an empty TC=1
	// reply instead of none (rrl.go); 0 means DefaultSlip, -1 never.
	Slip int
}

const (
	// DefaultRateLimitEntries bounds the rate-limit table: one entry is
	// some 100 bytes, so the table stays under a few MB whatever the
	// traffic; networks beyond it push out arbitrary others. The table
	// (and refuse.go's) is outside [cache] size: serve's memory limit
	// counts it in its fixed overhead (internal/cli/memlimit.go).
	DefaultRateLimitEntries = 32768
	// rlShards splits the table to keep lock contention low.
	rlShards = 32
	// rlPrefix4 and rlPrefix6 are the network sizes a bucket covers.
	rlPrefix4 = 24
	rlPrefix6 = 56
)

type bucket struct {
	tokens float64
	last   time.Time
}

type rlShard struct {
	mu sync.Mutex // guards m
	m  map[netip.Prefix]*bucket
}

// rateLimiter is a bounded table of token buckets (bounded.go says why it
// is not the packet cache's map).
type rateLimiter struct {
	qps, burst float64
	perShard   int
	seed       maphash.Seed
	shards     [rlShards]rlShard
	// slipEvery and limited implement the slip (rrl.go).
	slipEvery uint64
	limited   atomic.Uint64
}

// newRateLimiter returns nil when the limit is off.
func newRateLimiter(rl RateLimit) *rateLimiter {
	if rl.QPS <= 0 {
		return nil
	}
	if rl.Burst <= 0 {
		rl.Burst = max(1, rl.QPS)
	}
	if rl.Entries <= 0 {
		rl.Entries = DefaultRateLimitEntries
	}
	r := &rateLimiter{qps: rl.QPS, burst: rl.Burst, perShard: max(1, rl.Entries/rlShards), seed: maphash.MakeSeed(),
		slipEvery: slipEvery(rl)}
	for i := range r.shards {
		r.shards[i].m = map[netip.Prefix]*bucket{}
	}
	return r
}

// networkOf returns the network a client is limited as.
func networkOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := rlPrefix6
	if a.Is4() {
		bits = rlPrefix4
	}
	p, _ := a.Prefix(bits)
	return p
}

// allow takes a token for addr at now and reports whether there was one.
func (r *rateLimiter) allow(addr netip.Addr, now time.Time) bool {
	if r == nil {
		return true
	}
	p := networkOf(addr)
	s := &r.shards[maphash.Comparable(r.seed, p)%rlShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[p]
	if b == nil {
		if len(s.m) >= r.perShard {
			evictOne(s.m)
		}
		b = &bucket{tokens: r.burst, last: now}
		s.m[p] = b
	}
	return b.take(now, r.qps, r.burst)
}

// take refills b at qps up to burst for the time since its last use and
// takes a token if there is one.
func (b *bucket) take(now time.Time, qps, burst float64) bool {
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*qps)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
