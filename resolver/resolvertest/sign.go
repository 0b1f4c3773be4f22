package resolvertest

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Validity window of the lab's signatures, relative to the lab's clock at
// Start: an hour of slack for clocks that are a little behind, and thirty
// days, long enough for any test or demo.
const (
	sigInceptionSlack = time.Hour
	sigLifetime       = 30 * 24 * time.Hour
)

// Flags of the two keys of a signed zone (RFC 4034 section 2.1.1): Zone
// Key, plus Secure Entry Point for the KSK.
const (
	flagsZSK = dns.ZONE
	flagsKSK = dns.ZONE | dns.SEP
)

// Breakage is a deliberate DNSSEC error in a signed zone, for tests of
// validating resolvers. Each one makes a validator answer SERVFAIL (Bogus)
// for the names it affects.
type Breakage int

const (
	// NotBroken signs the zone correctly.
	NotBroken Breakage = iota
	// BreakExpired signs with signatures that expired two days (or
	// SignOptions.ExpiredAgo) before the lab started: beyond the largest
	// clock-skew allowance a validator gives, a day (RFC 8914 EDE 7,
	// Signature Expired).
	BreakExpired
	// BreakNotYetValid signs with signatures whose inception is two days
	// after the lab started (EDE 8, Signature Not Yet Valid).
	BreakNotYetValid
	// BreakWrongDS makes the parent zone (when it is signed in the same
	// lab) publish a DS whose digest matches no key of the zone (EDE 9,
	// DNSKEY Missing).
	BreakWrongDS
	// BreakMissingRRSIG leaves the RRsets at SignOptions.BreakNames (by
	// default every RRset below the apex) unsigned (EDE 10, RRSIGs Missing).
	BreakMissingRRSIG
	// BreakBadSignature tampers with the signatures over the RRsets at
	// SignOptions.BreakNames (by default every RRset below the apex), as a
	// forger would (EDE 6, DNSSEC Bogus).
	BreakBadSignature
	// BreakMissingNSEC leaves the NSEC or NSEC3 proofs out of NXDOMAIN,
	// NODATA and wildcard answers (EDE 12, NSEC Missing); referrals to
	// unsigned children keep theirs.
	BreakMissingNSEC
)

// SignOptions say how SignZone signs a zone. The zero value signs with
// ECDSA P-256 (algorithm 13) and an NSEC chain.
type SignOptions struct {
	// Algorithm of both keys: dns.ECDSAP256SHA256 (the default),
	// dns.ECDSAP384SHA384, dns.ED25519, dns.RSASHA256 or dns.RSASHA512
	// (2048-bit keys, slow to generate).
	Algorithm uint8
	// NSEC3 denies existence with hashed names (RFC 5155): SHA-1 and, by
	// default, no salt and no extra iterations, as RFC 9276 recommends.
	NSEC3 bool
	// NSEC3Iterations and NSEC3Salt (hex, "" for none) are the NSEC3
	// hash parameters (RFC 5155 section 3.1), for zones that must look
	// like older ones: RFC 5155's own example uses 12 and "aabbccdd".
	NSEC3Iterations uint16
	NSEC3Salt       string
	// OptOutFlagWrong, with OptOut, leaves the unsigned delegations out
	// of the chain but clears the opt-out flag in every NSEC3, as a
	// broken signer would: a validator must then find no proof for them.
	OptOutFlagWrong bool
	// OptOut sets the NSEC3 opt-out flag and leaves unsigned delegations
	// out of the NSEC3 chain (RFC 5155 section 6). Only with NSEC3.
	OptOut bool
	// Break breaks the zone on purpose.
	Break Breakage
	// BreakNames limits BreakMissingRRSIG and BreakBadSignature to the
	// RRsets owned by these names (relative to the origin, or fully
	// qualified); empty means every RRset below the apex.
	BreakNames []string
	// ExpiredAgo is, with BreakExpired, how long before the signing time
	// the signatures expired; zero means two days. An hour tests a
	// validator's clock-skew allowance.
	ExpiredAgo time.Duration
}

// zoneKey is one key pair of a signed zone.
type zoneKey struct {
	rr     *dns.DNSKEY
	signer crypto.Signer
	tag    uint16
}

// signing holds the keys of a signed zone and, after Start, its
// signatures and denial-of-existence chain. Immutable after Start.
type signing struct {
	opts     SignOptions
	ksk, zsk zoneKey
	// sigs maps a canonical owner name and a covered type to the RRSIGs.
	sigs map[string]map[uint16][]*dns.RRSIG
	// nsecs is the NSEC chain in canonical order (RFC 4034 section 6.1).
	nsecs []*dns.NSEC
	// nsec3s is the NSEC3 chain sorted by hash; hashes the owner hashes
	// (lower case base32hex) in the same order.
	nsec3s []*dns.NSEC3
	hashes []string
}

// SignZone marks the zone origin, which must have been added, to be signed
// at Start. Its keys (a KSK with flags 257 and a ZSK with flags 256) are
// generated now, so TrustAnchor works before Start; they live only in
// memory. At Start the DNSKEY RRset is added at the apex, every
// authoritative RRset is signed (delegation NS and glue are not; DS is),
// the NSEC or NSEC3 chain is built and signed, and a signed parent zone in
// the lab gets the zone's DS (SHA-256) at the delegation, unless the
// parent's text already has DS records there. Signatures are valid from an
// hour before Config.Now at Start to thirty days after.
func (l *Lab) SignZone(origin string, opts SignOptions) error {
	origin = dns.CanonicalName(origin)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != stateNew {
		return errors.New("resolvertest: SignZone after Start")
	}
	z, ok := l.zones[origin]
	if !ok {
		return fmt.Errorf("resolvertest: SignZone: zone %q not added", origin)
	}
	if z.sec != nil {
		return fmt.Errorf("resolvertest: zone %q signed twice", origin)
	}
	var err error
	z.sec, err = newSigning(z, opts)
	return err
}

// newSigning checks opts and makes the keys of zone z.
func newSigning(z *zone, opts SignOptions) (*signing, error) {
	if opts.Algorithm == 0 {
		opts.Algorithm = dns.ECDSAP256SHA256
	}
	if opts.OptOut && !opts.NSEC3 {
		return nil, fmt.Errorf("resolvertest: zone %q: OptOut needs NSEC3", z.origin)
	}
	if (opts.NSEC3Iterations > 0 || opts.NSEC3Salt != "") && !opts.NSEC3 {
		return nil, fmt.Errorf("resolvertest: zone %q: NSEC3 parameters need NSEC3", z.origin)
	}
	if len(opts.NSEC3Salt) > 2*255 || hexInvalid(opts.NSEC3Salt) {
		return nil, fmt.Errorf("resolvertest: zone %q: NSEC3 salt %q is not hex of at most 255 octets", z.origin, opts.NSEC3Salt)
	}
	ttl := z.soa.Hdr.Ttl
	ksk, err := newZoneKey(z.origin, opts.Algorithm, flagsKSK, ttl)
	if err != nil {
		return nil, err
	}
	zsk, err := newZoneKey(z.origin, opts.Algorithm, flagsZSK, ttl)
	if err != nil {
		return nil, err
	}
	return &signing{opts: opts, ksk: ksk, zsk: zsk}, nil
}

// TrustAnchor returns, as zone-file text for dnssec.ParseAnchors, the DS
// records (SHA-256) of the KSK of the signed root zone, or, when the root
// is not signed, of every signed zone whose parent is not signed in the
// lab. It is empty when no zone is signed.
func (l *Lab) TrustAnchor() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var origins []string
	for origin, z := range l.zones {
		if z.sec == nil {
			continue
		}
		if p := l.signedParent(origin); p == nil {
			origins = append(origins, origin)
		}
	}
	sortCanonical(origins)
	var b strings.Builder
	for _, origin := range origins {
		ds := l.zones[origin].sec.ksk.rr.ToDS(dns.SHA256)
		b.WriteString(ds.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// DNSKEYs returns copies of the KSK and ZSK of the signed zone origin, or
// nil if it is not signed.
func (l *Lab) DNSKEYs(origin string) []*dns.DNSKEY {
	l.mu.Lock()
	defer l.mu.Unlock()
	z := l.zones[dns.CanonicalName(origin)]
	if z == nil || z.sec == nil {
		return nil
	}
	return []*dns.DNSKEY{
		dns.Copy(z.sec.ksk.rr).(*dns.DNSKEY),
		dns.Copy(z.sec.zsk.rr).(*dns.DNSKEY),
	}
}

// signedParent returns the closest zone of the lab strictly above origin
// if it is signed, else nil. The caller holds l.mu.
func (l *Lab) signedParent(origin string) *zone {
	for n := origin; n != "."; {
		n = parent(n)
		if z, ok := l.zones[n]; ok {
			if z.sec != nil {
				return z
			}
			return nil
		}
	}
	return nil
}

// newZoneKey generates a key pair.
func newZoneKey(origin string, alg uint8, flags uint16, ttl uint32) (zoneKey, error) {
	var bits int
	switch alg {
	case dns.ECDSAP256SHA256, dns.ED25519:
		bits = 256
	case dns.ECDSAP384SHA384:
		bits = 384
	case dns.RSASHA256, dns.RSASHA512:
		bits = 2048
	default:
		return zoneKey{}, fmt.Errorf("resolvertest: zone %q: algorithm %d not supported", origin, alg)
	}
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	// miekg/dns refuses to sign with a key whose tag is 0 (one key in
	// 65,536); a new key is drawn then. Four draws all with tag 0 do not
	// happen.
	var priv crypto.PrivateKey
	var err error
	for try := 0; try < 4 && (priv == nil || k.KeyTag() == 0); try++ {
		if priv, err = k.Generate(bits); err != nil {
			return zoneKey{}, fmt.Errorf("resolvertest: zone %q: generate key: %w", origin, err)
		}
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return zoneKey{}, fmt.Errorf("resolvertest: zone %q: key of algorithm %d cannot sign", origin, alg)
	}
	return zoneKey{rr: k, signer: signer, tag: k.KeyTag()}, nil
}

// signZones signs every zone marked by SignZone, at time now: first the
// DS records go into signed parents, then each zone is signed. The caller
// holds l.mu.
func (l *Lab) signZones(now time.Time) error {
	origins := make([]string, 0, len(l.zones))
	for origin, z := range l.zones {
		if z.sec != nil {
			origins = append(origins, origin)
		}
	}
	sortCanonical(origins)
	for _, origin := range origins {
		child := l.zones[origin]
		p := l.signedParent(origin)
		if p == nil || len(p.nodes[origin][dns.TypeNS]) == 0 || len(p.nodes[origin][dns.TypeDS]) > 0 {
			continue
		}
		ds := child.sec.ksk.rr.ToDS(dns.SHA256)
		ds.Hdr.Ttl = p.nodes[origin][dns.TypeNS][0].Header().Ttl
		if child.sec.opts.Break == BreakWrongDS {
			ds.Digest = tamperHex(ds.Digest)
		}
		if err := p.add(ds); err != nil {
			return err
		}
	}
	for _, origin := range origins {
		if err := l.zones[origin].sign(now); err != nil {
			return err
		}
	}
	return nil
}

// sign adds the DNSKEY (and NSEC3PARAM) RRsets, builds the denial chain
// and signs every authoritative RRset of z.
func (z *zone) sign(now time.Time) error {
	s := z.sec
	if s.sigs != nil {
		return nil // signed by an earlier Start that failed to bind
	}
	for _, k := range []zoneKey{s.ksk, s.zsk} {
		if err := z.add(dns.Copy(k.rr)); err != nil {
			return err
		}
	}
	if s.opts.NSEC3 {
		param := &dns.NSEC3PARAM{
			Hdr:        dns.RR_Header{Name: z.origin, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET, Ttl: 0},
			Hash:       dns.SHA1,
			Iterations: s.opts.NSEC3Iterations,
			SaltLength: uint8(len(s.opts.NSEC3Salt) / 2),
			Salt:       nsec3Salt(s.opts.NSEC3Salt),
		}
		if err := z.add(param); err != nil {
			return err
		}
	}
	inception, expiration := now.Add(-sigInceptionSlack), now.Add(sigLifetime)
	switch s.opts.Break {
	// Two days out: beyond the largest clock-skew allowance a validator
	// gives (a day, Unbound's val-sig-skew-max).
	case BreakExpired:
		ago := s.opts.ExpiredAgo
		if ago <= 0 {
			ago = 48 * time.Hour
		}
		inception, expiration = now.Add(-ago-sigLifetime), now.Add(-ago)
	case BreakNotYetValid:
		inception, expiration = now.Add(48*time.Hour), now.Add(48*time.Hour+sigLifetime)
	}
	s.sigs = map[string]map[uint16][]*dns.RRSIG{}
	sign := func(rrs []dns.RR) error {
		h := rrs[0].Header()
		key := s.zsk
		if h.Rrtype == dns.TypeDNSKEY {
			key = s.ksk
		}
		sig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
			Algorithm:  key.rr.Algorithm,
			KeyTag:     key.tag,
			SignerName: z.origin,
			Inception:  uint32(inception.Unix()),
			Expiration: uint32(expiration.Unix()),
		}
		if err := sig.Sign(key.signer, rrs); err != nil {
			return fmt.Errorf("resolvertest: zone %q: sign %s/%s: %w", z.origin, h.Name, dns.TypeToString[h.Rrtype], err)
		}
		name := dns.CanonicalName(h.Name)
		if s.sigs[name] == nil {
			s.sigs[name] = map[uint16][]*dns.RRSIG{}
		}
		s.sigs[name][h.Rrtype] = append(s.sigs[name][h.Rrtype], sig)
		return nil
	}
	for name, node := range z.nodes {
		if z.occluded(name) {
			continue
		}
		deleg := z.isDelegation(name)
		for t, rrs := range node {
			if deleg && t != dns.TypeDS {
				continue
			}
			if err := sign(rrs); err != nil {
				return err
			}
		}
	}
	if s.opts.NSEC3 {
		z.buildNSEC3()
		for _, n := range s.nsec3s {
			if err := sign([]dns.RR{n}); err != nil {
				return err
			}
		}
	} else {
		z.buildNSEC()
		for _, n := range s.nsecs {
			if err := sign([]dns.RR{n}); err != nil {
				return err
			}
		}
	}
	z.breakSigs()
	return nil
}

// breakSigs applies BreakMissingRRSIG and BreakBadSignature.
func (z *zone) breakSigs() {
	s := z.sec
	if s.opts.Break != BreakMissingRRSIG && s.opts.Break != BreakBadSignature {
		return
	}
	targets := map[string]bool{}
	for _, n := range s.opts.BreakNames {
		if !dns.IsFqdn(n) {
			n = dns.Fqdn(n) + z.origin
			if z.origin == "." {
				n = dns.Fqdn(strings.TrimSuffix(n, "."))
			}
		}
		targets[dns.CanonicalName(n)] = true
	}
	for name, byType := range s.sigs {
		if len(targets) > 0 && !targets[name] || len(targets) == 0 && name == z.origin {
			continue
		}
		for t, sigs := range byType {
			if t == dns.TypeNSEC || t == dns.TypeNSEC3 {
				continue
			}
			if s.opts.Break == BreakMissingRRSIG {
				delete(byType, t)
				continue
			}
			for _, sig := range sigs {
				sig.Signature = tamperBase64(sig.Signature)
			}
		}
	}
}

// occluded reports whether name is below a zone cut of z: glue or data the
// zone is not authoritative for.
func (z *zone) occluded(name string) bool {
	for n := name; n != z.origin && n != "."; {
		n = parent(n)
		if n != z.origin && len(z.nodes[n][dns.TypeNS]) > 0 {
			return true
		}
	}
	return false
}

// isDelegation reports whether name is a zone cut of z (NS below the apex).
func (z *zone) isDelegation(name string) bool {
	return name != z.origin && len(z.nodes[name][dns.TypeNS]) > 0
}

// typesAt returns the sorted types of the RRsets at name, as the parent
// side sees them at a delegation (NS and DS only).
func (z *zone) typesAt(name string) []uint16 {
	deleg := z.isDelegation(name)
	var out []uint16
	for t := range z.nodes[name] {
		if deleg && t != dns.TypeNS && t != dns.TypeDS {
			continue
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// denialTTL is the TTL of NSEC and NSEC3 records: the negative caching TTL
// (RFC 9077).
func (z *zone) denialTTL() uint32 { return min(z.soa.Hdr.Ttl, z.soa.Minttl) }

// buildNSEC builds the NSEC chain over the names of z that own data
// (RFC 4034 section 4; empty non-terminals have no NSEC).
func (z *zone) buildNSEC() {
	var names []string
	for name := range z.nodes {
		if !z.occluded(name) {
			names = append(names, name)
		}
	}
	sortCanonical(names)
	s := z.sec
	s.nsecs = make([]*dns.NSEC, len(names))
	for i, name := range names {
		types := append(z.typesAt(name), dns.TypeRRSIG, dns.TypeNSEC)
		sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
		s.nsecs[i] = &dns.NSEC{
			Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: z.denialTTL()},
			NextDomain: names[(i+1)%len(names)],
			TypeBitMap: types,
		}
	}
}

// buildNSEC3 builds the NSEC3 chain over the names of z, empty
// non-terminals included (RFC 5155 section 7.1); with opt-out, unsigned
// delegations are left out.
func (z *zone) buildNSEC3() {
	s := z.sec
	type entry struct {
		hash  string
		types []uint16
	}
	var entries []entry
	for name := range z.names {
		if z.occluded(name) {
			continue
		}
		types := z.typesAt(name)
		unsignedCut := z.isDelegation(name) && len(z.nodes[name][dns.TypeDS]) == 0
		if unsignedCut && s.opts.OptOut {
			continue
		}
		if len(types) > 0 && !unsignedCut {
			types = append(types, dns.TypeRRSIG)
			sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
		}
		entries = append(entries, entry{hash: z.hash(name), types: types})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].hash < entries[j].hash })
	var flags uint8
	if s.opts.OptOut && !s.opts.OptOutFlagWrong {
		flags = 1
	}
	s.nsec3s = make([]*dns.NSEC3, len(entries))
	s.hashes = make([]string, len(entries))
	for i, e := range entries {
		next := entries[(i+1)%len(entries)].hash
		s.hashes[i] = e.hash
		s.nsec3s[i] = &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: e.hash + "." + strings.TrimPrefix(z.origin, "."), Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: z.denialTTL()},
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: s.opts.NSEC3Iterations,
			SaltLength: uint8(len(s.opts.NSEC3Salt) / 2),
			Salt:       nsec3Salt(s.opts.NSEC3Salt),
			HashLength: 20,
			NextDomain: strings.ToUpper(next),
			TypeBitMap: e.types,
		}
	}
}

// hash returns the NSEC3 hash of name, lower case base32hex, with the
// zone's iterations and salt.
func (z *zone) hash(name string) string {
	return strings.ToLower(dns.HashName(name, dns.SHA1, z.sec.opts.NSEC3Iterations, z.sec.opts.NSEC3Salt))
}

// nsec3Salt is the salt as miekg/dns keeps it: upper case hex, "-" for
// none in presentation format but "" in the struct.
func nsec3Salt(hexSalt string) string { return strings.ToUpper(hexSalt) }

// hexInvalid reports whether s has a character that is not a hex digit
// or an odd length.
func hexInvalid(s string) bool {
	if len(s)%2 != 0 {
		return true
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return true
		}
	}
	return false
}

// sortCanonical sorts canonical (lower case) names in DNSSEC canonical
// order (RFC 4034 section 6.1).
func sortCanonical(names []string) {
	sort.Slice(names, func(i, j int) bool { return compareCanonical(names[i], names[j]) < 0 })
}

// compareCanonical compares two lower case names in canonical order:
// label by label from the right, each label as bytes.
func compareCanonical(a, b string) int {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// tamperHex changes the first hex digit of s.
func tamperHex(s string) string {
	if s == "" {
		return s
	}
	c := byte('0')
	if s[0] == '0' {
		c = '1'
	}
	return string(c) + s[1:]
}

// tamperBase64 flips bits in the middle of a base64 signature.
func tamperBase64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return s
	}
	b[len(b)/2] ^= 0x5a
	return base64.StdEncoding.EncodeToString(b)
}
