package dnssec

import (
	"strings"

	"github.com/miekg/dns"
)

// NSEC3 limits.
const (
	// MaxNSEC3Iterations is the highest NSEC3 iteration count validated.
	// RFC 9276 §3.2 lets validators treat higher counts as insecure or
	// bogus; like Unbound and BIND we answer Insecure (EDE 27, Unsupported
	// NSEC3 Iterations Value): the zone keeps resolving, without AD, and an
	// attacker cannot make us hash thousands of times per name.
	MaxNSEC3Iterations = 150
	// maxNSEC3Hashes bounds the names hashed for one proof
	// (CVE-2023-50868): the closest encloser search hashes every ancestor
	// of the query name down to the zone. 32 covers an IPv6 reverse name
	// (32 nibble labels) below a /8 reverse zone.
	maxNSEC3Hashes = 32
	// nsec3FlagOptOut is the Opt-Out flag (RFC 5155 §3.1.2.1).
	nsec3FlagOptOut = 1
	// nsec3HashLen is the length of a base32hex SHA-1 owner label.
	nsec3HashLen = 32
)

// nsec3Set holds the usable NSEC3 RRs of one zone and hashes names with
// their parameters, caching the results and counting the work.
type nsec3Set struct {
	zone   string
	recs   []*dns.NSEC3
	hashes map[string]string // canonical name -> base32hex hash
	alg    uint8
	iter   uint16
	salt   string
}

// newNSEC3Set keeps the NSEC3 RRs owned by a hash label directly below zone
// with a known hash algorithm and flags (RFC 5155 §8.1, §8.2), all with the
// parameters of the first one. It fails Insecure when NSEC3 RRs exist but
// none is usable or their iteration count exceeds MaxNSEC3Iterations.
func newNSEC3Set(zone string, nsec3s []*dns.NSEC3) (*nsec3Set, *Failure) {
	s := &nsec3Set{zone: dns.CanonicalName(zone), hashes: map[string]string{}}
	unknownHash := false
	for _, n := range nsec3s {
		if n == nil || !equalNames(parentName(n.Hdr.Name), zone) {
			continue
		}
		if l, _ := dns.NextLabel(n.Hdr.Name, 0); l-1 != nsec3HashLen {
			continue
		}
		if n.Hash != dns.SHA1 {
			unknownHash = true
			continue
		}
		if n.Flags&^nsec3FlagOptOut != 0 {
			continue // RFC 5155 §8.2: ignore unknown flags
		}
		if n.Iterations > MaxNSEC3Iterations {
			return nil, insecure(ErrNSEC3Iterations, dns.ExtendedErrorCodeUnsupportedNSEC3IterValue,
				"NSEC3 %s has %d iterations, limit %d", n.Hdr.Name, n.Iterations, MaxNSEC3Iterations)
		}
		if len(s.recs) == 0 {
			s.alg, s.iter, s.salt = n.Hash, n.Iterations, strings.ToUpper(n.Salt)
		} else if n.Iterations != s.iter || !strings.EqualFold(n.Salt, s.salt) {
			continue
		}
		s.recs = append(s.recs, n)
	}
	if len(s.recs) == 0 {
		if unknownHash {
			return nil, insecure(ErrUnsupportedNSEC3Hash, NoEDE, "no NSEC3 of %s uses SHA-1", zone)
		}
		return nil, bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no usable NSEC3 for %s", zone)
	}
	return s, nil
}

// hash returns the NSEC3 hash of name, or a Bogus failure when the proof
// has hashed too many names.
func (s *nsec3Set) hash(name string) (string, *Failure) {
	c := dns.CanonicalName(name)
	if h, ok := s.hashes[c]; ok {
		return h, nil
	}
	if len(s.hashes) >= maxNSEC3Hashes {
		return "", bogus(ErrBudgetExceeded, dns.ExtendedErrorCodeDNSBogus, "more than %d NSEC3 hashes for one proof", maxNSEC3Hashes)
	}
	salt := s.salt
	if salt == "-" {
		salt = ""
	}
	h := dns.HashName(c, s.alg, s.iter, salt)
	if h == "" {
		return "", bogus(ErrMalformed, dns.ExtendedErrorCodeDNSBogus, "cannot hash %s", name)
	}
	s.hashes[c] = h
	return h, nil
}

// ownerHash returns the upper-case hash label of an NSEC3 owner name.
func ownerHash(n *dns.NSEC3) string {
	return strings.ToUpper(n.Hdr.Name[:nsec3HashLen])
}

// match returns the NSEC3 whose owner is the hash of name.
func (s *nsec3Set) match(name string) (*dns.NSEC3, *Failure) {
	h, err := s.hash(name)
	if err != nil {
		return nil, err
	}
	for _, n := range s.recs {
		if ownerHash(n) == h {
			return n, nil
		}
	}
	return nil, nil
}

// cover returns an NSEC3 whose span strictly contains the hash of name;
// base32hex preserves the order of the hashes (RFC 5155 §8.3). The last
// NSEC3 of the chain wraps around.
func (s *nsec3Set) cover(name string) (*dns.NSEC3, *Failure) {
	h, err := s.hash(name)
	if err != nil {
		return nil, err
	}
	for _, n := range s.recs {
		owner, next := ownerHash(n), strings.ToUpper(n.NextDomain)
		if owner < next {
			if owner < h && h < next {
				return n, nil
			}
		} else if h > owner || h < next { // wrap, or a chain of one
			if h != owner {
				return n, nil
			}
		}
	}
	return nil, nil
}

// closestEncloser runs the closest provable encloser proof (RFC 5155 §8.3):
// an ancestor of qname (the closest encloser) has a matching NSEC3 and the
// next closer name is covered. qname itself must not match.
func (s *nsec3Set) closestEncloser(qname string) (ce string, nc *dns.NSEC3, f *Failure) {
	if !isSubdomain(s.zone, qname) {
		return "", nil, bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "%s is not in zone %s", qname, s.zone)
	}
	if equalNames(qname, s.zone) {
		return "", nil, bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "the apex %s exists", qname)
	}
	if m, err := s.match(qname); err != nil {
		return "", nil, err
	} else if m != nil {
		return "", nil, bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC3 shows %s exists", qname)
	}
	next := qname
	for cand := parentName(qname); ; next, cand = cand, parentName(cand) {
		m, err := s.match(cand)
		if err != nil {
			return "", nil, err
		}
		if m != nil {
			if isDelegation(m.TypeBitMap) || hasType(m.TypeBitMap, dns.TypeDNAME) {
				// RFC 5155 §8.3, RFC 6840 §4.1: names below a
				// delegation or DNAME are not the zone's to deny.
				return "", nil, bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing,
					"closest encloser %s is a delegation or DNAME", cand)
			}
			c, err := s.cover(next)
			if err != nil {
				return "", nil, err
			}
			if c == nil {
				return "", nil, bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 covers next closer name %s", next)
			}
			return dns.CanonicalName(cand), c, nil
		}
		if equalNames(cand, s.zone) {
			return "", nil, bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 proves a closest encloser of %s", qname)
		}
	}
}

// ProveNSEC3NXDOMAIN checks an NSEC3 name error proof (RFC 5155 §8.4): a
// closest encloser proof for qname and an NSEC3 covering the wildcard at the
// closest encloser. When the next closer name is covered by an Opt-Out
// NSEC3 the name may be an unsigned delegation, so the result is an Insecure
// failure wrapping ErrOptOut: RFC 5155 §9.2 forbids setting AD on such a
// response (NXDOMAIN answers in opt-out zones such as most TLDs are
// therefore Insecure).
func ProveNSEC3NXDOMAIN(qname, zone string, nsec3s []*dns.NSEC3) error {
	s, f := newNSEC3Set(zone, nsec3s)
	if f != nil {
		return f
	}
	ce, nc, f := s.closestEncloser(qname)
	if f != nil {
		return f
	}
	wc := wildcardOf(ce)
	c, f := s.cover(wc)
	if f != nil {
		return f
	}
	if c == nil {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 denies wildcard %s", wc)
	}
	if nc.Flags&nsec3FlagOptOut != 0 {
		return insecure(ErrOptOut, NoEDE, "next closer name of %s is in an opt-out span", qname)
	}
	return nil
}

// ProveNSEC3NODATA checks an NSEC3 no-data proof (RFC 5155 §8.5, §8.6): an
// NSEC3 matching qname lacks qtype and CNAME (for DS: from the parent side,
// no SOA bit; for other types: not the parent side of a delegation). For a
// DS query without a matching NSEC3, a closest encloser proof whose next
// closer name is in an Opt-Out span proves an unsigned delegation: the
// result is then an Insecure failure wrapping ErrOptOut.
func ProveNSEC3NODATA(qname string, qtype uint16, zone string, nsec3s []*dns.NSEC3) error {
	s, f := newNSEC3Set(zone, nsec3s)
	if f != nil {
		return f
	}
	m, f := s.match(qname)
	if f != nil {
		return f
	}
	if m != nil {
		if f := nodataBitmap(qname, zone, qtype, m.TypeBitMap); f != nil {
			return f
		}
		return nil
	}
	if qtype != dns.TypeDS {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 matches %s", qname)
	}
	_, nc, f := s.closestEncloser(qname)
	if f != nil {
		return f
	}
	if nc.Flags&nsec3FlagOptOut == 0 {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 matches %s and its span is not opt-out", qname)
	}
	return insecure(ErrOptOut, NoEDE, "DS %s is in an opt-out span", qname)
}

// ProveNSEC3WildcardNODATA checks an NSEC3 wildcard no-data proof (RFC 5155
// §8.7): a closest encloser proof for qname and an NSEC3 matching the
// wildcard at the closest encloser without qtype or CNAME. An opt-out next
// closer cover makes it Insecure (ErrOptOut, RFC 5155 §9.2).
func ProveNSEC3WildcardNODATA(qname string, qtype uint16, zone string, nsec3s []*dns.NSEC3) error {
	s, f := newNSEC3Set(zone, nsec3s)
	if f != nil {
		return f
	}
	ce, nc, f := s.closestEncloser(qname)
	if f != nil {
		return f
	}
	wc := wildcardOf(ce)
	m, f := s.match(wc)
	if f != nil {
		return f
	}
	if m == nil {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 matches wildcard %s", wc)
	}
	if f := nodataBitmap(wc, zone, qtype, m.TypeBitMap); f != nil {
		return f
	}
	if nc.Flags&nsec3FlagOptOut != 0 {
		return insecure(ErrOptOut, NoEDE, "next closer name of %s is in an opt-out span", qname)
	}
	return nil
}

// ProveNSEC3WildcardAnswer checks a wildcard-expanded answer for qname
// (RFC 5155 §8.8): wildcard is the name returned by WildcardExpansion, and an
// NSEC3 must cover the next closer name (the ancestor of qname one label
// below the wildcard's parent). An opt-out cover makes it Insecure
// (ErrOptOut, RFC 5155 §9.2).
func ProveNSEC3WildcardAnswer(qname, wildcard, zone string, nsec3s []*dns.NSEC3) error {
	s, f := newNSEC3Set(zone, nsec3s)
	if f != nil {
		return f
	}
	wce := parentName(wildcard)
	if !isSubdomain(wce, qname) || equalNames(wce, qname) || !isSubdomain(zone, wce) {
		return bogus(ErrWildcardProofMissing, dns.ExtendedErrorCodeNSECMissing, "%s is not below wildcard %s", qname, wildcard)
	}
	next := ancestorWithLabels(qname, dns.CountLabel(wce)+1)
	c, f := s.cover(next)
	if f != nil {
		return f
	}
	if c == nil {
		return bogus(ErrWildcardProofMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 covers next closer name %s", next)
	}
	if c.Flags&nsec3FlagOptOut != 0 {
		return insecure(ErrOptOut, NoEDE, "next closer name %s is in an opt-out span", next)
	}
	return nil
}

// ProveNSEC3InsecureDelegation checks that the delegation to child is
// unsigned (RFC 5155 §8.9, §8.6): either an NSEC3 matching child has NS and
// neither DS nor SOA (result nil), or child is in an Opt-Out span (result an
// Insecure failure wrapping ErrOptOut). Both mean the child zone is
// Insecure; any other failure is Bogus.
func ProveNSEC3InsecureDelegation(child, zone string, nsec3s []*dns.NSEC3) error {
	s, f := newNSEC3Set(zone, nsec3s)
	if f != nil {
		return f
	}
	m, f := s.match(child)
	if f != nil {
		return f
	}
	if m == nil {
		_, nc, f := s.closestEncloser(child)
		if f != nil {
			return f
		}
		if nc.Flags&nsec3FlagOptOut == 0 {
			return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC3 at delegation %s and no opt-out", child)
		}
		return insecure(ErrOptOut, NoEDE, "delegation %s is in an opt-out span", child)
	}
	switch {
	case equalNames(child, zone) || hasType(m.TypeBitMap, dns.TypeSOA):
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC3 at %s is from the child apex", child)
	case !hasType(m.TypeBitMap, dns.TypeNS):
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC3 at %s has no NS bit: not a delegation", child)
	case hasType(m.TypeBitMap, dns.TypeDS):
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC3 at %s has the DS bit: signed delegation", child)
	}
	return nil
}

// CheckNSEC3Iterations returns an Insecure failure wrapping
// ErrNSEC3Iterations, with EDE 27 (Unsupported NSEC3 Iterations Value),
// when an NSEC3 record among rrs has more iterations than limit (RFC 9276
// §3.2: the zone's denials are then treated as insecure). limit is
// Limits.NSEC3Iterations: 0 means MaxNSEC3Iterations, a negative value
// allows 0 iterations only, and no limit goes above MaxNSEC3Iterations.
// The caller checks the records' signatures first, so a forger cannot
// raise the count to downgrade a zone (RFC 9276 §3.2, RFC 5155 §10.3).
// The salt is not judged: RFC 9276 §3.1 asks signers not to use one,
// and validators hash with whatever salt the records carry.
func CheckNSEC3Iterations(rrs []dns.RR, limit int) error {
	switch {
	case limit == 0 || limit > MaxNSEC3Iterations:
		limit = MaxNSEC3Iterations
	case limit < 0:
		limit = 0
	}
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NSEC3); ok && int(n.Iterations) > limit {
			return insecure(ErrNSEC3Iterations, dns.ExtendedErrorCodeUnsupportedNSEC3IterValue,
				"NSEC3 %s has %d iterations, limit %d (RFC 9276)", n.Hdr.Name, n.Iterations, limit)
		}
	}
	return nil
}

// NSEC3Hash returns the RFC 5155 hash of name (base32hex, upper case) with
// the parameters of an NSEC3 RR; "" for an unsupported hash algorithm or
// more than MaxNSEC3Iterations iterations.
func NSEC3Hash(name string, alg uint8, iterations uint16, salt string) string {
	if alg != dns.SHA1 || iterations > MaxNSEC3Iterations {
		return ""
	}
	if salt == "-" {
		salt = ""
	}
	return dns.HashName(dns.CanonicalName(name), alg, iterations, salt)
}

// AggressiveNSEC3 is AggressiveNSEC for NSEC3 (RFC 8198 §5.2): a matching
// NSEC3 whose bitmap lacks qtype (NODATA), or a closest encloser proof
// plus an NSEC3 covering the wildcard (NXDOMAIN). Spans with the opt-out
// flag prove nothing secure, so they are never used.
func AggressiveNSEC3(qname string, qtype uint16, zone string, nsec3s []*dns.NSEC3) (nxdomain bool, proof []*dns.NSEC3, ok bool) {
	s, f := newNSEC3Set(zone, nsec3s)
	if f != nil {
		return false, nil, false
	}
	m, f := s.match(qname)
	if f != nil {
		return false, nil, false
	}
	if m != nil {
		if nodataBitmap(qname, zone, qtype, m.TypeBitMap) != nil {
			return false, nil, false
		}
		return false, []*dns.NSEC3{m}, true
	}
	ce, nc, f := s.closestEncloser(qname)
	if f != nil || nc.Flags&nsec3FlagOptOut != 0 {
		return false, nil, false
	}
	cem, f := s.match(ce)
	if f != nil || cem == nil {
		return false, nil, false
	}
	wc := wildcardOf(ce)
	if wm, f := s.match(wc); f != nil || wm != nil {
		return false, nil, false
	}
	c, f := s.cover(wc)
	if f != nil || c == nil {
		return false, nil, false
	}
	for _, n := range []*dns.NSEC3{cem, nc, c} {
		dup := false
		for _, p := range proof {
			dup = dup || p == n
		}
		if !dup {
			proof = append(proof, n)
		}
	}
	return true, proof, true
}

// AggressiveWildcardNSEC3 is AggressiveWildcard for NSEC3: validated
// records prove that qname does not exist and that the closest encloser is
// the parent of the wildcard returned. The closest encloser is an ancestor
// known to exist (an NSEC3 matches it, or it is the zone apex, which always
// exists) whose child towards qname, the next closer name, is covered by
// an NSEC3 outside any opt-out span. The wildcard's existence is not
// proven here: the caller must hold the validated wildcard RRset itself.
// The proof a wildcard answer carries is the NSEC3 covering the next
// closer name (RFC 5155 §7.2.6).
func AggressiveWildcardNSEC3(qname, zone string, nsec3s []*dns.NSEC3) (wildcard string, proof []*dns.NSEC3, ok bool) {
	s, f := newNSEC3Set(zone, nsec3s)
	if f != nil || !isSubdomain(s.zone, qname) || equalNames(qname, s.zone) {
		return "", nil, false
	}
	if m, f := s.match(qname); f != nil || m != nil {
		return "", nil, false
	}
	next := qname
	for cand := parentName(qname); ; next, cand = cand, parentName(cand) {
		m, f := s.match(cand)
		if f != nil {
			return "", nil, false
		}
		if m != nil && (isDelegation(m.TypeBitMap) || hasType(m.TypeBitMap, dns.TypeDNAME)) {
			return "", nil, false // names below are not the zone's to synthesise
		}
		if m != nil || equalNames(cand, s.zone) {
			c, f := s.cover(next)
			if f != nil || c == nil || c.Flags&nsec3FlagOptOut != 0 {
				return "", nil, false
			}
			return wildcardOf(dns.CanonicalName(cand)), []*dns.NSEC3{c}, true
		}
	}
}
