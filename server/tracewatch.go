package server

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// Limits of runtime tracing (`addrwalk ctl trace-on NAME`). Each bounds
// what a forgotten command can cost a busy server.
const (
	// MaxTraceNames bounds the names traced at once. An operator chases
	// a handful of names; every watched name's resolutions are recorded
	// step by step (an allocation per step) and logged.
	MaxTraceNames = 16
	// DefaultTraceCount is how many resolutions of a name are recorded
	// before its watch ends by itself: a cold walk, cache hits and a
	// retry or two.
	DefaultTraceCount = 10
	// MaxTraceCount caps that number, so that watching a popular name
	// (thousands of queries a second) records and logs a burst, not a
	// flood.
	MaxTraceCount = 100
	// DefaultTraceFor is how long a watch lasts when its name is not
	// asked that often: long enough to reproduce a problem by hand.
	DefaultTraceFor = 10 * time.Minute
	// MaxTraceFor caps it: a watch nobody turned off must end.
	MaxTraceFor = time.Hour
	// traceKeep is how many recorded resolutions, of every name
	// together, trace-dump can show; the oldest go first. A cold walk's
	// trace is a few dozen steps of about 1 KB (the resolver's per-request
	// query budget bounds them), so 64 stay within a few megabytes.
	traceKeep = 64
)

// ErrTraceLimit is returned by TraceOn when MaxTraceNames names are
// already traced.
var ErrTraceLimit = fmt.Errorf("server: already tracing %d names (the most at once); trace-off one first", MaxTraceNames)

// TraceWatch is a name whose resolutions are being recorded.
type TraceWatch struct {
	Name     string    `json:"name"`     // canonical, fully qualified
	Left     int       `json:"left"`     // resolutions still to record
	Recorded int       `json:"recorded"` // resolutions recorded so far
	Until    time.Time `json:"until"`    // when the watch ends regardless
}

// WatchedTrace is one recorded resolution of a watched name.
type WatchedTrace struct {
	Seq       uint64           `json:"seq"`
	When      time.Time        `json:"when"`
	Client    string           `json:"client,omitempty"`
	Transport string           `json:"transport,omitempty"`
	Name      string           `json:"name"`
	Type      uint16           `json:"type"`
	Result    *resolver.Result `json:"-"`
	Err       error            `json:"-"`
}

// traceWatch holds the watched names and what was recorded. The query
// path reads only active while nothing is watched.
type traceWatch struct {
	active atomic.Int32 // len(names), for the lock-free check

	mu    sync.Mutex // guards the following
	names map[string]*TraceWatch
	kept  []*WatchedTrace // a ring of traceKeep
	next  int             // where the next one goes in kept
	seq   uint64
}

// canonicalName is name lower-cased and fully qualified.
func canonicalName(name string) string { return dns.CanonicalName(name) }

// TraceOn records the next count resolutions of name (at most
// MaxTraceCount; 0 means DefaultTraceCount), for at most d (at most
// MaxTraceFor; 0 means DefaultTraceFor): traces appear in the log and in
// WatchedTraces. Watching a name again restarts its watch.
func (h *Handler) TraceOn(name string, count int, d time.Duration) (TraceWatch, error) {
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return TraceWatch{}, fmt.Errorf("server: %q is not a domain name", name)
	}
	if count <= 0 {
		count = DefaultTraceCount
	}
	if d <= 0 {
		d = DefaultTraceFor
	}
	count, d = min(count, MaxTraceCount), min(d, MaxTraceFor)
	w := &h.watch
	now := h.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(now, h)
	name = canonicalName(name)
	if _, ok := w.names[name]; !ok && len(w.names) >= MaxTraceNames {
		return TraceWatch{}, ErrTraceLimit
	}
	if w.names == nil {
		w.names = map[string]*TraceWatch{}
	}
	tw := &TraceWatch{Name: name, Left: count, Until: now.Add(d)}
	w.names[name] = tw
	w.active.Store(int32(len(w.names)))
	h.log.Info("trace-on", "name", name, "count", count, "until", tw.Until.UTC().Format(time.RFC3339))
	return *tw, nil
}

// TraceOff ends the watch of name, or of every name when name is "".
// It returns the watches ended.
func (h *Handler) TraceOff(name string) []TraceWatch {
	w := &h.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []TraceWatch
	for n, tw := range w.names {
		if name == "" || n == canonicalName(name) {
			out = append(out, *tw)
			delete(w.names, n)
		}
	}
	w.active.Store(int32(len(w.names)))
	slices.SortFunc(out, func(a, b TraceWatch) int { return strings.Compare(a.Name, b.Name) })
	for _, tw := range out {
		h.log.Info("trace-off", "name", tw.Name, "recorded", tw.Recorded)
	}
	return out
}

// TraceWatches returns the watches in force, by name.
func (h *Handler) TraceWatches() []TraceWatch {
	w := &h.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(h.now(), h)
	out := make([]TraceWatch, 0, len(w.names))
	for _, tw := range w.names {
		out = append(out, *tw)
	}
	slices.SortFunc(out, func(a, b TraceWatch) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// WatchedTraces returns the recorded resolutions still kept, oldest
// first: of name, or of every name when name is "".
func (h *Handler) WatchedTraces(name string) []*WatchedTrace {
	w := &h.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if name != "" {
		name = canonicalName(name)
	}
	var out []*WatchedTrace
	for i := range w.kept {
		t := w.kept[(w.next+i)%len(w.kept)]
		if t != nil && (name == "" || t.Name == name) {
			out = append(out, t)
		}
	}
	return out
}

// expire ends the watches past their time; the caller holds w.mu.
func (w *traceWatch) expire(now time.Time, h *Handler) {
	for n, tw := range w.names {
		if !now.Before(tw.Until) {
			delete(w.names, n)
			h.log.Info("trace-off: expired", "name", n, "recorded", tw.Recorded)
		}
	}
	w.active.Store(int32(len(w.names)))
}

// wants reports whether name (presentation form) is watched now.
func (w *traceWatch) wants(name string, h *Handler) bool {
	if w.active.Load() == 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(h.now(), h)
	_, ok := w.names[canonicalName(name)]
	return ok
}

// wantsWire is wants for a name in wire form (the fast path's): a
// watched name skips the packet cache, so that each of its queries runs a
// resolution (answered from the resolver's cache when it can), which
// records how the answer was found.
func (w *traceWatch) wantsWire(qname []byte, h *Handler) bool {
	if w.active.Load() == 0 {
		return false
	}
	name, _, err := dns.UnpackDomainName(qname, 0)
	return err == nil && w.wants(name, h)
}

// record keeps a finished resolution of a watched name, logs it, and
// ends the watch once its count is reached.
func (w *traceWatch) record(h *Handler, req resolver.Request, client netip.AddrPort, transport string, res *resolver.Result, err error) {
	if w.active.Load() == 0 {
		return
	}
	name := canonicalName(req.Name)
	w.mu.Lock()
	defer w.mu.Unlock()
	tw, ok := w.names[name]
	if !ok {
		return // turned off, or expired, while it resolved
	}
	if len(w.kept) == 0 {
		w.kept = make([]*WatchedTrace, traceKeep)
	}
	w.seq++
	t := &WatchedTrace{Seq: w.seq, When: h.now(), Transport: transport, Name: name, Type: req.Type, Result: res, Err: err}
	if client.IsValid() {
		t.Client = client.Addr().Unmap().String()
	}
	w.kept[w.next] = t
	w.next = (w.next + 1) % len(w.kept)
	tw.Recorded++
	tw.Left--
	args := []any{"seq", t.Seq, "name", name, "type", dns.TypeToString[req.Type], "client", t.Client, "transport", transport, "left", tw.Left}
	if res != nil {
		args = append(args, "rcode", dns.RcodeToString[res.Rcode], "upstream", res.Upstream, "duration", res.Duration)
		if res.Trace != nil {
			args = append(args, "steps", countSteps(res.Trace.Steps))
		}
	}
	if err != nil {
		args = append(args, "err", err)
	}
	h.log.Info("trace: resolution recorded (addrwalk ctl trace-dump "+name+")", args...)
	if tw.Left <= 0 {
		delete(w.names, name)
		w.active.Store(int32(len(w.names)))
		h.log.Info("trace-off: count reached", "name", name, "recorded", tw.Recorded)
	}
}

// countSteps counts the steps of a trace, nested ones included.
func countSteps(steps []*resolver.Step) int {
	n := len(steps)
	for _, s := range steps {
		n += countSteps(s.Steps)
	}
	return n
}
