package cache

import (
	"context"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// Shared is a second-level cache that several resolvers share (Unbound's
// cachedb): the resolver consults it after a miss in its own Cache and
// before resolving, and offers it every answer it resolved and validated.
// Package cachedb implements it on Redis.
//
// Implementations must be safe for concurrent use, treat what they read as
// untrusted input, and never slow an answer down: Get gives up after a
// short timeout of its own, and Put only queues the write.
type Shared interface {
	// Get returns the entry stored for k. A miss, an error, a timeout or
	// an entry that does not decode all report false.
	Get(ctx context.Context, k SharedKey) (SharedEntry, bool)
	// Put stores e for k until e.Expires, in the background; it must not
	// block, and drops the write (counting it) when it cannot keep up.
	Put(k SharedKey, e SharedEntry)
}

// SharedKey is what a shared entry is stored under: the question a piece of
// an answer responds to. The name is lower-case and fully qualified. DO and
// CD are not part of it: an entry always carries its RRSIGs and proofs (the
// resolver leaves them out for clients without DO), and answers to CD
// questions are never stored.
type SharedKey struct {
	Name  string
	Type  uint16
	Class uint16
}

// String returns "name/TYPE/CLASS", such as "www.example.org./A/IN".
func (k SharedKey) String() string {
	return k.Name + "/" + typeString(k.Type) + "/" + classString(k.Class)
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func classString(c uint16) string {
	if s, ok := dns.ClassToString[c]; ok {
		return s
	}
	return "CLASS" + strconv.Itoa(int(c))
}

// SharedKind is what a shared entry answers.
type SharedKind uint8

// Shared entry kinds.
const (
	// SharedAnswer is a positive answer: Answer ends with the RRset asked
	// for, after any CNAMEs inside the zone that answered.
	SharedAnswer SharedKind = iota + 1
	// SharedCNAME is an alias chain that leaves the zone at Target.
	SharedCNAME
	// SharedNXDomain and SharedNoData are negative answers (RFC 2308) for
	// Target (the key's name, or the end of an in-zone CNAME chain in
	// Answer), with the SOA first in Authority.
	SharedNXDomain
	SharedNoData
)

var sharedKindNames = [...]string{
	SharedAnswer:   "answer",
	SharedCNAME:    "cname",
	SharedNXDomain: "nxdomain",
	SharedNoData:   "nodata",
}

// Valid reports whether k is one of the kinds above.
func (k SharedKind) Valid() bool { return k >= SharedAnswer && k <= SharedNoData }

// String returns a lower-case name, such as "nxdomain".
func (k SharedKind) String() string {
	if k.Valid() {
		return sharedKindNames[k]
	}
	return "shared-kind(" + strconv.Itoa(int(k)) + ")"
}

// SharedEntry is one piece of an answer as one zone gave it, with what the
// resolver that stored it learned: its trust rank, its DNSSEC status and
// its absolute expiry. Never bogus (a bogus piece is not stored).
type SharedEntry struct {
	Kind SharedKind
	// Answer is the chain of records from the key's name; Sigs the
	// RRSIGs covering them.
	Answer []dns.RR
	Sigs   []dns.RR
	// Authority is, for a negative answer, its SOA first, then the other
	// authority records kept with it.
	Authority []dns.RR
	// Proof holds NSEC/NSEC3 records and their RRSIGs: the denial of a
	// negative answer, or the proof of a wildcard expansion.
	Proof []dns.RR
	// Target is where a CNAME chain leaves the zone (SharedCNAME) or the
	// name a negative answer denies.
	Target   string
	Wildcard bool // Answer was expanded from a wildcard; Proof proves it
	Rank     Rank
	Security Security
	// Expires is when the entry stops being usable: the time it was stored
	// plus its TTL after the clamps of the cache that stored it.
	Expires time.Time
}

// ClampTTL applies the cache's TTL bounds to ttl seconds as Insert and
// InsertNegative would: [MinTTL, MaxTTL] for positive data, MaxNegTTL for
// negative answers. ok is false when the data would not be stored (TTL 0).
// A shared cache stores nothing longer than the local cache would.
func (c *Cache) ClampTTL(ttl uint32, negative bool) (time.Duration, bool) {
	if negative {
		return clamp(ttl, 0, c.cfg.MaxNegTTL)
	}
	return clamp(ttl, c.cfg.MinTTL, c.cfg.MaxTTL)
}
