package cache

import (
	"errors"
	"fmt"
	"time"
)

// Defaults and bounds of [Config].
const (
	// DefaultMaxBytes is the default byte budget: room for 200k to 300k
	// RRsets (about 223 bytes for one A record, 319 for four NS records,
	// as TestBytesPerEntry measures), more than a single user's resolver
	// needs, small enough for any host.
	DefaultMaxBytes = 64 << 20

	// DefaultMaxTTL caps positive TTLs at one day, as Unbound's
	// cache-max-ttl does, so bad data cannot stick around for the 68 years a
	// 32-bit TTL allows (RFC 2181 §8).
	DefaultMaxTTL = 24 * time.Hour

	// DefaultMaxNegTTL caps negative TTLs at one hour, Unbound's
	// cache-max-negative-ttl; RFC 2308 §5 suggests one to three hours.
	DefaultMaxNegTTL = time.Hour

	// DefaultFailureTTL is how long a failed resolution is remembered.
	// RFC 9520 §3.2 requires at least 1 s and at most 5 min; 5 s stops retry
	// storms without hiding a recovered server for long.
	DefaultFailureTTL = 5 * time.Second

	// DefaultBogusTTL is how long data that failed DNSSEC validation is
	// remembered: Unbound's val-bogus-ttl default. Longer than a plain
	// failure, since revalidating bogus data costs signature checks and
	// a broken zone is rarely fixed within seconds.
	DefaultBogusTTL = 60 * time.Second

	// MinFailureTTL and MaxFailureTTL are RFC 9520 §3.2's bounds (for
	// FailureTTL and BogusTTL).
	MinFailureTTL = time.Second
	MaxFailureTTL = 5 * time.Minute

	// DefaultPrefetchMinHits is how many hits an entry needs before a lookup
	// in the last tenth of its TTL suggests a prefetch: an entry asked for
	// once is not worth refreshing.
	DefaultPrefetchMinHits = 2

	// StaleTTL is the TTL of stale answers, as RFC 8767 §4 recommends.
	StaleTTL = 30

	// maxTTLSeconds is the largest TTL RFC 2181 §8 allows: TTLs with the top
	// bit set are treated as zero.
	maxTTLSeconds = 1<<31 - 1

	// minMaxBytes is the smallest byte budget accepted: below it the cache
	// could not hold even a handful of sets.
	minMaxBytes = 64 << 10

	// nsecDivisor gives the NSEC store's default budget as a part of
	// MaxBytes when only MaxBytes is set: the records' share over the
	// RRsets' share in SplitBudget.
	nsecDivisor = ShareRecords / ShareNSEC
)

// ErrConfig is wrapped by errors New returns for an invalid [Config].
var ErrConfig = errors.New("invalid config")

// Config configures a [Cache]. The zero value, or a nil *Config, gives the
// defaults.
type Config struct {
	// MaxBytes is the approximate memory budget in bytes of RRsets,
	// negative answers and failures. 0 means DefaultMaxBytes. [SplitBudget]
	// derives it from one budget for every cache.
	MaxBytes int64
	// NSECBytes is the budget of the validated NSEC records kept for
	// RFC 8198, apart from MaxBytes. 0 means MaxBytes/nsecDivisor.
	NSECBytes int64
	// MinTTL raises smaller positive TTLs (not zero ones: TTL 0 data is
	// never stored). 0 means no minimum.
	MinTTL time.Duration
	// MaxTTL caps positive TTLs. 0 means DefaultMaxTTL.
	MaxTTL time.Duration
	// MaxNegTTL caps negative TTLs. 0 means DefaultMaxNegTTL.
	MaxNegTTL time.Duration
	// StaleMax is how long expired data is kept for serve-stale (RFC 8767
	// §5 suggests 1 to 3 days). 0 turns serve-stale off.
	StaleMax time.Duration
	// FailureTTL is how long a failed resolution is remembered. 0 means
	// DefaultFailureTTL; otherwise it must be within [MinFailureTTL,
	// MaxFailureTTL].
	FailureTTL time.Duration
	// BogusTTL is how long a resolution whose data failed DNSSEC
	// validation is remembered (Unbound's val-bogus-ttl), apart from
	// FailureTTL. 0 means DefaultBogusTTL; otherwise it must be within
	// [MinFailureTTL, MaxFailureTTL].
	BogusTTL time.Duration
	// PrefetchMinHits is how many hits an entry needs before a prefetch is
	// suggested. 0 means DefaultPrefetchMinHits.
	PrefetchMinHits uint32
	// Now is the clock; nil means time.Now. It decides freshness and is the
	// clock otter expires entries with.
	Now func() time.Time
}

// withDefaults returns a copy of cfg with defaults filled in, or an error
// wrapping ErrConfig.
func (cfg *Config) withDefaults() (Config, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.NSECBytes == 0 {
		c.NSECBytes = max(c.MaxBytes/nsecDivisor, minMaxBytes)
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = DefaultMaxTTL
	}
	if c.MaxNegTTL == 0 {
		c.MaxNegTTL = DefaultMaxNegTTL
	}
	if c.FailureTTL == 0 {
		c.FailureTTL = DefaultFailureTTL
	}
	if c.BogusTTL == 0 {
		c.BogusTTL = DefaultBogusTTL
	}
	if c.PrefetchMinHits == 0 {
		c.PrefetchMinHits = DefaultPrefetchMinHits
	}
	// An entry counts its hits below prefetchedBit: a larger minimum
	// would never be reached in any entry's life anyway.
	c.PrefetchMinHits = min(c.PrefetchMinHits, prefetchedBit/2)
	switch {
	case c.MaxBytes < minMaxBytes:
		return c, fmt.Errorf("cache: %w: MaxBytes %d below %d", ErrConfig, c.MaxBytes, minMaxBytes)
	case c.NSECBytes < minMaxBytes:
		return c, fmt.Errorf("cache: %w: NSECBytes %d below %d", ErrConfig, c.NSECBytes, minMaxBytes)
	case c.MinTTL < 0, c.MaxTTL < 0, c.MaxNegTTL < 0, c.StaleMax < 0:
		return c, fmt.Errorf("cache: %w: negative duration", ErrConfig)
	case c.MinTTL > c.MaxTTL:
		return c, fmt.Errorf("cache: %w: MinTTL %v above MaxTTL %v", ErrConfig, c.MinTTL, c.MaxTTL)
	case c.MaxTTL > maxTTLSeconds*time.Second:
		return c, fmt.Errorf("cache: %w: MaxTTL %v above 2^31-1 s", ErrConfig, c.MaxTTL)
	case c.FailureTTL < MinFailureTTL || c.FailureTTL > MaxFailureTTL:
		return c, fmt.Errorf("cache: %w: FailureTTL %v outside [%v, %v] (RFC 9520 §3.2)",
			ErrConfig, c.FailureTTL, MinFailureTTL, MaxFailureTTL)
	case c.BogusTTL < MinFailureTTL || c.BogusTTL > MaxFailureTTL:
		return c, fmt.Errorf("cache: %w: BogusTTL %v outside [%v, %v] (RFC 9520 §3.2)",
			ErrConfig, c.BogusTTL, MinFailureTTL, MaxFailureTTL)
	}
	return c, nil
}
