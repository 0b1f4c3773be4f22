package dnssec

import (
	"errors"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// dnskeyProtocol is the only valid DNSKEY protocol value (RFC 4034 §2.1.2).
const dnskeyProtocol = 3

// AlgorithmSupported reports whether signatures of the DNSKEY algorithm alg
// can be verified: DSA (3), RSASHA1 (5), DSA-NSEC3-SHA1 (6),
// RSASHA1-NSEC3-SHA1 (7), RSASHA256 (8), RSASHA512 (10), ECDSAP256SHA256
// (13), ECDSAP384SHA384 (14) and ED25519 (15). A zone whose DS RRs all use
// other algorithms is Insecure (RFC 4035 §5.2); one valid signature with a
// supported algorithm is enough (RFC 6840 §5.11).
//
// Policy note: RFC 8624 §3.1 (kept by RFC 9904's IANA registry) says
// validators MUST NOT validate DSA (3) and DSA-NSEC3-SHA1 (6); they are
// supported here because the resolver's brief asks for it. Dropping them
// from this switch makes such zones Insecure instead.
func AlgorithmSupported(alg uint8) bool {
	switch alg {
	case dns.DSA, dns.DSANSEC3SHA1, dns.RSASHA1, dns.RSASHA1NSEC3SHA1,
		dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384,
		dns.ED25519:
		return true
	}
	return false
}

// stage orders the failures met while trying signatures: when no signature
// verifies, the failure from the signature that got furthest is reported.
type stage int

const (
	stageMismatch   stage = iota // RRSIG does not belong to the RRset
	stageAlgorithm               // unsupported algorithm
	stageKey                     // no usable key
	stageTime                    // outside the validity period
	stageCrypto                  // the signature did not verify
	stageCollisions              // too many keys with the same tag
)

// failures keeps the most relevant failure.
type failures struct {
	best  *Failure
	stage stage
}

func (f *failures) note(s stage, err *Failure) {
	if f.best == nil || s > f.stage {
		f.best, f.stage = err, s
	}
}

// VerifyRRset checks that at least one of sigs is a valid signature over
// rrset by one of keys at time now (RFC 4035 §5.3). It returns the signature
// that verified. keys should be the validated DNSKEY RRset of the zone; only
// keys whose owner is the signer name, with the RRSIG's algorithm and key
// tag, protocol 3 and the Zone Key bit are used. budget bounds the work (nil:
// a default budget for this call).
//
// When the returned signature's Labels field is smaller than the owner's
// label count the RRset was synthesised from a wildcard: the caller must
// then obtain a proof that the query name does not exist (see
// [WildcardExpansion], [ProveWildcardAnswer], [ProveNSEC3WildcardAnswer]).
// The caller must also cap the RRset's TTL with [ValidatedTTL].
func VerifyRRset(rrset []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, now time.Time, budget *Budget) (*dns.RRSIG, error) {
	if len(rrset) == 0 || !dns.IsRRset(rrset) {
		return nil, bogus(ErrMalformed, dns.ExtendedErrorCodeDNSBogus, "not an RRset")
	}
	h0 := rrset[0].Header()
	if len(sigs) == 0 {
		return nil, bogus(ErrRRSIGsMissing, dns.ExtendedErrorCodeRRSIGsMissing,
			"%s/%s", h0.Name, dns.TypeToString[h0.Rrtype])
	}
	b := budget.orDefault()
	tags := make([]uint16, len(keys)) // computed once: KeyTrap zones carry many keys
	for i, k := range keys {
		if k != nil {
			tags[i] = k.KeyTag()
		}
	}
	var fs failures
	supportedSig := false
	for _, sig := range sigs {
		if sig == nil {
			continue
		}
		if err := sigMatchesRRset(sig, h0); err != nil {
			fs.note(stageMismatch, err)
			continue
		}
		if !AlgorithmSupported(sig.Algorithm) {
			fs.note(stageAlgorithm, insecure(ErrUnsupportedAlgorithm, dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm,
				"RRSIG algorithm %d for %s", sig.Algorithm, h0.Name))
			continue
		}
		supportedSig = true
		if !validAt(sig, now, b.skew(sig)) {
			fs.note(stageTime, validityFailure(sig, now))
			continue
		}
		tried := 0
		found := false
		for i, k := range keys {
			if k == nil || k.Algorithm != sig.Algorithm || tags[i] != sig.KeyTag ||
				!equalNames(k.Hdr.Name, sig.SignerName) {
				continue
			}
			found = true
			if k.Protocol != dnskeyProtocol {
				fs.note(stageKey, bogus(ErrDNSKEYMissing, dns.ExtendedErrorCodeDNSKEYMissing,
					"DNSKEY %s/%d has protocol %d", k.Hdr.Name, sig.KeyTag, k.Protocol))
				continue
			}
			if k.Flags&dns.ZONE == 0 {
				fs.note(stageKey, bogus(ErrNoZoneKeyBit, dns.ExtendedErrorCodeNoZoneKeyBitSet,
					"DNSKEY %s/%d", k.Hdr.Name, sig.KeyTag))
				continue
			}
			if tried >= b.collisions() {
				fs.note(stageCollisions, bogus(ErrBudgetExceeded, dns.ExtendedErrorCodeDNSBogus,
					"more than %d DNSKEYs with key tag %d for %s", b.collisions(), sig.KeyTag, sig.SignerName))
				break
			}
			tried++
			if err := b.spend(); err != nil {
				return nil, err
			}
			err := verifyOne(sig, k, rrset)
			if err == nil {
				return sig, nil
			}
			fs.note(stageCrypto, bogus(ErrInvalidSignature, dns.ExtendedErrorCodeDNSBogus,
				"%s/%s with key %s/%d/%d", h0.Name, dns.TypeToString[h0.Rrtype],
				k.Hdr.Name, k.Algorithm, sig.KeyTag))
		}
		if !found {
			fs.note(stageKey, bogus(ErrDNSKEYMissing, dns.ExtendedErrorCodeDNSKEYMissing,
				"no DNSKEY %s/%d/%d for %s/%s", sig.SignerName, sig.Algorithm, sig.KeyTag,
				h0.Name, dns.TypeToString[h0.Rrtype]))
		}
	}
	if !supportedSig && fs.stage == stageAlgorithm && keysSupported(keys) {
		// A zone with keys we can use must sign with them: an RRset
		// signed only with other algorithms is not "insecure".
		return nil, bogus(ErrRRSIGsMissing, dns.ExtendedErrorCodeRRSIGsMissing,
			"%s/%s has RRSIGs only with unsupported algorithms", h0.Name, dns.TypeToString[h0.Rrtype])
	}
	if fs.best == nil {
		return nil, bogus(ErrRRSIGsMissing, dns.ExtendedErrorCodeRRSIGsMissing,
			"%s/%s", h0.Name, dns.TypeToString[h0.Rrtype])
	}
	return nil, fs.best
}

// keysSupported reports whether any zone key has a supported algorithm.
func keysSupported(keys []*dns.DNSKEY) bool {
	for _, k := range keys {
		if k != nil && k.Flags&dns.ZONE != 0 && AlgorithmSupported(k.Algorithm) {
			return true
		}
	}
	return false
}

// sigMatchesRRset applies the RFC 4035 §5.3.1 checks that relate an RRSIG to
// the RRset it claims to cover.
func sigMatchesRRset(sig *dns.RRSIG, h *dns.RR_Header) *Failure {
	owner := h.Name
	switch {
	case sig.TypeCovered != h.Rrtype:
		return bogus(ErrRRSIGMismatch, dns.ExtendedErrorCodeDNSBogus,
			"RRSIG covers %s, RRset is %s", dns.TypeToString[sig.TypeCovered], dns.TypeToString[h.Rrtype])
	case sig.Hdr.Class != h.Class:
		return bogus(ErrRRSIGMismatch, dns.ExtendedErrorCodeDNSBogus, "RRSIG class %d, RRset class %d", sig.Hdr.Class, h.Class)
	case !equalNames(sig.Hdr.Name, owner):
		return bogus(ErrRRSIGMismatch, dns.ExtendedErrorCodeDNSBogus, "RRSIG owner %s, RRset owner %s", sig.Hdr.Name, owner)
	case int(sig.Labels) > dns.CountLabel(owner):
		return bogus(ErrRRSIGMismatch, dns.ExtendedErrorCodeDNSBogus,
			"RRSIG labels %d > %d labels of %s", sig.Labels, dns.CountLabel(owner), owner)
	case !isSubdomain(sig.SignerName, owner):
		return bogus(ErrSignerMismatch, dns.ExtendedErrorCodeDNSBogus, "signer %s is not an ancestor of %s", sig.SignerName, owner)
	case int(sig.Labels) < dns.CountLabel(sig.SignerName):
		return bogus(ErrSignerMismatch, dns.ExtendedErrorCodeDNSBogus,
			"wildcard above the zone: RRSIG labels %d, signer %s", sig.Labels, sig.SignerName)
	case h.Rrtype == dns.TypeDS && equalNames(sig.SignerName, owner) && owner != ".":
		return bogus(ErrSignerMismatch, dns.ExtendedErrorCodeDNSBogus, "DS %s signed by the child zone", owner)
	case h.Rrtype == dns.TypeDNSKEY && !equalNames(sig.SignerName, owner):
		return bogus(ErrSignerMismatch, dns.ExtendedErrorCodeDNSBogus, "DNSKEY %s signed by %s", owner, sig.SignerName)
	}
	return nil
}

// validAt reports whether now lies within the RRSIG's validity period
// (RFC 4035 §5.3.1) widened by skew seconds on each side, comparing the
// 32-bit times with RFC 1982 serial arithmetic (RFC 4034 §3.1.5) so that
// it keeps working after 2106. miekg/dns's RRSIG.ValidityPeriod gets the
// wrap wrong (an expiration just past 2^32 seconds reads as 1970), hence
// this version. An inception after the expiration is never valid.
func validAt(sig *dns.RRSIG, now time.Time, skew uint32) bool {
	t := uint32(now.Unix())
	return serialLE(sig.Inception, sig.Expiration) &&
		serialLE(sig.Inception-skew, t) && serialLE(t, sig.Expiration+skew)
}

// serialLE is a <= b in RFC 1982 serial number arithmetic on 32 bits.
func serialLE(a, b uint32) bool { return int32(b-a) >= 0 }

// validityFailure tells an expired signature from one not yet valid, with
// RFC 1982 serial arithmetic on the 32-bit times.
func validityFailure(sig *dns.RRSIG, now time.Time) *Failure {
	t := uint32(now.Unix())
	if !serialLE(sig.Inception, sig.Expiration) {
		return bogus(ErrSignatureExpiredBeforeValid, dns.ExtendedErrorCodeSignatureExpiredBeforeValid,
			"RRSIG %s/%s/%d inception %s after expiration %s", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered],
			sig.KeyTag, dns.TimeToString(sig.Inception), dns.TimeToString(sig.Expiration))
	}
	if int32(sig.Inception-t) > 0 {
		return bogus(ErrSignatureNotYetValid, dns.ExtendedErrorCodeSignatureNotYetValid,
			"RRSIG %s/%s/%d inception %s", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered], sig.KeyTag,
			dns.TimeToString(sig.Inception))
	}
	return bogus(ErrSignatureExpired, dns.ExtendedErrorCodeSignatureExpired,
		"RRSIG %s/%s/%d ended %s", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered], sig.KeyTag,
		dns.TimeToString(sig.Expiration))
}

// verifyOne runs the cryptographic check of sig over rrset with key k.
func verifyOne(sig *dns.RRSIG, k *dns.DNSKEY, rrset []dns.RR) error {
	switch sig.Algorithm {
	case dns.DSA, dns.DSANSEC3SHA1:
		return verifyDSA(sig, k, rrset)
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		// When the standard path fails for any reason but a signature
		// that does not match (a key it refuses: exponent over 32 bits,
		// modulus under 1024 bits; data it cannot put in canonical form,
		// such as a wildcard at the root), verify with math/big over our
		// own canonical form.
		err := sig.Verify(k, rrset)
		if err != nil && !errors.Is(err, dns.ErrSig) && !strings.Contains(err.Error(), "verification error") {
			return verifyRSABig(sig, k, rrset)
		}
		return err
	}
	return sig.Verify(k, rrset)
}

// WildcardExpansion reports whether sig shows that the RRset at owner was
// synthesised from a wildcard (RFC 4035 §5.3.2: RRSIG labels fewer than the
// owner's labels). It returns the wildcard name ("*." + closest encloser).
// A query for the literal wildcard name is not an expansion.
func WildcardExpansion(sig *dns.RRSIG, owner string) (wildcard string, ok bool) {
	n := dns.CountLabel(owner)
	if int(sig.Labels) >= n {
		return "", false
	}
	if l := dns.SplitDomainName(owner); len(l) > 0 && l[0] == "*" && int(sig.Labels) == n-1 {
		return "", false
	}
	ce := ancestorWithLabels(owner, int(sig.Labels))
	if ce == "." {
		return "*.", true
	}
	return "*." + ce, true
}

// ValidatedTTL returns the TTL a validated RRset may be cached for
// (RFC 4035 §5.3.3): the smallest of the received TTL, the RRSIG's original
// TTL and the time left until the signature expires.
func ValidatedTTL(rrset []dns.RR, sig *dns.RRSIG, now time.Time) uint32 {
	ttl := sig.OrigTtl
	for _, rr := range rrset {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if left := int32(sig.Expiration - uint32(now.Unix())); left < 0 {
		return 0
	} else if uint32(left) < ttl {
		ttl = uint32(left)
	}
	return ttl
}

// digestPreference ranks the supported DS digest types; only the DS RRs with
// the best supported digest are used, so an attacker cannot downgrade to a
// weaker one (RFC 4509 §3 for SHA-256 over SHA-1). 0: unsupported.
func digestPreference(t uint8) int {
	switch t {
	case dns.SHA1:
		return 1
	case dns.SHA256:
		return 2
	case dns.SHA384:
		return 3
	}
	return 0
}

// UsableDS returns the DS RRs that can authenticate a DNSKEY: a supported
// algorithm and digest type, and of those only the most preferred digest
// type. An empty result for a non-empty ds means the zone is Insecure
// (RFC 4035 §5.2, RFC 6840 §5.2); the error then says why.
func UsableDS(ds []*dns.DS) ([]*dns.DS, error) {
	best := 0
	for _, d := range ds {
		if d != nil && AlgorithmSupported(d.Algorithm) {
			best = max(best, digestPreference(d.DigestType))
		}
	}
	var out []*dns.DS
	for _, d := range ds {
		if d != nil && AlgorithmSupported(d.Algorithm) && best > 0 && digestPreference(d.DigestType) == best {
			out = append(out, d)
		}
	}
	if len(out) > 0 || len(ds) == 0 {
		return out, nil
	}
	for _, d := range ds {
		if d != nil && AlgorithmSupported(d.Algorithm) {
			return nil, insecure(ErrUnsupportedDigest, dns.ExtendedErrorCodeUnsupportedDSDigestType,
				"no DS for %s with a supported digest type", d.Hdr.Name)
		}
	}
	return nil, insecure(ErrUnsupportedAlgorithm, dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm,
		"no DS for %s with a supported algorithm", ds[0].Hdr.Name)
}

// dsMatches reports whether key k is the DNSKEY that d refers to.
func dsMatches(d *dns.DS, k *dns.DNSKEY) bool {
	if d.Algorithm != k.Algorithm || d.KeyTag != k.KeyTag() || !equalNames(d.Hdr.Name, k.Hdr.Name) {
		return false
	}
	got := k.ToDS(d.DigestType)
	return got != nil && equalFoldHex(got.Digest, d.Digest)
}

// equalFoldHex compares hex strings ignoring case.
func equalFoldHex(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// VerifyDNSKEY authenticates a zone's DNSKEY RRset (RFC 4035 §5.2): it is
// Secure when a key that matches one of ds (or equals one of anchorKeys, the
// DNSKEY trust anchors of the zone) signs the RRset. Only the DS RRs chosen
// by [UsableDS] are considered; when ds has RRs but none is usable and there
// are no usable anchor keys, the zone is Insecure (ErrUnsupportedDigest or
// ErrUnsupportedAlgorithm). It returns the signature that verified.
func VerifyDNSKEY(keys []*dns.DNSKEY, sigs []*dns.RRSIG, ds []*dns.DS, anchorKeys []*dns.DNSKEY, now time.Time, budget *Budget) (*dns.RRSIG, error) {
	if len(keys) == 0 {
		return nil, bogus(ErrDNSKEYMissing, dns.ExtendedErrorCodeDNSKEYMissing, "empty DNSKEY RRset")
	}
	zone := keys[0].Hdr.Name
	usable, dsErr := UsableDS(ds)
	var anchors []*dns.DNSKEY
	unsupportedAnchor := false
	for _, a := range anchorKeys {
		if a == nil || !equalNames(a.Hdr.Name, zone) || a.Flags&dns.REVOKE != 0 {
			continue
		}
		if !AlgorithmSupported(a.Algorithm) {
			unsupportedAnchor = true
			continue
		}
		anchors = append(anchors, a)
	}
	if len(usable) == 0 && len(anchors) == 0 {
		switch {
		case dsErr != nil:
			return nil, dsErr
		case unsupportedAnchor:
			return nil, insecure(ErrUnsupportedAlgorithm, dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm,
				"trust anchors for %s use unsupported algorithms", zone)
		}
		return nil, bogus(ErrDNSKEYMissing, dns.ExtendedErrorCodeDNSKEYMissing, "no DS or trust anchor for %s", zone)
	}

	rrset := make([]dns.RR, 0, len(keys))
	for _, k := range keys {
		if k == nil {
			return nil, bogus(ErrMalformed, dns.ExtendedErrorCodeDNSBogus, "nil DNSKEY")
		}
		rrset = append(rrset, k)
	}
	b := budget.orDefault()
	var trusted []*dns.DNSKEY
	var noZoneBit bool
	for _, d := range usable {
		matched := 0
		for _, k := range keys {
			if matched >= b.collisions() {
				break
			}
			if !dsMatches(d, k) {
				continue
			}
			matched++
			if k.Flags&dns.ZONE == 0 || k.Protocol != dnskeyProtocol {
				// RFC 4034 §5.2: the key a DS refers to must be a zone key.
				noZoneBit = true
				continue
			}
			trusted = append(trusted, k)
		}
	}
	trusted = append(trusted, anchors...)
	if len(trusted) == 0 {
		if noZoneBit {
			return nil, bogus(ErrNoZoneKeyBit, dns.ExtendedErrorCodeNoZoneKeyBitSet,
				"the DNSKEY matching the DS of %s is not a zone key", zone)
		}
		return nil, bogus(ErrDNSKEYMissing, dns.ExtendedErrorCodeDNSKEYMissing,
			"the keys of %s match neither its DS nor a trust anchor", zone)
	}
	sig, err := VerifyRRset(rrset, sigs, trusted, now, b)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) && f.Status == Insecure {
			// The trusted keys have supported algorithms, so an RRset
			// signed only with others is bogus, not insecure.
			return nil, bogus(ErrRRSIGsMissing, dns.ExtendedErrorCodeRRSIGsMissing,
				"DNSKEY %s not signed by a key matching its DS: %v", zone, err)
		}
		return nil, err
	}
	return sig, nil
}
