package dnssec

import (
	"slices"

	"github.com/miekg/dns"
)

// The NSEC proofs below take the NSEC RRs of one response that the caller
// has already verified (VerifyRRset) with the keys of zone, the signer name
// of their RRSIGs. NSEC RRs whose owner is outside zone are ignored. They
// return nil when the proof holds, otherwise a Bogus *Failure wrapping
// ErrNSECMissing or ErrWildcardProofMissing (EDE 12, NSEC Missing).

// hasType reports whether an NSEC or NSEC3 type bitmap lists t.
func hasType(bitmap []uint16, t uint16) bool {
	return slices.Contains(bitmap, t)
}

// isDelegation reports whether a bitmap is that of a delegation point seen
// from the parent: NS without SOA.
func isDelegation(bitmap []uint16) bool {
	return hasType(bitmap, dns.TypeNS) && !hasType(bitmap, dns.TypeSOA)
}

// nsecInZone filters nsecs to those owned by names in zone.
func nsecInZone(zone string, nsecs []*dns.NSEC) []*dns.NSEC {
	var out []*dns.NSEC
	for _, n := range nsecs {
		if n != nil && isSubdomain(zone, n.Hdr.Name) {
			out = append(out, n)
		}
	}
	return out
}

// nsecCovers reports whether n proves that name does not exist: name sorts
// strictly between the owner and the next name (RFC 4034 §6.1 order), the
// last NSEC of the zone wrapping around to the apex. An NSEC at a delegation
// point (NS without SOA) or at a DNAME cannot deny names below its owner
// (RFC 6840 §4.1): the parent is not authoritative for them.
func nsecCovers(zone string, n *dns.NSEC, name string) bool {
	if !isSubdomain(zone, name) {
		return false
	}
	owner, next := n.Hdr.Name, n.NextDomain
	if compareNames(owner, name) >= 0 {
		return false
	}
	if isSubdomain(owner, name) && (isDelegation(n.TypeBitMap) || hasType(n.TypeBitMap, dns.TypeDNAME)) {
		return false
	}
	if compareNames(next, owner) <= 0 || !isSubdomain(zone, next) {
		// Last NSEC of the zone: next is the apex; everything in the zone
		// after owner is covered.
		return equalNames(next, zone)
	}
	return compareNames(name, next) < 0
}

// findNSECMatch returns the NSEC owned by name.
func findNSECMatch(nsecs []*dns.NSEC, name string) *dns.NSEC {
	for _, n := range nsecs {
		if equalNames(n.Hdr.Name, name) {
			return n
		}
	}
	return nil
}

// findNSECCover returns an NSEC that covers name.
func findNSECCover(zone string, nsecs []*dns.NSEC, name string) *dns.NSEC {
	for _, n := range nsecs {
		if nsecCovers(zone, n, name) {
			return n
		}
	}
	return nil
}

// nsecClosestEncloser derives the closest encloser of a name covered by n:
// the longer of its common ancestors with the owner and the next name
// (RFC 4035 §5.4).
func nsecClosestEncloser(zone string, n *dns.NSEC, name string) string {
	a := commonAncestor(name, n.Hdr.Name)
	if isSubdomain(zone, n.NextDomain) {
		if b := commonAncestor(name, n.NextDomain); dns.CountLabel(b) > dns.CountLabel(a) {
			a = b
		}
	}
	return a
}

// wildcardOf returns "*." + name.
func wildcardOf(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + dns.Fqdn(name)
}

// proveNameAbsent checks that an NSEC covers qname (which therefore does
// not exist, not even as an empty non-terminal) and returns its closest
// encloser.
func proveNameAbsent(qname, zone string, nsecs []*dns.NSEC) (string, *Failure) {
	if m := findNSECMatch(nsecs, qname); m != nil {
		return "", bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC shows %s exists", qname)
	}
	n := findNSECCover(zone, nsecs, qname)
	if n == nil {
		return "", bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC covers %s", qname)
	}
	if isSubdomain(qname, n.NextDomain) && !equalNames(n.NextDomain, zone) {
		return "", bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing,
			"%s is an empty non-terminal (NSEC %s -> %s)", qname, n.Hdr.Name, n.NextDomain)
	}
	return nsecClosestEncloser(zone, n, qname), nil
}

// ProveNXDOMAIN checks an NSEC name error proof (RFC 4035 §5.4, §3.1.3.2):
// an NSEC covers qname, and an NSEC covers the wildcard at the closest
// encloser, so no wildcard could have answered.
func ProveNXDOMAIN(qname, zone string, nsecs []*dns.NSEC) error {
	nsecs = nsecInZone(zone, nsecs)
	ce, err := proveNameAbsent(qname, zone, nsecs)
	if err != nil {
		return err
	}
	wc := wildcardOf(ce)
	if m := findNSECMatch(nsecs, wc); m != nil {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "wildcard %s exists", wc)
	}
	if findNSECCover(zone, nsecs, wc) == nil {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC denies wildcard %s", wc)
	}
	return nil
}

// nodataBitmap checks that a bitmap of an NSEC or NSEC3 at qname proves that
// qtype has no data there (RFC 4035 §5.4, RFC 5155 §8.5/§8.6).
func nodataBitmap(qname, zone string, qtype uint16, bitmap []uint16) *Failure {
	fail := func(format string, args ...any) *Failure {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, format, args...)
	}
	switch {
	case hasType(bitmap, qtype):
		return fail("%s has type %s", qname, dns.TypeToString[qtype])
	case hasType(bitmap, dns.TypeCNAME):
		return fail("%s has a CNAME", qname)
	case qtype == dns.TypeDS && qname != "." && (hasType(bitmap, dns.TypeSOA) || equalNames(zone, qname)):
		// RFC 6840 §4.1 / RFC 4035 §5.4: the DS lives in the parent; the
		// child apex NSEC says nothing about it.
		return fail("denial of DS at %s comes from the child zone", qname)
	case qtype != dns.TypeDS && isDelegation(bitmap):
		// The parent side of a delegation: the child holds the data.
		return fail("denial of %s at %s comes from the parent of a delegation", dns.TypeToString[qtype], qname)
	}
	return nil
}

// ProveNODATA checks an NSEC no-data proof (RFC 4035 §5.4): an NSEC at
// qname whose bitmap has neither qtype nor CNAME, or, for an empty
// non-terminal, an NSEC covering qname whose next name is below qname. For
// qtype DS the NSEC must come from the parent side (no SOA bit); for other
// types it must not be the parent side of a delegation (NS without SOA).
func ProveNODATA(qname string, qtype uint16, zone string, nsecs []*dns.NSEC) error {
	nsecs = nsecInZone(zone, nsecs)
	if m := findNSECMatch(nsecs, qname); m != nil {
		if err := nodataBitmap(qname, zone, qtype, m.TypeBitMap); err != nil {
			return err
		}
		return nil
	}
	if n := findNSECCover(zone, nsecs, qname); n != nil &&
		isSubdomain(qname, n.NextDomain) && !equalNames(qname, n.NextDomain) {
		return nil // empty non-terminal
	}
	return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC proves %s/%s has no data", qname, dns.TypeToString[qtype])
}

// ProveWildcardNODATA checks an NSEC wildcard no-data proof (RFC 4035
// §3.1.3.4): qname does not exist and the wildcard at its closest encloser
// exists without qtype (and without CNAME).
func ProveWildcardNODATA(qname string, qtype uint16, zone string, nsecs []*dns.NSEC) error {
	nsecs = nsecInZone(zone, nsecs)
	ce, err := proveNameAbsent(qname, zone, nsecs)
	if err != nil {
		return err
	}
	wc := wildcardOf(ce)
	m := findNSECMatch(nsecs, wc)
	if m == nil {
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC at wildcard %s", wc)
	}
	if err := nodataBitmap(wc, zone, qtype, m.TypeBitMap); err != nil {
		return err
	}
	return nil
}

// ProveWildcardAnswer checks that a wildcard-expanded answer for qname was
// legitimate (RFC 4035 §5.3.4): wildcard is the name returned by
// WildcardExpansion, and an NSEC must prove that qname does not exist and
// that no name closer to qname than the wildcard's parent exists.
func ProveWildcardAnswer(qname, wildcard, zone string, nsecs []*dns.NSEC) error {
	nsecs = nsecInZone(zone, nsecs)
	ce, err := proveNameAbsent(qname, zone, nsecs)
	if err != nil {
		return bogus(ErrWildcardProofMissing, dns.ExtendedErrorCodeNSECMissing, "%s", err.Reason)
	}
	wce := parentName(wildcard)
	if !isSubdomain(wce, qname) || dns.CountLabel(ce) > dns.CountLabel(wce) {
		return bogus(ErrWildcardProofMissing, dns.ExtendedErrorCodeNSECMissing,
			"%s has closest encloser %s, not %s of wildcard %s", qname, ce, wce, wildcard)
	}
	return nil
}

// ProveInsecureDelegation checks that the delegation to child is unsigned
// (RFC 4035 §5.2): an NSEC at child, from the parent zone, with the NS bit
// and neither DS nor SOA. nil means the proof holds and the child zone is
// Insecure.
func ProveInsecureDelegation(child, zone string, nsecs []*dns.NSEC) error {
	nsecs = nsecInZone(zone, nsecs)
	m := findNSECMatch(nsecs, child)
	switch {
	case m == nil:
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "no NSEC at delegation %s", child)
	case equalNames(child, zone) || hasType(m.TypeBitMap, dns.TypeSOA):
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC at %s is from the child apex", child)
	case !hasType(m.TypeBitMap, dns.TypeNS):
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC at %s has no NS bit: not a delegation", child)
	case hasType(m.TypeBitMap, dns.TypeDS):
		return bogus(ErrNSECMissing, dns.ExtendedErrorCodeNSECMissing, "NSEC at %s has the DS bit: signed delegation", child)
	}
	return nil
}

// AggressiveNSEC looks in validated NSEC records of zone for a proof that
// qname/qtype has no data, as RFC 8198 allows a resolver to answer from
// its cache: a matching NSEC whose bitmap lacks qtype (NODATA), or an NSEC
// covering qname plus one covering the wildcard at its closest encloser
// (NXDOMAIN). It returns the records that make the proof; ok is false
// when the records prove nothing (a wildcard that exists is left to the
// authoritative servers).
func AggressiveNSEC(qname string, qtype uint16, zone string, nsecs []*dns.NSEC) (nxdomain bool, proof []*dns.NSEC, ok bool) {
	nsecs = nsecInZone(zone, nsecs)
	if m := findNSECMatch(nsecs, qname); m != nil {
		if ProveNODATA(qname, qtype, zone, []*dns.NSEC{m}) == nil {
			return false, []*dns.NSEC{m}, true
		}
		return false, nil, false
	}
	ce, err := proveNameAbsent(qname, zone, nsecs)
	if err != nil {
		return false, nil, false
	}
	wc := wildcardOf(ce)
	if findNSECMatch(nsecs, wc) != nil {
		return false, nil, false
	}
	n1, n2 := findNSECCover(zone, nsecs, qname), findNSECCover(zone, nsecs, wc)
	if n1 == nil || n2 == nil {
		return false, nil, false
	}
	proof = []*dns.NSEC{n1}
	if n2 != n1 {
		proof = append(proof, n2)
	}
	return true, proof, true
}

// NoDelegationAt reports whether validated NSEC records of zone prove
// that name, below the apex, owns no NS RRset in zone, so no zone cut is
// there: the NSEC owned by name lacks the NS bit, or an NSEC covers name
// (nothing is owned there, or name is an empty non-terminal). A resolver
// minimising the QNAME (RFC 9156) then need not ask (RFC 8198).
func NoDelegationAt(name, zone string, nsecs []*dns.NSEC) bool {
	if equalNames(name, zone) || !isSubdomain(zone, name) {
		return false
	}
	nsecs = nsecInZone(zone, nsecs)
	if m := findNSECMatch(nsecs, name); m != nil {
		return !hasType(m.TypeBitMap, dns.TypeNS)
	}
	return findNSECCover(zone, nsecs, name) != nil
}

// AggressiveWildcard finds, in validated NSEC records of zone, the proof
// that qname does not exist while the wildcard at its closest encloser
// does, so an answer may be synthesised from the cached wildcard RRset
// (RFC 8198 §5.3). It returns the wildcard's name and the NSEC covering
// qname.
func AggressiveWildcard(qname, zone string, nsecs []*dns.NSEC) (wildcard string, proof []*dns.NSEC, ok bool) {
	nsecs = nsecInZone(zone, nsecs)
	ce, err := proveNameAbsent(qname, zone, nsecs)
	if err != nil {
		return "", nil, false
	}
	wc := wildcardOf(ce)
	if findNSECMatch(nsecs, wc) == nil {
		return "", nil, false
	}
	n := findNSECCover(zone, nsecs, qname)
	if n == nil {
		return "", nil, false
	}
	return wc, []*dns.NSEC{n}, true
}
