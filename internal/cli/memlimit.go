package cli

import (
	"context"
	"runtime/debug"
	"sync"
	"time"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/server"
)

// serve sets Go's soft memory limit (runtime/debug.SetMemoryLimit) from
// the configuration, so the heap the garbage collector lets grow stays
// near what the caches and the work in flight need: under a flood of
// unique names, serve with a 64 MiB [cache] size peaked at 132 MB RSS
// without a limit (#11). A GOMEMLIMIT in the environment wins, "off"
// included: the operator chose. There is no config key: Unbound, Knot
// Resolver and PowerDNS Recursor bound their caches but have no
// process-wide limit to mirror, and GOMEMLIMIT (Environment= in the
// systemd unit) is Go's own knob.
//
// The limit is the sum of:
//   - the [cache] size and a quarter more: the weigher's estimate is what
//     the budget counts; the heap measured 1.19x it for RRsets
//     (TestMemoryBudget) and 1.27x for the packet cache under a flood;
//   - memoryFixedOverhead: the process with empty caches (runtime,
//     metrics, root hints and trust anchors, listeners' buffers) and the
//     tables bounded by count outside the budget (rate limiters, upstream
//     server and zone tables, TCP connections, the UI ring, the cachedb
//     write queue);
//   - memoryPerSlot per resolution running now, and memorySlotHeadroom
//     more (at most [server] max-inflight in all): what a resolution in
//     flight holds, with the queries waiting on it. serve follows the
//     count (memoryLimiter.follow) rather than counting every slot always:
//     with the default 1000 slots that term alone was 62.5 MiB, more than
//     the 64 MiB cache's live heap, and the limit (174.5 MiB) never took
//     effect (bench/memory.sh, 10^5 names: RSS 108 MiB, heap goal 81 MB).
//
// A limit below the live heap would make the collector run all the time
// (Go caps it at half the CPU); these figures leave room above what was
// measured, and TestServeMemoryBudget checks a flood stays under it.
const (
	// memoryFixedOverhead: the whole process measured 12 MB of heap
	// besides its caches under a flood at 300 resolutions in flight
	// (which memoryPerSlot counts now), 4.4 MB idle (bench/memory.sh
	// PROFILE_DIR); at their bounds the tables outside the budget add
	// some 10 MiB (each bound is commented where it is set); 24 MiB
	// covers both with room.
	memoryFixedOverhead = 24 << 20
	// memoryPerSlot: server.InflightBytes, measured. When the queries
	// waiting on each slot (up to four, server's pendingPerSlot) are all
	// full, a slot may hold more: the limit is then exceeded and the
	// collector runs more often, which is the trade a soft limit makes.
	memoryPerSlot = server.InflightBytes
	// memorySlotHeadroom: slots counted beyond those running, for the
	// resolutions that start between two looks (memoryFollowInterval):
	// 64 slots (4 MiB) is more than a 100 ms burst starts here, where
	// backlog shedding drops a miss that waited 50 ms and a cold
	// resolution takes some 0.2 ms of CPU (#11's flood profile).
	memorySlotHeadroom = 64
	// memoryFollowInterval is how often serve looks at the resolutions
	// running to move the limit, and at the live heap to move the
	// collector's target (gctarget.go): often enough that a flood's
	// slots are counted within a few collections, rarely enough to cost
	// nothing.
	memoryFollowInterval = 100 * time.Millisecond
)

// memoryLimit is the soft limit for cfg with running resolutions in
// flight.
func memoryLimit(cfg *config.Config, running int) int64 {
	size := cache.SplitBudget(int64(cfg.Cache.Size)).Total
	slots := int64(cfg.Server.MaxInflight)
	if slots <= 0 {
		slots = server.DefaultMaxInflight
	}
	slots = min(int64(max(running, 0))+memorySlotHeadroom, slots)
	return size + size/4 + memoryFixedOverhead + slots*memoryPerSlot
}

// memoryLimiter keeps the soft limit at memoryLimit for the resolutions
// running.
type memoryLimiter struct {
	cfg  *config.Config
	set  func(int64) int64
	prev int64 // the limit before serve's, put back by restore

	mu    sync.Mutex // guards limit
	limit int64      // the limit set last
}

// applyMemoryLimit sets memoryLimit(cfg, 0) with set (nil means
// debug.SetMemoryLimit) unless getenv("GOMEMLIMIT") is set, and returns a
// limiter that moves it and puts the previous limit back; nil when the
// environment's limit is kept.
func applyMemoryLimit(cfg *config.Config, getenv func(string) string, set func(int64) int64) *memoryLimiter {
	if getenv("GOMEMLIMIT") != "" {
		return nil
	}
	if set == nil {
		set = debug.SetMemoryLimit
	}
	l := &memoryLimiter{cfg: cfg, set: set, limit: memoryLimit(cfg, 0)}
	l.prev = set(l.limit)
	return l
}

// update sets the limit for running resolutions; it returns the limit in
// force.
func (l *memoryLimiter) update(running int) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v := memoryLimit(l.cfg, running); v != l.limit {
		l.limit = v
		l.set(v)
	}
	return l.limit
}

// followMemory looks again at every tick until ctx ends: the limiter l
// moves the limit for the resolutions running, then the collector's
// target g follows the live heap under it (gctarget.go). Either is nil
// when the environment's GOMEMLIMIT or GOGC is kept.
func followMemory(ctx context.Context, tick <-chan time.Time, running func() int, l *memoryLimiter, g *gcTarget) {
	for { // until ctx ends, with serve
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		if l != nil {
			l.update(running())
		}
		if g != nil {
			g.update()
		}
	}
}

// restore puts back the limit in force before applyMemoryLimit.
func (l *memoryLimiter) restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.set(l.prev)
}
