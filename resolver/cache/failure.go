package cache

import (
	"fmt"
	"time"
	"unsafe"
)

// FailureHit is a remembered resolution failure (RFC 9520).
type FailureHit struct {
	// Err is the error MarkFailed was given; it may be nil.
	Err error
	// Remaining is how long the failure is still remembered.
	Remaining time.Duration
	// TTL is how long it was remembered for: FailureTTL, or BogusTTL.
	TTL time.Duration
}

// MarkFailed remembers for Config.FailureTTL that resolving name, qtype and
// qclass failed (SERVFAIL, all servers timed out, ...), so that requests
// arriving meanwhile fail at once instead of resolving again (RFC 9520
// §3.2). err, which may be nil, is returned by Failed. A later failure
// restarts the window.
func (c *Cache) MarkFailed(name string, qtype, qclass uint16, err error) error {
	return c.markFailed(name, qtype, qclass, err, c.cfg.FailureTTL)
}

// MarkBogus is MarkFailed for a resolution whose data failed DNSSEC
// validation: it is remembered for Config.BogusTTL (Unbound's
// val-bogus-ttl) instead.
func (c *Cache) MarkBogus(name string, qtype, qclass uint16, err error) error {
	return c.markFailed(name, qtype, qclass, err, c.cfg.BogusTTL)
}

func (c *Cache) markFailed(name string, qtype, qclass uint16, err error, ttl time.Duration) error {
	if name == "" {
		return fmt.Errorf("cache: %w: empty name", ErrInvalid)
	}
	f := &failEntry{
		entry: entry{
			inserted: c.tick(c.now()),
			ttl:      ttl,
			kind:     kindFailure,
			weight:   entryOverhead + failExtra,
		},
		err: err,
	}
	k := key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindFailure}
	c.parts[kindFailure].add(1, weigh(k, &f.entry)) // before the write: see put
	c.store.Set(k, &f.entry)
	return nil
}

// failEntry is a failure's entry: the entry the store holds, and the
// error, which only failures have, so that every other entry stays at 64
// bytes. The store keeps a pointer to the entry, the failEntry's first
// field, which keeps the whole failEntry alive.
type failEntry struct {
	entry
	err error
}

// failExtra is what a failEntry weighs beyond an entry: its error field
// and the larger allocation.
const failExtra = 16

// failErr returns the error of e, a failure's entry.
func failErr(e *entry) error {
	if e.kind != kindFailure {
		return nil
	}
	// Every kindFailure entry is allocated as a failEntry (markFailed),
	// whose first field it is.
	return (*failEntry)(unsafe.Pointer(e)).err
}

// Failed reports whether resolving name, qtype and qclass failed less than
// Config.FailureTTL (or, marked by MarkBogus, Config.BogusTTL) ago. It
// does not count as a hit or miss.
func (c *Cache) Failed(name string, qtype, qclass uint16) (FailureHit, bool) {
	e, ok := c.store.GetIfPresent(key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindFailure})
	if !ok {
		return FailureHit{}, false
	}
	left := e.left(c.tick(c.now()))
	if left <= 0 {
		return FailureHit{}, false
	}
	return FailureHit{Err: failErr(e), Remaining: left, TTL: e.ttl}, true
}

// ClearFailed forgets a failure remembered for name, qtype and qclass, for
// instance once a resolution succeeded.
func (c *Cache) ClearFailed(name string, qtype, qclass uint16) {
	c.store.Invalidate(key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindFailure})
}
