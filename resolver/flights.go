package resolver

import (
	"context"
	"errors"
	"sync"
)

// maxFlightRetries bounds how often one Query starts its question again
// after the resolution it joined was cancelled by its first caller: each
// retry needs another first caller to give up during this caller's wait,
// so a third in a row means callers give up faster than resolutions end,
// and this one gets the cancellation too.
const maxFlightRetries = 2

// flights shares one resolution among identical concurrent Query calls.
// The first caller runs it on its own goroutine, under its own context:
// no goroutine is started per resolution (a fresh goroutine's stack grew
// through the resolver's depth on every cache miss, 8 % of a flood's
// CPU, #11), and a resolution whose caller gives up (a server jostling
// it out of its slot) stops instead of running on unbounded. Callers that
// join wait until it ends or their own context does; when it was
// cancelled, a joiner whose context is alive asks again.
type flights struct {
	mu sync.Mutex // guards m
	m  map[string]*flight
}

// flight is one resolution in progress.
type flight struct {
	done chan struct{} // closed when res and err are set
	res  *Result
	err  error
	// joined counts the callers that joined; cancelled says the first
	// caller's context ended before the resolution did. Both are read
	// after done is closed.
	joined    int
	cancelled bool
}

// do runs fn for key, or joins the run in progress. shared says the
// result went to more than one caller. A joiner whose ctx ends first gets
// ctx's error (wrapped by the caller) and a nil result.
func (f *flights) do(ctx context.Context, key string, fn func() (*Result, error)) (res *Result, err error, shared bool) {
	for try := 0; ; try++ {
		f.mu.Lock()
		if c, ok := f.m[key]; ok {
			c.joined++
			f.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, ctx.Err(), true
			case <-c.done:
			}
			if c.cancelled && ctx.Err() == nil && try < maxFlightRetries {
				continue
			}
			return c.res, c.err, true
		}
		if f.m == nil {
			f.m = map[string]*flight{}
		}
		c := &flight{done: make(chan struct{})}
		f.m[key] = c
		f.mu.Unlock()
		return f.run(ctx, key, c, fn)
	}
}

// errFlightPanicked is what the joiners of a resolution that panicked
// get; the panic itself goes on up the first caller's goroutine.
var errFlightPanicked = errors.New("resolver: the shared resolution panicked")

// run runs fn as c, the flight of key, and ends the flight however fn
// ends: a panic too ends it (its joiners get errFlightPanicked) before it
// goes on up the caller's goroutine, where the server recovers it. Left
// in the map, the flight would hold every later caller of key until its
// own context ended, for as long as the process runs.
func (f *flights) run(ctx context.Context, key string, c *flight, fn func() (*Result, error)) (res *Result, err error, shared bool) {
	c.err = errFlightPanicked
	defer func() {
		f.mu.Lock()
		delete(f.m, key)
		c.cancelled = ctx.Err() != nil
		shared = c.joined > 0
		f.mu.Unlock()
		close(c.done)
	}()
	c.res, c.err = fn()
	return c.res, c.err, false
}
