package dnssec

import (
	"fmt"
	"github.com/addrwalk/addrwalk/internal/zoneerr"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// rootAnchorsText holds the root zone trust anchors published by IANA in
// https://data.iana.org/root-anchors/root-anchors.xml (RFC 9718): KSK-2017
// (key tag 20326) and KSK-2024 (key tag 38696), both RSASHA256 with SHA-256
// digests.
const rootAnchorsText = `
. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16
`

// maxAnchorRecords bounds the records read from one anchor text, so a
// mistaken multi-megabyte zone file fails fast; real configurations hold a
// handful of anchors per zone.
const maxAnchorRecords = 4096

// Anchors is a set of trust anchors (DS or DNSKEY records) for any number
// of zones. It is safe for concurrent use. It changes only through Set,
// which an RFC 5011 trust point uses to publish the keys it now trusts.
type Anchors struct {
	mu   sync.RWMutex             // guards ds and keys
	ds   map[string][]*dns.DS     // by canonical zone name
	keys map[string][]*dns.DNSKEY // by canonical zone name
}

// Set replaces the anchors of zone. With none left the zone stays an
// anchor point that trusts nothing (its data is then Bogus, never
// Indeterminate: revoking every key must not turn validation off).
func (a *Anchors) Set(zone string, ds []*dns.DS, keys []*dns.DNSKEY) {
	z := dns.CanonicalName(zone)
	var cds []*dns.DS
	for _, d := range ds {
		cds = append(cds, dns.Copy(d).(*dns.DS))
	}
	var ckeys []*dns.DNSKEY
	for _, k := range keys {
		ckeys = append(ckeys, dns.Copy(k).(*dns.DNSKEY))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.ds, z)
	delete(a.keys, z)
	if len(cds) > 0 {
		a.ds[z] = cds
	}
	if len(ckeys) > 0 || len(cds) == 0 {
		a.keys[z] = ckeys // possibly empty: the zone stays anchored
	}
}

// Has reports whether zone is an anchor point, even one that trusts
// nothing any more.
func (a *Anchors) Has(zone string) bool {
	if a == nil {
		return false
	}
	z := dns.CanonicalName(zone)
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ds := a.ds[z]
	_, keys := a.keys[z]
	return ds || keys
}

// RootAnchors returns the IANA root trust anchors (key tags 20326 and 38696).
func RootAnchors() *Anchors {
	a, err := ParseAnchors(rootAnchorsText)
	if err != nil {
		panic("dnssec: built-in root anchors: " + err.Error()) // a constant; covered by tests
	}
	return a
}

// ParseAnchors reads DS and DNSKEY records in zone-file syntax (comments,
// several records, any zones; relative names are relative to the root).
// Any other record type is an error.
func ParseAnchors(text string) (*Anchors, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "anchors")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if len(rrs) >= maxAnchorRecords {
			return nil, fmt.Errorf("dnssec: more than %d trust anchor records", maxAnchorRecords)
		}
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("dnssec: %w", zoneerr.Explain(err, ""))
	}
	return NewAnchors(rrs...)
}

// NewAnchors builds an anchor set from DS and DNSKEY records. DNSKEY
// anchors must be zone keys with protocol 3.
func NewAnchors(rrs ...dns.RR) (*Anchors, error) {
	a := &Anchors{ds: map[string][]*dns.DS{}, keys: map[string][]*dns.DNSKEY{}}
	for _, rr := range rrs {
		switch x := rr.(type) {
		case *dns.DS:
			d := dns.Copy(x).(*dns.DS)
			z := dns.CanonicalName(d.Hdr.Name)
			a.ds[z] = append(a.ds[z], d)
		case *dns.DNSKEY:
			if x.Flags&dns.ZONE == 0 || x.Protocol != dnskeyProtocol {
				return nil, malformedAnchor("the DNSKEY of %s with tag %d is not a zone key", x.Hdr.Name, x.KeyTag())
			}
			k := dns.Copy(x).(*dns.DNSKEY)
			z := dns.CanonicalName(k.Hdr.Name)
			a.keys[z] = append(a.keys[z], k)
		default:
			return nil, malformedAnchor("a trust anchor is a DS or DNSKEY record, not %s (for %s)", dns.TypeToString[rr.Header().Rrtype], rr.Header().Name)
		}
	}
	return a, nil
}

// Lookup returns copies of the anchors configured for exactly zone.
func (a *Anchors) Lookup(zone string) (ds []*dns.DS, keys []*dns.DNSKEY) {
	if a == nil {
		return nil, nil
	}
	z := dns.CanonicalName(zone)
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, d := range a.ds[z] {
		ds = append(ds, dns.Copy(d).(*dns.DS))
	}
	for _, k := range a.keys[z] {
		keys = append(keys, dns.Copy(k).(*dns.DNSKEY))
	}
	return ds, keys
}

// Closest returns the deepest zone at or above name that has an anchor:
// validation of name starts there. ok is false when no anchor applies (the
// data is then Indeterminate).
func (a *Anchors) Closest(name string) (zone string, ok bool) {
	if a == nil {
		return "", false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for n := dns.CanonicalName(name); ; n = parentName(n) {
		_, ds := a.ds[n]
		_, keys := a.keys[n]
		if ds || keys {
			return n, true
		}
		if n == "." {
			return "", false
		}
	}
}

// Zones returns the anchored zones in canonical order.
func (a *Anchors) Zones() []string {
	if a == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	var zs []string
	for z := range a.ds {
		zs = append(zs, z)
	}
	for z := range a.keys {
		if _, dup := a.ds[z]; !dup {
			zs = append(zs, z)
		}
	}
	slices.SortFunc(zs, compareNames)
	return zs
}

// HasKeyTag reports whether zone has an anchor (DS or DNSKEY) with key tag
// tag; used for the RFC 8509 sentinel.
func (a *Anchors) HasKeyTag(zone string, tag uint16) bool {
	if a == nil {
		return false
	}
	z := dns.CanonicalName(zone)
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, d := range a.ds[z] {
		if d.KeyTag == tag {
			return true
		}
	}
	for _, k := range a.keys[z] {
		if k.KeyTag() == tag {
			return true
		}
	}
	return false
}

// NegativeAnchors is an immutable set of negative trust anchors (RFC 7646):
// names at and below which validation is off and data is Insecure. The zero
// value and nil are empty sets. It is safe for concurrent use.
type NegativeAnchors struct {
	names map[string]struct{} // canonical names
}

// NewNegativeAnchors builds a negative trust anchor set.
func NewNegativeAnchors(names ...string) (*NegativeAnchors, error) {
	n := &NegativeAnchors{names: make(map[string]struct{}, len(names))}
	for _, name := range names {
		if _, ok := dns.IsDomainName(name); !ok {
			return nil, malformedAnchor("negative trust anchor %q is not a domain name", name)
		}
		n.names[dns.CanonicalName(name)] = struct{}{}
	}
	return n, nil
}

// Covers returns the negative trust anchor at or above name, if any.
func (n *NegativeAnchors) Covers(name string) (anchor string, ok bool) {
	if n == nil || len(n.names) == 0 {
		return "", false
	}
	for c := dns.CanonicalName(name); ; c = parentName(c) {
		if _, ok := n.names[c]; ok {
			return c, true
		}
		if c == "." {
			return "", false
		}
	}
}

// Check returns an Insecure failure wrapping ErrNegativeTrustAnchor when name
// is at or below a negative trust anchor, nil otherwise.
func (n *NegativeAnchors) Check(name string) error {
	if a, ok := n.Covers(name); ok {
		return insecure(ErrNegativeTrustAnchor, NoEDE, "%s is covered by negative trust anchor %s", name, a)
	}
	return nil
}

// anchorError is an ErrMalformed about a trust anchor whose text is
// "dnssec: " and its detail, without "malformed data (…)" between.
type anchorError struct{ detail string }

func (e *anchorError) Error() string { return "dnssec: " + e.detail }
func (e *anchorError) Unwrap() error { return ErrMalformed }

func malformedAnchor(format string, args ...any) error {
	return &anchorError{detail: fmt.Sprintf(format, args...)}
}
