// Package cache holds the data structures behind the iterative resolver's
// memory. It resolves nothing itself: the resolver inserts what it learned and
// looks it up again.
//
//   - RRset cache: RRsets with their covering RRSIGs, keyed by lower-cased
//     owner name, type and class, each with a trust [Rank] (RFC 2181 §5.4.1)
//     and a DNSSEC [Security] status (RFC 4035 §4.3). Lower-ranked data never
//     replaces higher-ranked data that is still fresh. TTLs count down from
//     insertion (RFC 1035 §3.2.1, RFC 2181 §8); all RRs of a set share the
//     set's smallest TTL (RFC 2181 §5.2).
//   - Negative cache (RFC 2308): NXDOMAIN per name and class, NODATA per
//     name, type and class, with the SOA and any NSEC/NSEC3 proof to put in the
//     authority section; TTL = min(SOA TTL, SOA MINIMUM) (RFC 2308 §5).
//   - Serve-stale (RFC 8767): expired data is kept for [Config.StaleMax] and
//     returned, flagged stale with TTL [StaleTTL], only when asked for.
//   - Prefetch hint: a hit in the last tenth of an entry's TTL reports that
//     the caller may refresh it.
//   - Failure cache (RFC 9520): a resolution that failed is remembered for a
//     short window so retry storms do not resolve it again.
//   - NSEC store (RFC 8198): validated NSEC and NSEC3 records per zone, with
//     the zone's signed SOA, for the resolver's aggressive negative answers
//     ([Cache.LearnNSEC], [Cache.NSECZone]); a record never outlives the
//     SOA's negative TTL (RFC 8198 §5.4). A budget of its own
//     ([Config.NSECBytes]); otter weighs, expires and evicts whole zones.
//   - Infrastructure cache ([Infra]): smoothed RTT and RTO per server and zone,
//     and per server across zones (RFC 6298), lame and timed-out servers, and
//     server selection ([Infra.Select]): servers never asked first, then the
//     fastest, exploring another one pick in 20, as Knot Resolver does.
//
// Memory is bounded by byte budgets ([Config.MaxBytes], [Config.NSECBytes],
// [InfraConfig.MaxBytes]) enforced by github.com/maypok86/otter/v2, which
// also drops entries once they are past their TTL and stale window, and
// evicts by W-TinyLFU, so a flood of names seen once evicts itself rather
// than what is in use. [SplitBudget] derives every part from one budget;
// [Stats.Parts] and [Infra.Part] report each part's entries and bytes.
// Freshness is always decided against the injected clock ([Config.Now]),
// which is also the clock otter runs on.
//
// Entries keep their records packed in wire form, one byte slice each
// (pack.go): a one-A RRset costs about 223 heap bytes in all, and the
// negative answers of a zone share one copy of its SOA and the RRSIGs over
// it, which one of them weighs (TestBytesPerEntry, TestSOACarrier). The NSEC store keeps each record decoded, for the
// aggressive proofs that read them all, and its RRSIGs packed
// (TestNSECBytesPerRecord).
//
// Files: cache.go (the store, weights, copies), pack.go (the packed form
// of records), config.go, budget.go (the
// shares of one budget), rrset.go, negative.go, soaweight.go (which
// negative entry weighs a zone's shared SOA), failure.go, nsec.go
// (RFC 8198), infra.go (RTTs, timeouts, lameness), select.go
// (server selection), rank.go, admin.go (flushes, delegations), dump.go
// (dump and load), shared.go (the second-level cache seam), settings.go.
//
// Every RR that leaves the cache is a copy: callers may change TTLs or
// anything else without touching shared data. RRs handed to Insert are
// copied too, so the caller may reuse them.
package cache
