package resolver

import (
	"net/netip"
	"sync/atomic"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// Unwanted replies (Unbound's unwanted-reply-threshold): a datagram that
// arrives on a query's socket from the server's own address and port but
// with the wrong ID or question is what a blind forger's guesses look like
// (the kernel already drops datagrams from any other source on the
// connected socket). It is ignored, and counted; when the count passes the
// threshold the resolver assumes a poisoning attempt is under way, logs it
// and flushes its cache, so anything a lucky forgery planted goes with it.

// DefaultUnwantedReplyThreshold is Unbound's suggested value (10 million):
// high enough that stray late replies on a busy resolver never reach it,
// low enough that a forger, who needs some 2^31 guesses on average against
// random ports and IDs, trips it long before succeeding.
const DefaultUnwantedReplyThreshold = 10_000_000

// unwanted counts unwanted replies.
type unwanted struct {
	sinceTrip atomic.Uint64
	total     atomic.Uint64
	trips     atomic.Uint64
}

// unwantedReply is the NetExchanger's OnUnwanted hook.
func (r *Resolver) unwantedReply(server netip.AddrPort) {
	r.unw.total.Add(1)
	threshold := r.cfg.UnwantedReplyThreshold // negative: off
	if threshold <= 0 || r.unw.sinceTrip.Add(1) < uint64(threshold) {
		return
	}
	r.unw.sinceTrip.Store(0)
	r.unw.trips.Add(1)
	n := 0
	if r.cache != nil {
		n = r.cache.Flush(cache.Selector{})
	}
	r.cfg.Logger.Warn("resolver: unwanted-reply threshold reached: possible cache-poisoning attempt; cache flushed",
		"threshold", threshold, "last_server", server, "entries_flushed", n)
}

// UnwantedReplies returns how many unwanted replies arrived and how many
// times they reached the threshold (each time the cache was flushed).
func (r *Resolver) UnwantedReplies() (total, trips uint64) {
	return r.unw.total.Load(), r.unw.trips.Load()
}
