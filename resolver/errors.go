package resolver

import (
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// Sentinel errors. A failed resolution returns an *Error that wraps one of
// these; test with errors.Is.
var (
	ErrTimeout          = errors.New("resolver: upstream timed out")
	ErrMalformed        = errors.New("resolver: malformed reply")
	ErrNoServers        = errors.New("resolver: no reachable authoritative server")
	ErrLame             = errors.New("resolver: lame delegation")
	ErrCNAMELoop        = errors.New("resolver: CNAME/DNAME loop")
	ErrCNAMEChain       = errors.New("resolver: CNAME/DNAME chain too long")
	ErrReferralDepth    = errors.New("resolver: too many referrals")
	ErrReferralLoop     = errors.New("resolver: referral loop")
	ErrGluelessLimit    = errors.New("resolver: too many glueless NS lookups")
	ErrSubDepth         = errors.New("resolver: NS lookups nested too deeply")
	ErrQueryLimit       = errors.New("resolver: too many upstream queries")
	ErrDependencyCycle  = errors.New("resolver: NS dependency cycle")
	ErrDeadline         = errors.New("resolver: request deadline exceeded")
	ErrInvalidQuestion  = errors.New("resolver: invalid question")
	ErrNoAddressFamily  = errors.New("resolver: no usable address family")
	ErrRefusedUpstream  = errors.New("resolver: upstream refused or failed")
	ErrLoopbackUpstream = errors.New("resolver: loopback upstream not allowed")
	ErrCacheMiss        = errors.New("resolver: not in cache")
	ErrCachedFailure    = errors.New("resolver: failed recently (cached failure)")
	ErrBogus            = errors.New("resolver: DNSSEC validation failed (bogus)")
	ErrSentinel         = errors.New("resolver: root key sentinel (RFC 8509)")
)

// Extended DNS Error codes (RFC 8914 §4) used when a resolution fails.
const (
	edeOther             = dns.ExtendedErrorCodeOther
	edeNoReachable       = dns.ExtendedErrorCodeNoReachableAuthority
	edeNetworkError      = dns.ExtendedErrorCodeNetworkError
	edeInvalidData       = dns.ExtendedErrorCodeInvalidData
	edeNotAuthoritative  = dns.ExtendedErrorCodeNotAuthoritative
	edeProhibited        = dns.ExtendedErrorCodeProhibited
	edeCachedErrorMarker = dns.ExtendedErrorCodeCachedError
)

// Error describes a failed resolution. Its Err is one of the package's
// sentinel errors (or a context error); EDE is the RFC 8914 code a server
// should attach to its SERVFAIL.
type Error struct {
	Name   string // the question name being resolved when it failed
	Type   uint16 // its type
	Server string // the last server tried, if any
	Err    error
	EDE    uint16
	Detail string // human detail, e.g. "3 servers for example.org. timed out"
	// RetryAfter is how long the failure stays cached (RFC 9520): the
	// same question fails at once, with no upstream query, until then.
	// Zero when it is not cached.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := fmt.Sprintf("resolving %s %s: %v", e.Name, dns.TypeToString[e.Type], e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// IsTimeout reports whether the failure was a timeout or deadline.
func (e *Error) IsTimeout() bool {
	return errors.Is(e.Err, ErrTimeout) || errors.Is(e.Err, ErrDeadline)
}

// edeFor maps a sentinel to an Extended DNS Error code.
func edeFor(err error) uint16 {
	switch {
	case errors.Is(err, ErrNoServers), errors.Is(err, ErrTimeout), errors.Is(err, ErrDeadline):
		return edeNoReachable
	case errors.Is(err, ErrLame):
		return edeNotAuthoritative
	case errors.Is(err, ErrMalformed):
		return edeInvalidData
	case errors.Is(err, ErrCachedFailure):
		return edeCachedErrorMarker
	case errors.Is(err, ErrLoopbackUpstream):
		return edeProhibited
	default:
		return edeOther
	}
}
