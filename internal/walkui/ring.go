package walkui

import (
	"net/netip"
	"sync"
	"time"

	"github.com/addrwalk/addrwalk/internal/walkview"
	"github.com/addrwalk/addrwalk/resolver"
)

const (
	// DefaultRingSize is how many recent resolutions the page can show.
	// A traced resolution holds its steps (about 1 KB each, a few dozen
	// for a cold walk), so 256 of them stay within a few megabytes.
	DefaultRingSize = 256
	// maxSubscribers bounds live pages following new resolutions; each
	// holds a connection and a channel.
	maxSubscribers = 16
	// subscriberBuffer is how many resolutions a slow live page may lag
	// before it misses some (it is told, and reloads the list).
	subscriberBuffer = 64
)

// Ring keeps the most recent resolutions with their traces and tells live
// pages about new ones. It implements server.TraceSink. The zero value is
// not usable; call NewRing.
//
// A resolution is kept as the resolver gave it and turned into the page's
// form (walkview.FromResult) only when a page asks for it: serve records
// every resolution while the debug listener is on, and converting each
// one made some 2 KB of garbage per resolution, 13 % of all a cold fill
// allocated (bench/memory.sh heap profile), for pages nobody was reading.
type Ring struct {
	now func() time.Time

	mu   sync.Mutex // guards the following
	buf  []*kept
	next int    // where the next resolution goes in buf
	seq  uint64 // the last ID given
	subs map[*subscriber]struct{}
}

// kept is one resolution in the ring: what Record was given until a page
// needs it, then its page form alone. It changes only under Ring.mu.
type kept struct {
	id        uint64
	when      time.Time
	client    netip.AddrPort
	transport string
	name      string
	qtype     uint16
	res       *resolver.Result
	err       error
	view      *walkview.Resolution // nil until first shown
}

// resolution returns k in the page's form, converting it the first time.
func (k *kept) resolution() *walkview.Resolution {
	if k.view != nil {
		return k.view
	}
	v := walkview.FromResult(k.name, k.qtype, k.res, k.err)
	if k.client.IsValid() {
		v.Client = k.client.Addr().Unmap().String()
	}
	if k.transport != "" {
		v.Client += " (" + k.transport + ")"
	}
	v.ID, v.When = k.id, k.when
	k.view, k.res, k.err = &v, nil, nil
	return k.view
}

type subscriber struct {
	ch     chan *walkview.Resolution
	missed bool // the buffer was full: a resolution was dropped
}

// NewRing returns a ring of size resolutions (DefaultRingSize when size
// is not positive); now is the clock, nil meaning time.Now.
func NewRing(size int, now func() time.Time) *Ring {
	if size <= 0 {
		size = DefaultRingSize
	}
	if now == nil {
		now = time.Now
	}
	return &Ring{now: now, buf: make([]*kept, size), subs: map[*subscriber]struct{}{}}
}

// Record keeps one resolution; it never blocks. res must not change
// afterwards: it is read when a page shows it.
func (r *Ring) Record(client netip.AddrPort, transport string, name string, qtype uint16, res *resolver.Result, err error) {
	k := &kept{client: client, transport: transport, name: name, qtype: qtype, res: res, err: err}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	k.id, k.when = r.seq, r.now()
	r.buf[r.next] = k
	r.next = (r.next + 1) % len(r.buf)
	if len(r.subs) == 0 {
		return
	}
	v := k.resolution()
	for s := range r.subs {
		select {
		case s.ch <- v:
		default:
			s.missed = true
		}
	}
}

// List returns the kept resolutions, newest first.
func (r *Ring) List() []*walkview.Resolution {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*walkview.Resolution, 0, len(r.buf))
	for i := 1; i <= len(r.buf); i++ {
		k := r.buf[(r.next-i+len(r.buf))%len(r.buf)]
		if k == nil {
			break
		}
		out = append(out, k.resolution())
	}
	return out
}

// Get returns the resolution with id, if it is still kept.
func (r *Ring) Get(id uint64) *walkview.Resolution {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.buf {
		if k != nil && k.id == id {
			return k.resolution()
		}
	}
	return nil
}

// subscribe registers a live page; ok is false when too many follow.
func (r *Ring) subscribe() (*subscriber, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.subs) >= maxSubscribers {
		return nil, false
	}
	s := &subscriber{ch: make(chan *walkview.Resolution, subscriberBuffer)}
	r.subs[s] = struct{}{}
	return s, true
}

func (r *Ring) unsubscribe(s *subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.subs, s)
}

// takeMissed reports and clears whether s missed resolutions.
func (r *Ring) takeMissed(s *subscriber) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := s.missed
	s.missed = false
	return m
}
