package server

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Resolution slots with jostling (Unbound's num-queries-per-thread and
// jostle-timeout): at most max resolutions run at once. The first half of
// the slots run to completion; a resolution that starts while half or more
// are taken may be jostled: when every slot is taken, a new resolution
// takes the slot of the oldest jostleable one that has run longer than the
// jostle timeout, which is cancelled and answered SERVFAIL at once. So a
// flood of slow questions (a dead zone's random subdomains) cannot hold
// every slot while new questions, legitimate ones among them, wait: the
// new replace the old that have had their round trip, and half the slots
// keep their work whatever comes. Without such a resolution the newcomer
// is shed (overload.go) as before.

// DefaultJostleTimeout is Unbound's jostle-timeout (200 ms): about one
// round trip to an authoritative server, what a resolution is granted
// before a newcomer may take its slot when the server is full.
const DefaultJostleTimeout = 200 * time.Millisecond

// errJostled is the cause of a resolution cancelled to free its slot.
var errJostled = errors.New("server: resolution jostled out by newer queries (all slots busy)")

// slots bounds running resolutions and jostles when full.
type slots struct {
	max     int
	timeout time.Duration // <= 0: never jostle
	now     func() time.Time

	mu     sync.Mutex // guards the following
	used   int
	jostle *list.List // of *slot, oldest first: the jostleable ones
}

// slot is one running resolution.
type slot struct {
	start  time.Time
	cancel context.CancelCauseFunc
	elem   *list.Element // in slots.jostle; nil when protected or gone
	gone   bool          // jostled: its slot was given away
}

func newSlots(max int, timeout time.Duration, now func() time.Time) *slots {
	return &slots{max: max, timeout: timeout, now: now, jostle: list.New()}
}

// acquire takes a slot for a resolution that cancel stops, jostling the
// oldest jostleable resolution past the timeout when every slot is taken;
// nil when there is none to take.
func (t *slots) acquire(cancel context.CancelCauseFunc) *slot {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if t.used >= t.max {
		front := t.jostle.Front()
		if t.timeout <= 0 || front == nil || now.Sub(front.Value.(*slot).start) < t.timeout {
			return nil
		}
		old := t.jostle.Remove(front).(*slot)
		old.elem, old.gone = nil, true
		old.cancel(errJostled)
		t.used--
	}
	s := &slot{start: now, cancel: cancel}
	if t.used >= t.max/2 {
		s.elem = t.jostle.PushBack(s)
	}
	t.used++
	return s
}

// inUse returns how many slots are taken.
func (t *slots) inUse() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.used
}

// release gives s back, unless it was jostled (its slot already was).
func (t *slots) release(s *slot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.gone {
		return
	}
	if s.elem != nil {
		t.jostle.Remove(s.elem)
		s.elem = nil
	}
	s.gone = true
	t.used--
}
