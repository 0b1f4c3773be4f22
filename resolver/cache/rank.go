package cache

import "strconv"

// Rank is how much an RRset is trusted, by where it was found
// (RFC 2181 §5.4.1). Higher ranks are more trusted; data of a lower rank
// never replaces fresh data of a higher rank.
type Rank uint8

// Ranks from least to most trusted. The zero Rank is not valid for
// insertion.
const (
	// RankAdditional is data from the additional section, glue included.
	RankAdditional Rank = iota + 1
	// RankAuthorityNonAuth is data from the authority section of a
	// non-authoritative answer, such as the NS set of a referral.
	RankAuthorityNonAuth
	// RankAnswerNonAuth is data from the answer section of a
	// non-authoritative answer.
	RankAnswerNonAuth
	// RankAuthorityAuth is data from the authority section of an
	// authoritative answer.
	RankAuthorityAuth
	// RankAnswerAuth is data from the answer section of an authoritative
	// answer.
	RankAnswerAuth
	// RankSecure is data that DNSSEC validation proved secure
	// (RFC 4035 §4.3).
	RankSecure
)

var rankNames = [...]string{
	RankAdditional:       "additional",
	RankAuthorityNonAuth: "authority-nonauth",
	RankAnswerNonAuth:    "answer-nonauth",
	RankAuthorityAuth:    "authority-auth",
	RankAnswerAuth:       "answer-auth",
	RankSecure:           "secure",
}

func (r Rank) valid() bool { return r >= RankAdditional && r <= RankSecure }

// String returns a short lower-case name, such as "answer-auth".
func (r Rank) String() string {
	if r.valid() {
		return rankNames[r]
	}
	return "rank(" + strconv.Itoa(int(r)) + ")"
}

// Security is the DNSSEC status of cached data (RFC 4035 §4.3, RFC 4033 §5).
//
// It is kept apart from dnssec.Status on purpose: the cache must not
// import the validator (dnssec imports nothing of the resolver, and the
// cache is used without it), and its zero value means "never checked",
// which a validation verdict has no need for. The resolver converts in one
// place each way (fromHit and markStatus in resolver/cached.go).
type Security uint8

// Security states. The zero value is SecurityUnchecked.
const (
	// SecurityUnchecked means no validation was attempted.
	SecurityUnchecked Security = iota
	// SecurityInsecure means the data is provably unsigned.
	SecurityInsecure
	// SecuritySecure means the data validated.
	SecuritySecure
	// SecurityBogus means validation failed.
	SecurityBogus
	// SecurityIndeterminate means no trust anchor covers the data.
	SecurityIndeterminate
)

var securityNames = [...]string{
	SecurityUnchecked:     "unchecked",
	SecurityInsecure:      "insecure",
	SecuritySecure:        "secure",
	SecurityBogus:         "bogus",
	SecurityIndeterminate: "indeterminate",
}

// String returns a lower-case name, such as "secure".
func (s Security) String() string {
	if int(s) < len(securityNames) {
		return securityNames[s]
	}
	return "security(" + strconv.Itoa(int(s)) + ")"
}
