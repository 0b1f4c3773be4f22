package resolvertest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// maxZoneRecords bounds the records read from one zone text: lab zones are
// written by hand or generated for benchmarks, and a million records is a
// mistake, not a test.
const maxZoneRecords = 100_000

// zone is the parsed, immutable data of one zone.
type zone struct {
	origin string // canonical (lower case, fully qualified)
	soa    *dns.SOA
	// nodes maps a canonical owner name to its RRsets by type.
	nodes map[string]map[uint16][]dns.RR
	// names holds every name that exists in the zone: owners and the
	// empty non-terminals between them and the origin (RFC 8020).
	names map[string]bool
	// sec is set by Lab.SignZone; its signatures and chain by Start.
	sec *signing
}

// parseZone reads zone-file text for origin. Every record must be at or
// below origin, and the apex must have an SOA.
func parseZone(origin, text string) (*zone, error) {
	origin = dns.CanonicalName(origin)
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, fmt.Errorf("resolvertest: zone %q: invalid origin", origin)
	}
	z := &zone{
		origin: origin,
		nodes:  map[string]map[uint16][]dns.RR{},
		names:  map[string]bool{},
	}
	zp := dns.NewZoneParser(strings.NewReader(text), origin, origin)
	n := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		n++
		if n > maxZoneRecords {
			return nil, fmt.Errorf("resolvertest: zone %q: more than %d records", origin, maxZoneRecords)
		}
		if err := z.add(rr); err != nil {
			return nil, err
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("resolvertest: zone %q: %w", origin, err)
	}
	soas := z.nodes[origin][dns.TypeSOA]
	if len(soas) != 1 {
		return nil, fmt.Errorf("resolvertest: zone %q: want exactly one SOA at the apex, have %d", origin, len(soas))
	}
	z.soa = soas[0].(*dns.SOA)
	return z, nil
}

// add stores one record, canonicalising its owner name and creating the
// empty non-terminals above it.
func (z *zone) add(rr dns.RR) error {
	h := rr.Header()
	owner := dns.CanonicalName(h.Name)
	if !dns.IsSubDomain(z.origin, owner) {
		return fmt.Errorf("resolvertest: zone %q: record %q is out of zone", z.origin, owner)
	}
	if h.Class != dns.ClassINET {
		return fmt.Errorf("resolvertest: zone %q: record %q: only class IN is supported", z.origin, owner)
	}
	h.Name = owner
	node := z.nodes[owner]
	if node == nil {
		node = map[uint16][]dns.RR{}
		z.nodes[owner] = node
	}
	node[h.Rrtype] = append(node[h.Rrtype], rr)
	for name := owner; ; {
		z.names[name] = true
		if name == z.origin {
			break
		}
		name = parent(name)
	}
	return nil
}

// rrset returns copies of the records of type t at name, with their owner
// set to owner (the client's spelling or a wildcard expansion).
func (z *zone) rrset(name string, t uint16, owner string) []dns.RR {
	src := z.nodes[name][t]
	if len(src) == 0 {
		return nil
	}
	out := make([]dns.RR, len(src))
	for i, rr := range src {
		c := dns.Copy(rr)
		c.Header().Name = owner
		out[i] = c
	}
	return out
}

// allRRsets returns copies of every RRset at name, in type order, for ANY.
func (z *zone) allRRsets(name, owner string) []dns.RR {
	node := z.nodes[name]
	types := make([]int, 0, len(node))
	for t := range node {
		types = append(types, int(t))
	}
	sort.Ints(types)
	var out []dns.RR
	for _, t := range types {
		out = append(out, z.rrset(name, uint16(t), owner)...)
	}
	return out
}

// negativeSOA returns the apex SOA for the authority section of a negative
// answer, its TTL the minimum of the SOA TTL and MINIMUM (RFC 2308 section 3).
func (z *zone) negativeSOA() dns.RR {
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return soa
}

// parent returns the name with its first label removed; the parent of the
// root is the root.
func parent(name string) string {
	if name == "." {
		return "."
	}
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// ancestors returns the names from just below the origin down to name
// (inclusive), top down. name must be at or below origin.
func ancestors(origin, name string) []string {
	var out []string
	for n := name; n != origin; n = parent(n) {
		out = append(out, n)
		if n == "." {
			break
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
