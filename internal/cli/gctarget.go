package cli

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/resolver/cache"
)

// serve moves the garbage collector's target (GOGC) with the live heap,
// at every look of the memory limiter (memoryFollowInterval).
//
// The collector's CPU grows with how often it runs, which is the bytes
// allocated over the garbage it lets pile up between collections. A
// fixed GOGC=25 kept that garbage at a quarter of the live heap: under a
// flood of new names (#11, 20 MB live) a collection every 5 MB
// allocated, a fifth to a quarter of the resolver's CPU, on a machine
// where that CPU is what the cache hits wait for. The garbage allowed is
// instead:
//
//   - at least a quarter of the live heap (gcMinPercent), the old target,
//     which is what is left when the caches are near their budget;
//   - else up to gcGarbageShare of the [cache] size (16 MiB at the
//     default 64 MiB), but never more than the live heap (gcMaxPercent,
//     Go's default) nor half the room left under the soft memory limit:
//     the heap between collections stays under the limit, and the
//     collector does not run all the time near it.
//
// So a resolver whose caches are small against their budget collects
// rarely under load, and one whose caches are full keeps the old lean
// target. bench/memory.sh (10^5 names, 64 MiB, one build, with and
// without GOGC=25 in the environment): 63 collections instead of 238,
// RSS 70.1 MiB instead of 62.4 (495 bytes per name, not 421). The fill
// took 19.4 s against 20.3, inside the spread of its runs (15.5-19.4 s
// for the same build). A GOGC in the environment wins, "off" included.
const (
	// gcMinPercent is the target at least: a quarter of the live heap
	// in garbage (bench/memory.sh on an earlier build, 10^5 names: RSS
	// 609 bytes per name at 25, 656 at 33, 716-723 at 50; the collector
	// 15-17 %, 13-14 % and 10 % of the fill's CPU).
	gcMinPercent = 25
	// gcMaxPercent is the target at most: Go's default, as much garbage
	// as live data.
	gcMaxPercent = 100
	// gcGarbageShare is the share of the [cache] size the garbage may
	// reach beyond gcMinPercent: a quarter, 16 MiB at the default 64
	// MiB. Under #11's flood (20 MB live) that is a collection every 16
	// MB allocated instead of 5, for some 11 MB more RSS, well inside
	// the limit's quarter over the size.
	gcGarbageShare = 4
	// gcPercentStep rounds the target, so a live heap that moves a little
	// does not set it again at every look.
	gcPercentStep = 5
)

// gcPercentFor is the target for a live heap of live bytes under a soft
// memory limit of limit bytes, for a [cache] size of size bytes.
func gcPercentFor(live, limit, size int64) int {
	if live <= 0 {
		return gcMaxPercent // no collection yet: nothing measured
	}
	garbage := min(size/gcGarbageShare, max(limit-live, 0)/2)
	p := int(garbage * 100 / live)
	p = p / gcPercentStep * gcPercentStep
	return min(max(p, gcMinPercent), gcMaxPercent)
}

// gcTarget sets gcPercentFor as the heap and the limit move.
type gcTarget struct {
	size  int64
	set   func(int) int
	live  func() int64 // the live heap, in bytes (0: unknown)
	limit func() int64 // the soft memory limit in force
	prev  int          // the target before serve's, put back by restore

	mu      sync.Mutex // guards percent
	percent int        // the target set last
}

// applyGCTarget sets the first target with set (nil means
// debug.SetGCPercent) unless getenv("GOGC") is set, and returns a
// gcTarget that moves it and puts the previous one back; nil when the
// environment's GOGC is kept. live and limit, nil, read the runtime's.
func applyGCTarget(cfg *config.Config, getenv func(string) string, set func(int) int, live, limit func() int64) *gcTarget {
	if getenv("GOGC") != "" {
		return nil
	}
	if set == nil {
		set = debug.SetGCPercent
	}
	if live == nil {
		live = liveHeap
	}
	if limit == nil {
		limit = func() int64 { return debug.SetMemoryLimit(-1) } // -1 reads it
	}
	g := &gcTarget{size: cache.SplitBudget(int64(cfg.Cache.Size)).Total, set: set, live: live, limit: limit}
	g.percent = gcPercentFor(live(), limit(), g.size)
	g.prev = set(g.percent)
	return g
}

// update sets the target for the heap and the limit now; it returns the
// target in force.
func (g *gcTarget) update() int {
	p := gcPercentFor(g.live(), g.limit(), g.size)
	g.mu.Lock()
	defer g.mu.Unlock()
	if p != g.percent {
		g.percent = p
		g.set(p)
	}
	return g.percent
}

// restore puts back the target in force before applyGCTarget.
func (g *gcTarget) restore() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.set(g.prev)
}

// liveHeap is the heap the last collection found live (runtime/metrics),
// 0 before the first one or on a runtime without the metric.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
