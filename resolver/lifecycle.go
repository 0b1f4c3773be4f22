package resolver

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by requests made after Close began: a server that
// swapped in a new Resolver on reload asks that one instead.
var ErrClosed = errors.New("resolver: closed")

// lifecycle drains a Resolver before it closes: requests in flight finish
// (each bounded by RequestTimeout), background work (prefetches, RFC 8145
// signals) is cancelled, then the caches New made are closed. New work
// registers under mu and only while the resolver is open, so no
// WaitGroup.Add can race the Wait in Close.
type lifecycle struct {
	mu     sync.Mutex // guards closed and the Adds below
	closed bool
	reqs   sync.WaitGroup // requests in flight (Query, Refresh, RefreshTrustAnchors)
	bg     sync.WaitGroup // background resolutions (prefetch, key-tag signals)
	// bgCtx ends when Close begins cancelling background work.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	// bgq is a semaphore bounding background resolutions.
	bgq chan struct{}
}

// maxBackgroundInFlight bounds background resolutions (prefetches and key
// tag signals): they are an optimisation, and must never compete with
// client questions for more than a few sockets.
const maxBackgroundInFlight = 8

func (l *lifecycle) init() {
	l.bgCtx, l.bgCancel = context.WithCancel(context.Background())
	l.bgq = make(chan struct{}, maxBackgroundInFlight)
}

// enter registers a request; it reports false once Close has begun.
// Each true must be matched by a call to leave.
func (l *lifecycle) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.reqs.Add(1)
	return true
}

func (l *lifecycle) leave() { l.reqs.Done() }

// background runs fn on its own goroutine with the background context if
// the resolver is open and a slot is free; otherwise it drops it (the
// entry simply expires and is fetched on demand, the next key refresh
// signals again).
func (l *lifecycle) background(fn func(ctx context.Context)) {
	select {
	case l.bgq <- struct{}{}:
	default:
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.bgq
		return
	}
	l.bg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.bg.Done()
		defer func() { <-l.bgq }()
		fn(l.bgCtx)
	}()
}

// close refuses new work, waits for the requests in flight, then cancels
// the background work and waits for it. It reports false if it had run
// before.
func (l *lifecycle) close() bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.closed = true
	l.mu.Unlock()
	l.reqs.Wait()
	if l.bgCancel != nil {
		l.bgCancel()
	}
	l.bg.Wait()
	return true
}

// Close drains the Resolver and releases what New made: new requests get
// ErrClosed at once; requests in flight finish (each is bounded by
// RequestTimeout); background prefetches are cancelled and waited for;
// then the cache and infrastructure cache are closed if New made them.
// A server swapping resolvers on reload may call it while the old one is
// still answering. Close may be called more than once.
func (r *Resolver) Close() {
	if !r.life.close() {
		return
	}
	if r.ownCache && r.cache != nil {
		r.cache.Close()
	}
	if r.ownInfra && r.infra != nil {
		r.infra.Close()
	}
	if r.up != nil {
		r.up.close()
	}
}

// prefetch refreshes name/qtype in the background if a slot is free.
func (r *Resolver) prefetch(name string, qtype, class uint16) {
	r.life.background(func(ctx context.Context) {
		r.query(ctx, Request{Name: name, Type: qtype, Class: class, refresh: cacheKey(name, qtype, class)})
	})
}
