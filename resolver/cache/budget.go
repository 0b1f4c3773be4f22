package cache

// One memory budget covers every cache a resolver keeps (the config file's
// [cache] size), split in fixed shares, as Unbound splits its memory
// between rrset-cache-size and msg-cache-size but from one number. Each
// part enforces its share by evicting, and reports its entries and bytes
// (Stats.Parts, Infra.Part), so the metrics show where memory goes.
//
// What no share covers is bounded by counts instead: requests in flight
// and their state (the server's resolution slots), TCP connections, rate
// limiters' tables. The Go runtime adds its own overhead on top of live
// data: garbage between collections (GOGC) and free pages not yet given
// back.

// Shares of the budget, in percent. They add up to 100.
const (
	// ShareRecords is for RRsets (zone keys included), negative answers
	// and failures: the resolver's knowledge, which outlives every other
	// part.
	ShareRecords = 80
	// SharePackets is for the server's packet cache: whole replies, a
	// speed-up in front of the records, rebuilt from them when dropped.
	// At about 170 bytes a one-A reply (TestPacketCacheMemory), 10 % of
	// the default 64 MiB holds 39,000 replies: a busy network's hot set,
	// while the records behind it hold seven times as many names.
	SharePackets = 10
	// ShareNSEC is for validated NSEC/NSEC3 records kept for RFC 8198: a
	// few zones' chains, each at most maxNSECPerZone records.
	ShareNSEC = 5
	// ShareInfra is for the infrastructure cache: a record per server
	// and zone, about 200 bytes each.
	ShareInfra = 5
)

// Budget is one memory budget split into its parts, in bytes.
type Budget struct {
	Total   int64
	Records int64 // Config.MaxBytes
	NSEC    int64 // Config.NSECBytes
	Infra   int64 // InfraConfig.MaxBytes
	Packets int64 // the server's packet cache
}

// SplitBudget splits total into the shares above. A total of 0 means
// DefaultMaxBytes. No part is smaller than the smallest budget a part
// accepts, so the parts may add up to a little more than a tiny total.
func SplitBudget(total int64) Budget {
	if total == 0 {
		total = DefaultMaxBytes
	}
	part := func(share int64) int64 { return max(total*share/100, minMaxBytes) }
	return Budget{
		Total:   total,
		Records: part(ShareRecords),
		NSEC:    part(ShareNSEC),
		Infra:   part(ShareInfra),
		Packets: part(SharePackets),
	}
}
