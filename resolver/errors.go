package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
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
	ErrGluelessLimit    = errors.New("resolver: too many glueless NS lookups")
	ErrSubDepth         = errors.New("resolver: NS lookups nested too deeply")
	ErrQueryLimit       = errors.New("resolver: too many upstream queries")
	ErrDependencyCycle  = errors.New("resolver: NS dependency cycle")
	ErrDeadline         = errors.New("resolver: request deadline exceeded")
	ErrInvalidQuestion  = errors.New("resolver: invalid question")
	ErrNoAddressFamily  = errors.New("resolver: no usable address family")
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

// Error reads "resolver: www.example.org. A: upstream timed out (detail)":
// the package prefix once, at the start, then the question and why.
func (e *Error) Error() string {
	return fmt.Sprintf("resolver: %s %s: %s", e.Name, dns.TypeToString[e.Type], e.Why())
}

// Why is e without its question and prefix, for a line that names the
// question already (a trace step, dig's SERVFAIL line, an EDE text): what
// failed and the detail.
func (e *Error) Why() string {
	s := strings.TrimPrefix(fmt.Sprint(e.Err), "resolver: ")
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// cachedFailure is a failure served from the failure cache (RFC 9520):
// ErrCachedFailure and the original failure, said once, without the
// original's question and prefix (the *Error around it names them).
type cachedFailure struct{ orig error }

func (c *cachedFailure) Error() string {
	return ErrCachedFailure.Error() + ": " + stepErr(c.orig)
}

func (c *cachedFailure) Unwrap() []error { return []error{ErrCachedFailure, c.orig} }

// Reason names the failure in one short word for metric labels and logs:
// the sentinel it wraps ("timeout", "lame", "bogus", …), or "other". A
// cached failure (RFC 9520) keeps its original reason; "cached_failure"
// is only for one whose reason was not kept. The set of values is fixed,
// so a label built from it cannot grow without bound.
func (e *Error) Reason() string { return reasonOf(e.Err) }

// reasons maps each sentinel to its Reason, most specific first: a
// cached failure wraps ErrCachedFailure and its original sentinel, a bogus
// answer ErrBogus and what the validator found.
var reasons = [...]struct {
	err  error
	name string
}{
	{ErrBogus, "bogus"},
	{ErrSentinel, "sentinel"},
	{ErrTimeout, "timeout"},
	{ErrDeadline, "deadline"},
	{ErrNoServers, "no_servers"},
	{ErrLame, "lame"},
	{ErrMalformed, "malformed"},
	{ErrCNAMELoop, "cname_loop"},
	{ErrCNAMEChain, "cname_chain"},
	{ErrReferralDepth, "referral_depth"},
	{ErrGluelessLimit, "glueless_limit"},
	{ErrSubDepth, "sub_depth"},
	{ErrQueryLimit, "query_limit"},
	{ErrDependencyCycle, "dependency_cycle"},
	{ErrInvalidQuestion, "invalid_question"},
	{ErrNoAddressFamily, "no_address_family"},
	{ErrLoopbackUpstream, "loopback_upstream"},
	{ErrCacheMiss, "cache_miss"},
	{ErrCachedFailure, "cached_failure"},
	{ErrHeldDown, "held_down"},
	{ErrRateLimited, "rate_limited"},
	{ErrClosed, "closed"},
	{context.Canceled, "cancelled"},
}

func reasonOf(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

// IsTimeout reports whether the failure was a timeout or deadline.
func (e *Error) IsTimeout() bool {
	return errors.Is(e.Err, ErrTimeout) || errors.Is(e.Err, ErrDeadline)
}

// edeFor maps a sentinel to an Extended DNS Error code.
func edeFor(err error) uint16 {
	switch {
	case errors.Is(err, ErrNoServers), errors.Is(err, ErrTimeout), errors.Is(err, ErrDeadline), errors.Is(err, ErrHeldDown):
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

// failureWords says what one server did wrong, for a trace step's error
// and detail and a SERVFAIL's detail (one wording for all three): "refused the query (nothing listens on its port)",
// not Go's "read udp 127.0.0.1:40000->127.0.0.1:53: connection refused".
// timeout, when known, is how long the reply was waited for.
func failureWords(err error, timeout time.Duration) string {
	var op *net.OpError
	switch {
	case errors.Is(err, ErrDeadline):
		return "not answered before the request deadline"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused the query (nothing listens on its port)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "is unreachable (no route to it)"
	case errors.Is(err, ErrTimeout) && timeout > 0:
		return fmt.Sprintf("sent no reply within %v", timeout.Round(time.Millisecond))
	case errors.Is(err, ErrTimeout):
		return "sent no reply in time"
	case errors.Is(err, errReplyFlood):
		return "was answered by a flood of replies failing the checks (forgeries?)"
	case errors.Is(err, errRejected):
		return "sent only replies failing the checks (ID, question, source or cookie)"
	case errors.Is(err, ErrMalformed):
		return "sent a malformed reply"
	case errors.Is(err, ErrRateLimited), errors.Is(err, errServerBusy):
		return "not sent: " + strings.TrimPrefix(err.Error(), "resolver: ")
	case errors.As(err, &op) && op.Err != nil:
		return "failed: " + op.Err.Error()
	}
	return "failed: " + strings.TrimPrefix(err.Error(), "resolver: ")
}

// stepErr is err as a trace step that names its question shows it: an
// *Error's why, else what the server did (failureWords).
func stepErr(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Why()
	}
	return failureWords(err, 0)
}
