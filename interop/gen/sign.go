package main

import (
	"crypto"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Validity window of good signatures, relative to the generator's clock:
// an hour of slack for clocks a little behind, thirty days of lifetime.
const (
	sigInceptionSlack = time.Hour
	sigLifetime       = 30 * 24 * time.Hour
)

// breakage is a deliberate DNSSEC error in a signed zone; each makes a
// validator answer SERVFAIL (bogus) for the names it affects.
type breakage int

// The zero breakage is a correctly signed zone.
const (
	_ breakage = iota
	// breakExpired: every signature expired thirty days ago, beyond any
	// validator's allowance for clock skew (Unbound's is at most a day,
	// val-sig-skew-max).
	breakExpired
	// breakJustExpired: every signature expired an hour ago.
	breakJustExpired
	// breakNotYetValid: every signature's inception is two days ahead.
	breakNotYetValid
	breakWrongDS // the parent's DS matches no key of the zone
	breakNoSig   // the RRsets at breakName have no RRSIG
	breakBadSig  // the RRSIGs over the RRsets at breakName are tampered with
)

// signSpec says how a zone of the signed hierarchy is signed.
type signSpec struct {
	nsec3     bool
	brk       breakage
	breakName string // owner name (absolute) for breakNoSig and breakBadSig
}

// zoneKey is one key pair of a signed zone.
type zoneKey struct {
	rr     *dns.DNSKEY
	signer crypto.Signer
}

// newZoneKey generates an ECDSA P-256 (algorithm 13) key pair.
func newZoneKey(origin string, flags uint16) (zoneKey, error) {
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     flags,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := k.Generate(256)
	if err != nil {
		return zoneKey{}, fmt.Errorf("zone %s: generate key: %w", origin, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return zoneKey{}, fmt.Errorf("zone %s: key cannot sign", origin)
	}
	return zoneKey{rr: k, signer: signer}, nil
}

// signer signs one zone.
type signer struct {
	origin   string
	spec     signSpec
	ksk, zsk zoneKey
	// nodes maps a canonical owner name to its RRsets by type.
	nodes map[string]map[uint16][]dns.RR
	// sigs holds the RRSIGs made, in order.
	sigs []*dns.RRSIG
	// denial is the NSEC or NSEC3 chain.
	denial     []dns.RR
	denialTTL  uint32
	inception  uint32
	expiration uint32
}

// signZone signs z at time now as spec says: it adds the DNSKEY RRset (and
// NSEC3PARAM), signs every authoritative RRset (delegation NS and glue are
// not signed, DS is), builds and signs the NSEC or NSEC3 chain, and
// replaces z.rrs with the signed zone's records. It returns the DS
// (SHA-256) of the zone's KSK, tampered with for breakWrongDS.
func signZone(z *zone, spec signSpec, now time.Time) (*dns.DS, error) {
	s := &signer{origin: z.name, spec: spec, nodes: map[string]map[uint16][]dns.RR{}}
	var err error
	if s.ksk, err = newZoneKey(z.name, dns.ZONE|dns.SEP); err != nil {
		return nil, err
	}
	if s.zsk, err = newZoneKey(z.name, dns.ZONE); err != nil {
		return nil, err
	}
	for _, text := range dedupe(z.rrs) {
		rr, err := dns.NewRR(text)
		if err != nil {
			return nil, fmt.Errorf("zone %s: %q: %w", z.name, text, err)
		}
		if soa, ok := rr.(*dns.SOA); ok {
			s.denialTTL = min(soa.Hdr.Ttl, soa.Minttl)
		}
		s.add(rr)
	}
	s.add(dns.Copy(s.ksk.rr))
	s.add(dns.Copy(s.zsk.rr))
	if spec.nsec3 {
		s.add(&dns.NSEC3PARAM{Hdr: dns.RR_Header{Name: z.name, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET}, Hash: dns.SHA1})
	}
	inc, exp := now.Add(-sigInceptionSlack), now.Add(sigLifetime)
	switch spec.brk {
	case breakExpired:
		inc, exp = now.Add(-2*sigLifetime), now.Add(-sigLifetime)
	case breakJustExpired:
		inc, exp = now.Add(-sigLifetime), now.Add(-time.Hour)
	case breakNotYetValid:
		inc, exp = now.Add(48*time.Hour), now.Add(48*time.Hour+sigLifetime)
	}
	s.inception, s.expiration = uint32(inc.Unix()), uint32(exp.Unix())

	names := make([]string, 0, len(s.nodes))
	for name := range s.nodes {
		names = append(names, name)
	}
	sortCanonical(names)
	for _, name := range names {
		if s.occluded(name) {
			continue
		}
		deleg := s.isDelegation(name)
		for _, t := range sortedTypes(s.nodes[name]) {
			if deleg && t != dns.TypeDS {
				continue
			}
			if err := s.sign(s.nodes[name][t]); err != nil {
				return nil, err
			}
		}
	}
	if spec.nsec3 {
		s.buildNSEC3()
	} else {
		s.buildNSEC(names)
	}
	for _, rr := range s.denial {
		if err := s.sign([]dns.RR{rr}); err != nil {
			return nil, err
		}
	}
	s.breakSigs()

	var out []string
	for _, name := range names {
		for _, t := range sortedTypes(s.nodes[name]) {
			for _, rr := range s.nodes[name][t] {
				out = append(out, rr.String())
			}
		}
	}
	for _, rr := range s.denial {
		out = append(out, rr.String())
	}
	for _, sig := range s.sigs {
		out = append(out, sig.String())
	}
	z.rrs = out

	ds := s.ksk.rr.ToDS(dns.SHA256)
	ds.Hdr.Ttl = 3600
	if spec.brk == breakWrongDS {
		ds.Digest = tamperHex(ds.Digest)
	}
	return ds, nil
}

func (s *signer) add(rr dns.RR) {
	h := rr.Header()
	h.Name = dns.CanonicalName(h.Name)
	if s.nodes[h.Name] == nil {
		s.nodes[h.Name] = map[uint16][]dns.RR{}
	}
	s.nodes[h.Name][h.Rrtype] = append(s.nodes[h.Name][h.Rrtype], rr)
}

// sign signs one RRset: DNSKEY with the KSK, everything else with the ZSK.
func (s *signer) sign(rrs []dns.RR) error {
	h := rrs[0].Header()
	key := s.zsk
	if h.Rrtype == dns.TypeDNSKEY {
		key = s.ksk
	}
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
		Algorithm:  key.rr.Algorithm,
		KeyTag:     key.rr.KeyTag(),
		SignerName: s.origin,
		Inception:  s.inception,
		Expiration: s.expiration,
	}
	if err := sig.Sign(key.signer, rrs); err != nil {
		return fmt.Errorf("zone %s: sign %s/%s: %w", s.origin, h.Name, dns.TypeToString[h.Rrtype], err)
	}
	s.sigs = append(s.sigs, sig)
	return nil
}

// breakSigs applies breakNoSig and breakBadSig to the signatures over the
// RRsets at spec.breakName (the NSEC or NSEC3 ones are kept).
func (s *signer) breakSigs() {
	if s.spec.brk != breakNoSig && s.spec.brk != breakBadSig {
		return
	}
	target := dns.CanonicalName(s.spec.breakName)
	kept := s.sigs[:0]
	for _, sig := range s.sigs {
		if sig.Hdr.Name != target || sig.TypeCovered == dns.TypeNSEC || sig.TypeCovered == dns.TypeNSEC3 {
			kept = append(kept, sig)
			continue
		}
		if s.spec.brk == breakNoSig {
			continue
		}
		sig.Signature = tamperBase64(sig.Signature)
		kept = append(kept, sig)
	}
	s.sigs = kept
}

// occluded reports whether name is below a zone cut: glue, not
// authoritative data.
func (s *signer) occluded(name string) bool {
	for n := name; n != s.origin && n != "."; {
		n = parentName(n)
		if n != s.origin && len(s.nodes[n][dns.TypeNS]) > 0 {
			return true
		}
	}
	return false
}

// isDelegation reports whether name is a zone cut (NS below the apex).
func (s *signer) isDelegation(name string) bool {
	return name != s.origin && len(s.nodes[name][dns.TypeNS]) > 0
}

// typesAt returns the sorted types at name as the zone is authoritative
// for them: at a delegation only NS and DS.
func (s *signer) typesAt(name string) []uint16 {
	deleg := s.isDelegation(name)
	var out []uint16
	for _, t := range sortedTypes(s.nodes[name]) {
		if !deleg || t == dns.TypeNS || t == dns.TypeDS {
			out = append(out, t)
		}
	}
	return out
}

// buildNSEC builds the NSEC chain over the names that own data
// (RFC 4034 section 4); names is in canonical order.
func (s *signer) buildNSEC(names []string) {
	var owners []string
	for _, n := range names {
		if !s.occluded(n) {
			owners = append(owners, n)
		}
	}
	for i, name := range owners {
		types := append(s.typesAt(name), dns.TypeRRSIG, dns.TypeNSEC)
		sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
		s.denial = append(s.denial, &dns.NSEC{
			Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: s.denialTTL},
			NextDomain: owners[(i+1)%len(owners)],
			TypeBitMap: types,
		})
	}
}

// buildNSEC3 builds the NSEC3 chain (SHA-1, no salt, no extra iterations,
// no opt-out) over the names, empty non-terminals included (RFC 5155
// section 7.1).
func (s *signer) buildNSEC3() {
	all := map[string]bool{}
	for name := range s.nodes {
		if s.occluded(name) {
			continue
		}
		for n := name; ; n = parentName(n) {
			all[n] = true
			if n == s.origin || n == "." {
				break
			}
		}
	}
	type entry struct {
		hash  string
		types []uint16
	}
	var entries []entry
	for name := range all {
		types := s.typesAt(name)
		unsignedCut := s.isDelegation(name) && len(s.nodes[name][dns.TypeDS]) == 0
		if len(types) > 0 && !unsignedCut {
			types = append(types, dns.TypeRRSIG)
			sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
		}
		entries = append(entries, entry{strings.ToLower(dns.HashName(name, dns.SHA1, 0, "")), types})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].hash < entries[j].hash })
	for i, e := range entries {
		s.denial = append(s.denial, &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: e.hash + "." + strings.TrimPrefix(s.origin, "."), Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: s.denialTTL},
			Hash:       dns.SHA1,
			HashLength: 20,
			NextDomain: strings.ToUpper(entries[(i+1)%len(entries)].hash),
			TypeBitMap: e.types,
		})
	}
}

func sortedTypes(m map[uint16][]dns.RR) []uint16 {
	out := make([]uint16, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// parentName returns the name one label up ("." stays ".").
func parentName(name string) string {
	if name == "." {
		return "."
	}
	if i := strings.Index(name, "."); i >= 0 && i < len(name)-1 {
		return name[i+1:]
	}
	return "."
}

// sortCanonical sorts lower case names in DNSSEC canonical order
// (RFC 4034 section 6.1): label by label from the right.
func sortCanonical(names []string) {
	sort.Slice(names, func(i, j int) bool {
		la, lb := dns.SplitDomainName(names[i]), dns.SplitDomainName(names[j])
		for x, y := len(la)-1, len(lb)-1; x >= 0 && y >= 0; x, y = x-1, y-1 {
			if c := strings.Compare(la[x], lb[y]); c != 0 {
				return c < 0
			}
		}
		return len(la) < len(lb)
	})
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
