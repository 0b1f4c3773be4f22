package resolver

import "time"

// Limits that bound the work one request can cause. Each is a named
// constant with the reason for its value; a tripped limit ends the request
// in SERVFAIL with the limit named in the error, never in a hang.
const (
	// MaxReferralDepth bounds the zone cuts followed for one name. Real
	// names sit fewer than ten cuts deep; Unbound's MAX_REFERRAL_COUNT is
	// 130 but counts retries too. 30 leaves room for deep reverse trees
	// (ip6.arpa has up to 34 labels, but few cuts) without letting a
	// referral loop run long.
	MaxReferralDepth = 30

	// MaxCNAMEChain bounds CNAME and DNAME restarts for one question.
	// Unbound (MAX_RESTART_COUNT 11) and BIND (max 16, typically 11)
	// choose about this number; longer chains are misconfiguration or abuse.
	MaxCNAMEChain = 11

	// MaxGlueless bounds the NS names without usable glue that one request
	// resolves. NXNSAttack (CVE-2020-12662) amplifies through unbounded
	// glueless NS lookups; the paper's mitigation and Unbound's
	// MAX_TARGET_NX sit in the 5 to 10 range.
	MaxGlueless = 8

	// MaxSubDepth bounds how deeply sub-resolutions nest (resolving an NS
	// name whose zone also has glueless NS names, and so on). Three levels
	// cover every real deployment seen; more is a dependency chain that an
	// attacker built.
	MaxSubDepth = 4

	// MaxUpstreamQueries bounds all upstream queries one request sends,
	// sub-resolutions included. A cold resolution of a name behind
	// glueless delegations takes 10 to 30; Unbound caps at 128
	// (max-sent-count) and Knot Resolver at 100 iterations. 100 is in that
	// range.
	MaxUpstreamQueries = 100

	// MaxMinimiseSteps bounds the extra queries QNAME minimisation adds for
	// one name. RFC 9156 §2.3 suggests MAX_MINIMISE_COUNT 10; after that the
	// full name is sent.
	MaxMinimiseSteps = 10

	// MaxServerRounds is how many times each server address of a zone may
	// be tried for one question. One retry survives a single lost UDP
	// packet; more only delays the SERVFAIL when a zone is really dead.
	MaxServerRounds = 2

	// MaxNSPerZone bounds the NS names considered for one zone. Real zones
	// have 2 to 13; a referral with hundreds of NS names is an
	// amplification attempt.
	MaxNSPerZone = 20

	// MaxAddrsPerNS bounds the addresses used for one NS name, for the
	// same reason.
	MaxAddrsPerNS = 8

	// MaxRecordsPerSection bounds the records examined in one response
	// section. A 64 KiB TCP message holds at most about 5,000 records;
	// nothing legitimate in an iterative answer needs more than a few
	// hundred.
	MaxRecordsPerSection = 1000
)

// Default timeouts.
const (
	// DefaultQueryTimeout is the wait for one upstream reply. Most
	// authoritative servers answer within 200 ms from anywhere; Unbound
	// starts unknown servers at 376 ms and backs off. 1.2 s allows for a
	// slow server while leaving time to fall back within the request
	// deadline.
	DefaultQueryTimeout = 1200 * time.Millisecond

	// DefaultRequestTimeout bounds a whole request. Stub resolvers retry
	// after about 5 s (glibc's default timeout), so a recursive answer
	// later than that is rarely used.
	DefaultRequestTimeout = 8 * time.Second

	// minTimeLeft is how much of the request deadline must remain to send
	// another query: less than a typical reply needs is wasted traffic.
	minTimeLeft = 20 * time.Millisecond
)

// EDNSBufferSize is the UDP payload size advertised upstream (DNS Flag Day
// 2020: 1232 bytes fits an IPv6 minimum-MTU packet without fragmenting).
const EDNSBufferSize = 1232

// Limits are the bounds above, settable per Resolver so that tests can
// trip them cheaply and operators can tighten them. A zero field means the
// constant's value.
type Limits struct {
	ReferralDepth   int
	CNAMEChain      int
	Glueless        int
	SubDepth        int
	UpstreamQueries int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.ReferralDepth, MaxReferralDepth)
	def(&l.CNAMEChain, MaxCNAMEChain)
	def(&l.Glueless, MaxGlueless)
	def(&l.SubDepth, MaxSubDepth)
	def(&l.UpstreamQueries, MaxUpstreamQueries)
	return l
}
