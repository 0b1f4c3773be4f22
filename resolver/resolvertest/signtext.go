package resolvertest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// SignText signs a zone for serving outside a lab, by another
// authoritative server (interop/ gives the result to NSD). text is the
// zone-file text of origin; it is signed at time now exactly as SignZone
// and Start sign a lab's zone: fresh keys, the DNSKEY (and NSEC3PARAM)
// RRsets, every authoritative RRset, the NSEC or NSEC3 chain, and opts'
// breakage. A DS that text already has at a delegation is signed like any
// other; SignText adds none. It returns the signed zone as zone-file text,
// one record a line in canonical order of owners, and the DS (SHA-256) of
// the zone's KSK for its parent, tampered with for BreakWrongDS.
// BreakMissingNSEC, which only changes how a lab server answers, is
// refused.
func SignText(origin, text string, opts SignOptions, now time.Time) (signed string, ds *dns.DS, err error) {
	if opts.Break == BreakMissingNSEC {
		return "", nil, fmt.Errorf("resolvertest: zone %q: BreakMissingNSEC needs a lab server", origin)
	}
	z, err := parseZone(origin, text)
	if err != nil {
		return "", nil, err
	}
	if z.sec, err = newSigning(z, opts); err != nil {
		return "", nil, err
	}
	if err := z.sign(now); err != nil {
		return "", nil, err
	}
	var b strings.Builder
	line := func(rr dns.RR) {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	names := make([]string, 0, len(z.nodes))
	for name := range z.nodes {
		names = append(names, name)
	}
	sortCanonical(names)
	for _, name := range names {
		for _, t := range sortedKeys(z.nodes[name]) {
			for _, rr := range z.nodes[name][t] {
				line(rr)
			}
		}
	}
	for _, n := range z.sec.nsecs {
		line(n)
	}
	for _, n := range z.sec.nsec3s {
		line(n)
	}
	owners := make([]string, 0, len(z.sec.sigs))
	for name := range z.sec.sigs {
		owners = append(owners, name)
	}
	sortCanonical(owners)
	for _, name := range owners {
		for _, t := range sortedKeys(z.sec.sigs[name]) {
			for _, sig := range z.sec.sigs[name][t] {
				line(sig)
			}
		}
	}
	ds = z.sec.ksk.rr.ToDS(dns.SHA256)
	if opts.Break == BreakWrongDS {
		ds.Digest = tamperHex(ds.Digest)
	}
	return b.String(), ds, nil
}

// sortedKeys returns the types of a node in ascending order.
func sortedKeys[V any](m map[uint16]V) []uint16 {
	out := make([]uint16, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
