package cache

import (
	"fmt"
	"time"
)

// FailureHit is a remembered resolution failure (RFC 9520).
type FailureHit struct {
	// Err is the error MarkFailed was given; it may be nil.
	Err error
	// Remaining is how long the failure is still remembered.
	Remaining time.Duration
}

// MarkFailed remembers for Config.FailureTTL that resolving name, qtype and
// qclass failed (SERVFAIL, all servers timed out, ...), so that requests
// arriving meanwhile fail at once instead of resolving again (RFC 9520
// §3.2). err, which may be nil, is returned by Failed. A later failure
// restarts the window.
func (c *Cache) MarkFailed(name string, qtype, qclass uint16, err error) error {
	if name == "" {
		return fmt.Errorf("cache: %w: empty name", ErrInvalid)
	}
	e := &entry{
		err:      err,
		inserted: c.now(),
		ttl:      c.cfg.FailureTTL,
		keep:     c.cfg.FailureTTL,
		kind:     kindFailure,
		weight:   entryOverhead,
	}
	c.store.Set(key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindFailure}, e)
	return nil
}

// Failed reports whether resolving name, qtype and qclass failed less than
// Config.FailureTTL ago. It does not count as a hit or miss.
func (c *Cache) Failed(name string, qtype, qclass uint16) (FailureHit, bool) {
	e, ok := c.store.GetIfPresent(key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindFailure})
	if !ok {
		return FailureHit{}, false
	}
	left := e.ttl - c.now().Sub(e.inserted)
	if left <= 0 {
		return FailureHit{}, false
	}
	return FailureHit{Err: e.err, Remaining: left}, true
}

// ClearFailed forgets a failure remembered for name, qtype and qclass, for
// instance once a resolution succeeded.
func (c *Cache) ClearFailed(name string, qtype, qclass uint16) {
	c.store.Invalidate(key{name: canonicalName(name), qtype: qtype, class: qclass, kind: kindFailure})
}
