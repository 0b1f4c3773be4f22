package server

// The server has two bounded, sharded maps: the packet cache (pcache.go,
// replies by wire key) and the rate limiter (ratelimit.go, token buckets
// by client network; refuse.go's REFUSED limit is a second instance).
// They share the policy (a bound per shard, arbitrary entries evicted when
// a shard is full; the rate limiter through evictOne, the packet cache
// inline because it also accounts each evicted entry's bytes) but not a
// type, on purpose:
//   - the packet cache is the UDP hot path: its lookups take a read lock
//     and index a map[string] with string(key) of a []byte, which the
//     compiler does without allocating only when written inline, not
//     through a generic accessor;
//   - the rate limiter creates and mutates its bucket under the shard's
//     write lock on every query, and hashes a netip.Prefix
//     (maphash.Comparable), not bytes.
// A generic map would have to give up the first or hide the second.

// evictOne deletes an arbitrary entry of m (Go's map iteration order is
// random), to make room in a full shard. Random eviction needs no
// bookkeeping per hit, and an attacker cannot aim it at given entries.
func evictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}
