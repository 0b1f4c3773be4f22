package cachedb

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// State is the store's view of Redis.
type State int32

// States.
const (
	// StateConnecting: not yet reached since the store started.
	StateConnecting State = iota
	// StateUp: lookups and writes go to Redis.
	StateUp
	// StateDown: failThreshold commands in a row failed or timed out, or
	// a probe failed; lookups miss at once and writes are dropped until a
	// probe succeeds.
	StateDown
)

var stateNames = [...]string{StateConnecting: "connecting", StateUp: "up", StateDown: "down"}

// String returns "connecting", "up" or "down".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(?)"
}

// failThreshold is how many commands in a row must fail before the store
// stops asking: one timeout may be a hiccup, three cost at most three read
// timeouts before every later lookup is spared the wait.
const failThreshold = 3

// health tracks the state and logs each change once.
type health struct {
	log   *slog.Logger
	st    atomic.Int32
	fails atomic.Int32 // consecutive failures while up
	wake  chan struct{}

	mu      sync.Mutex // guards the following
	changed chan struct{}
	changes uint64
}

func (h *health) init(log *slog.Logger) {
	h.log = log
	h.wake = make(chan struct{}, 1)
	h.wake <- struct{}{} // probe at once
	h.changed = make(chan struct{})
}

func (h *health) state() State { return State(h.st.Load()) }

// set moves to st and, if that was a change, logs it with logf before
// waking whoever waits for a change (so a waiter finds the line logged).
func (h *health) set(st State, logf func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if State(h.st.Swap(int32(st))) == st {
		return
	}
	h.changes++
	logf()
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *health) up() {
	h.fails.Store(0)
	h.set(StateUp, func() { h.log.Info("cachedb: shared cache up") })
}

func (h *health) down(err error) {
	h.set(StateDown, func() {
		h.log.Warn("cachedb: shared cache down; answering from the local cache and the network", "err", err)
	})
}

func (h *health) succeeded() { h.fails.Store(0) }

// failed counts a failed command; at the threshold the store goes down
// and wake starts the prober.
func (h *health) failed(err error, wake func()) {
	if h.fails.Add(1) < failThreshold || h.state() != StateUp {
		return
	}
	h.down(err)
	wake()
}

// waitChange returns a channel closed at the next state change.
func (h *health) waitChange() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// WaitState waits until the store is in state st or ctx ends.
func (s *Store) WaitState(ctx context.Context, st State) error {
	for {
		ch := s.h.waitChange()
		if s.h.state() == st {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// State returns the store's current view of Redis.
func (s *Store) State() State { return s.h.state() }
