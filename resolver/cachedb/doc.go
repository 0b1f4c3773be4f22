// Package cachedb is the resolver's shared second-level cache on Redis or
// Valkey, as Unbound's cachedb module with its Redis backend: several
// addrwalk instances share what each resolved, so a name one resolved cold
// is answered by the others with no upstream query.
//
// [Store] implements cache.Shared. The resolver asks it after a miss in
// its local cache and before resolving, and offers it every piece of an
// answer it resolved, validated and found not bogus, with the piece's
// DNSSEC status (RFC 4035 §4.3) and absolute expiry. The Redis key TTL is
// the entry's TTL after the local cache's clamps (RFC 2181 §8, RFC 2308 §5
// for negative answers), so Redis drops what the resolver would.
//
// Redis is an optimisation, never a dependency: lookups give up after a
// short read timeout, writes are queued (bounded, drops counted) and sent
// in pipelined batches off the answer path, and after a few failures in a
// row the store stops asking until a probe, retried with backoff, finds
// Redis back. Values are untrusted input: the decoder checks every length
// and field, accepts only the exact bytes the encoder writes for the key
// it was read under, and a value that fails is deleted and counted.
//
// The client is github.com/redis/go-redis/v9, Redis's own Go client: one
// UniversalClient covers a single server, a Sentinel set and a Cluster,
// with ACL users, TLS and per-call context deadlines.
//
// Files:
//
//   - config.go: Config, its defaults and their reasons.
//   - codec.go: the value format (Encode, Decode), bounds-checked.
//   - store.go: Store: Get, Put, the write queue, the prober.
//   - health.go: the up/down state, logged once per change.
//   - stats.go: counters and the Prometheus collector.
package cachedb
