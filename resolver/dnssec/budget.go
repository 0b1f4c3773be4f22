package dnssec

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Default limits of a Budget. They bound the cryptographic work an attacker
// can make the resolver do with one request (KeyTrap, CVE-2023-50387).
const (
	// DefaultMaxVerificationsPerResponse bounds signature verifications for
	// one upstream response. A legitimate response with an answer, a CNAME,
	// an SOA and three NSEC3 RRsets, each signed by two keys during an
	// algorithm rollover, needs about 12; PowerDNS Recursor allows 30 per
	// query.
	DefaultMaxVerificationsPerResponse = 32
	// DefaultMaxVerificationsPerRequest bounds verifications for a whole
	// client request: a walk from the root through about 8 zones with a DS,
	// a DNSKEY and an answer or referral proof at each, plus CNAME targets.
	DefaultMaxVerificationsPerRequest = 128
	// DefaultMaxKeyTagCollisions bounds how many DNSKEYs sharing the key tag
	// and algorithm of one RRSIG are tried. Unbound tries 4; legitimate zones
	// practically never have more than 2 keys with the same tag.
	DefaultMaxKeyTagCollisions = 4
)

// Default clock-skew allowance around a signature's validity period: a
// tenth of the period, at least DefaultSigSkewMin and at most
// DefaultSigSkewMax, as Unbound's val-sig-skew-min and val-sig-skew-max.
// A validator whose clock is a little off, or a zone re-signed a little
// late, then still validates; a signature that expired a day ago does not.
const (
	DefaultSigSkewMin = time.Hour
	DefaultSigSkewMax = 24 * time.Hour
)

// Limits configures a Budget: the work one request's validation may do,
// and the clock skew allowed when checking signature validity periods.
// Zero fields take the defaults above.
type Limits struct {
	MaxVerificationsPerResponse int
	MaxVerificationsPerRequest  int
	MaxKeyTagCollisions         int
	// SigSkewMin and SigSkewMax bound the skew allowed on each side of a
	// signature's validity period: a tenth of the period, clamped to
	// [SigSkewMin, SigSkewMax]. A negative SigSkewMax allows none, as
	// Knot Resolver and BIND do.
	SigSkewMin, SigSkewMax time.Duration
	// NSEC3Iterations is the highest NSEC3 iteration count whose proofs
	// are validated; a proof with more is Insecure with EDE 27 (RFC 9276
	// §3.2, Unbound's val-nsec3-keysize-iterations). 0 means
	// MaxNSEC3Iterations (150), which is also the most ever allowed; a
	// negative value allows 0 iterations only, as RFC 9276 permits.
	NSEC3Iterations int
}

func (l Limits) withDefaults() Limits {
	if l.MaxVerificationsPerResponse <= 0 {
		l.MaxVerificationsPerResponse = DefaultMaxVerificationsPerResponse
	}
	if l.MaxVerificationsPerRequest <= 0 {
		l.MaxVerificationsPerRequest = DefaultMaxVerificationsPerRequest
	}
	if l.MaxKeyTagCollisions <= 0 {
		l.MaxKeyTagCollisions = DefaultMaxKeyTagCollisions
	}
	if l.SigSkewMax == 0 {
		l.SigSkewMax = DefaultSigSkewMax
	}
	if l.SigSkewMin == 0 {
		l.SigSkewMin = DefaultSigSkewMin
	}
	if l.SigSkewMax < 0 {
		l.SigSkewMin, l.SigSkewMax = 0, 0
	}
	l.SigSkewMin = min(l.SigSkewMin, l.SigSkewMax)
	return l
}

// Budget counts the signature verifications done for one client request.
// Create one per request with NewBudget and call NextResponse before
// validating each upstream response. A nil *Budget passed to a Verify
// function means a fresh default budget for that call alone. A Budget is safe
// for concurrent use.
type Budget struct {
	limits Limits

	// mu guards the following.
	mu          sync.Mutex
	perResponse int // verifications since the last NextResponse
	perRequest  int // verifications since NewBudget
}

// NewBudget returns a budget with the given limits (zero fields: defaults).
func NewBudget(l Limits) *Budget {
	return &Budget{limits: l.withDefaults()}
}

// NextResponse resets the per-response counter. It is a no-op on nil.
func (b *Budget) NextResponse() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.perResponse = 0
	b.mu.Unlock()
}

// Used reports the verifications counted for the current response and for
// the whole request (zero for nil).
func (b *Budget) Used() (response, request int) {
	if b == nil {
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.perResponse, b.perRequest
}

// collisions returns the key tag collision limit.
func (b *Budget) collisions() int { return b.limits.MaxKeyTagCollisions }

// skew is the allowance, in seconds, around sig's validity period.
func (b *Budget) skew(sig *dns.RRSIG) uint32 {
	period := time.Duration(sig.Expiration-sig.Inception) * time.Second // serial difference
	s := min(max(period/10, b.limits.SigSkewMin), b.limits.SigSkewMax)
	return uint32(s / time.Second)
}

// spend takes one verification from the budget, or returns a Bogus failure
// when the budget is exhausted.
func (b *Budget) spend() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.perResponse >= b.limits.MaxVerificationsPerResponse {
		return bogus(ErrBudgetExceeded, dns.ExtendedErrorCodeDNSBogus,
			"more than %d signature verifications for one response", b.limits.MaxVerificationsPerResponse)
	}
	if b.perRequest >= b.limits.MaxVerificationsPerRequest {
		return bogus(ErrBudgetExceeded, dns.ExtendedErrorCodeDNSBogus,
			"more than %d signature verifications for one request", b.limits.MaxVerificationsPerRequest)
	}
	b.perResponse++
	b.perRequest++
	return nil
}

// orDefault returns b, or a fresh default budget when b is nil.
func (b *Budget) orDefault() *Budget {
	if b == nil {
		return NewBudget(Limits{})
	}
	return b
}
