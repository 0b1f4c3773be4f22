package resolver

import (
	"strings"

	"github.com/miekg/dns"
)

// This file holds the record helpers the resolver shares: one generic
// filter by Go type (every "the RRSIGs / DNSKEYs / DS / NSEC records of
// this list" is a call to it), the RRset grouping, and copies with a new
// TTL or owner name.

// filter returns the records of rrs that are of type T and for which keep
// (nil keeps all) returns true, in order. Asking for T = dns.RR filters
// without narrowing the type.
func filter[T dns.RR](rrs []dns.RR, keep func(T) bool) []T {
	var out []T
	for _, rr := range rrs {
		if v, ok := rr.(T); ok && (keep == nil || keep(v)) {
			out = append(out, v)
		}
	}
	return out
}

// coveringSigs returns the RRSIGs in rrs over the RRset (owner, t).
func coveringSigs(rrs []dns.RR, owner string, t uint16) []*dns.RRSIG {
	return filter(rrs, func(s *dns.RRSIG) bool { return s.TypeCovered == t && strings.EqualFold(s.Hdr.Name, owner) })
}

// coveringSigsRR is coveringSigs as plain records, ready to cache.
func coveringSigsRR(rrs []dns.RR, owner string, t uint16) []dns.RR {
	return filter(rrs, func(rr dns.RR) bool {
		s, ok := rr.(*dns.RRSIG)
		return ok && s.TypeCovered == t && strings.EqualFold(s.Hdr.Name, owner)
	})
}

// rrsigs returns the RRSIGs in rrs that cover type t, whatever the owner.
func rrsigs(rrs []dns.RR, t uint16) []*dns.RRSIG {
	return filter(rrs, func(s *dns.RRSIG) bool { return s.TypeCovered == t })
}

// dnskeys returns the DNSKEY records of rrs.
func dnskeys(rrs []dns.RR) []*dns.DNSKEY { return filter[*dns.DNSKEY](rrs, nil) }

// dsRecords returns the DS records of rrs.
func dsRecords(rrs []dns.RR) []*dns.DS { return filter[*dns.DS](rrs, nil) }

// proofRecords returns the NSEC and the NSEC3 records of rrs.
func proofRecords(rrs []dns.RR) ([]*dns.NSEC, []*dns.NSEC3) {
	return filter[*dns.NSEC](rrs, nil), filter[*dns.NSEC3](rrs, nil)
}

// withoutSigs returns rrs without its RRSIG records.
func withoutSigs(rrs []dns.RR) []dns.RR {
	return filter(rrs, func(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypeRRSIG })
}

// groupRRsets splits records into RRsets by owner, type and class, in the
// order they first appear.
func groupRRsets(rrs []dns.RR) [][]dns.RR {
	var sets [][]dns.RR
	idx := map[string]int{}
	for _, rr := range rrs {
		h := rr.Header()
		k := strings.ToLower(h.Name) + "|" + dns.TypeToString[h.Rrtype] + "|" + dns.ClassToString[h.Class]
		if i, ok := idx[k]; ok {
			sets[i] = append(sets[i], rr)
			continue
		}
		idx[k] = len(sets)
		sets = append(sets, []dns.RR{rr})
	}
	return sets
}

func copyRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// withTTL copies records with another TTL.
func withTTL(rrs []dns.RR, ttl uint32) []dns.RR {
	out := copyRRs(rrs)
	for _, rr := range out {
		rr.Header().Ttl = ttl
	}
	return out
}

// renamed copies records with another owner name.
func renamed(rrs []dns.RR, owner string) []dns.RR {
	out := copyRRs(rrs)
	for _, rr := range out {
		rr.Header().Name = owner
	}
	return out
}
