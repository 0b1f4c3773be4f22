package server

import (
	"net/netip"
	"sync"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
)

// TraceSink receives the resolutions the server ran, with their traces
// (all of them up to a rate: traceRate): the debug page's list of recent
// resolutions (internal/walkui keeps them in a ring). Record is called on the resolving goroutine, once per
// resolution (not per client waiting on it), and must not block.
type TraceSink interface {
	Record(client netip.AddrPort, transport string, name string, qtype uint16, res *resolver.Result, err error)
}

// The TraceSink is given at most traceRate resolutions a second with
// their walks, after a burst of traceBurst: the sink is the debug page's
// list of recent resolutions (256 by default, serve's --ui-ring), which a
// person reads one at a time, so at 50 a second it still shows the last
// five seconds, and a burst the size of a page load's names is traced
// whole. Tracing every resolution of a flood of cache misses was 11 % of
// the bytes the server allocated (#11). Names watched with TraceOn are
// traced whatever the rate.
const (
	traceRate  = 50
	traceBurst = 64
)

// traceGate is the token bucket of traceRate.
type traceGate struct {
	mu sync.Mutex // guards b
	b  bucket
}

// take reports whether a resolution starting now may be traced for the
// sink.
func (g *traceGate) take(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.b.last.IsZero() {
		g.b = bucket{tokens: traceBurst, last: now}
	}
	return g.b.take(now, traceRate, traceBurst)
}

// traced is what a resolution hands to the TraceSink; kept on the answer
// only while the sink is set.
type traced struct {
	res *resolver.Result
	err error
}

// recordTrace gives a finished resolution to the sink, if one is set, and
// to the runtime trace watch if its name is watched. Answers from the
// packet cache never get here: they run no resolution.
func (h *Handler) recordTrace(req resolver.Request, client netip.AddrPort, transport string, a *answer) {
	if a == nil || a.traced == nil {
		return
	}
	if h.traces != nil {
		h.traces.Record(client, transport, req.Name, req.Type, a.traced.res, a.traced.err)
	}
	h.watch.record(h, req, client, transport, a.traced.res, a.traced.err)
	a.traced = nil
}
