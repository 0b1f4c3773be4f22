package resolvertest

import (
	"sort"

	"github.com/miekg/dns"
)

// This file adds the DNSSEC records of a signed zone to answers for
// queries with DO=1 (RFC 4035 section 3.1): the RRSIGs of every RRset
// served, and the NSEC or NSEC3 records that prove a denial of existence,
// a wildcard expansion or an unsigned delegation.

// signed reports whether z was signed at Start.
func (z *zone) signed() bool { return z.sec != nil && z.sec.sigs != nil }

// sigs returns copies of the RRSIGs over the RRset name/t, owned by owner
// (the client's spelling or a wildcard expansion).
func (z *zone) sigs(name string, t uint16, owner string) []dns.RR {
	src := z.sec.sigs[name][t]
	out := make([]dns.RR, len(src))
	for i, sig := range src {
		c := dns.Copy(sig)
		c.Header().Name = owner
		out[i] = c
	}
	return out
}

// withSigs returns rrs (one RRset or, for ANY, several in type order)
// followed by the RRSIGs of each RRset, taken from source.
func (z *zone) withSigs(rrs []dns.RR, source, owner string) []dns.RR {
	out := append([]dns.RR(nil), rrs...)
	seen := map[uint16]bool{}
	for _, rr := range rrs {
		t := rr.Header().Rrtype
		if !seen[t] {
			seen[t] = true
			out = append(out, z.sigs(source, t, owner)...)
		}
	}
	return out
}

// signedNegativeSOA returns the SOA of a negative answer with its RRSIGs,
// their TTL capped like the SOA's.
func (z *zone) signedNegativeSOA() []dns.RR {
	soa := z.negativeSOA()
	out := []dns.RR{soa}
	for _, sig := range z.sigs(z.origin, dns.TypeSOA, z.origin) {
		sig.Header().Ttl = soa.Header().Ttl
		out = append(out, sig)
	}
	return out
}

// addDenial appends an NSEC or NSEC3 record and its RRSIGs to the
// authority section, unless it is already there.
func (z *zone) addDenial(resp *dns.Msg, rr dns.RR) {
	if rr == nil {
		return
	}
	h := rr.Header()
	for _, have := range resp.Ns {
		if have.Header().Rrtype == h.Rrtype && have.Header().Name == h.Name {
			return
		}
	}
	resp.Ns = append(resp.Ns, dns.Copy(rr))
	resp.Ns = append(resp.Ns, z.sigs(h.Name, h.Rrtype, h.Name)...)
}

// proveNXDOMAIN adds the proof that qname, whose closest encloser is ce,
// does not exist and that no wildcard at ce does (RFC 4035 section
// 3.1.3.2, RFC 5155 section 7.2.2).
func (z *zone) proveNXDOMAIN(resp *dns.Msg, qname, ce string) {
	if z.sec.opts.Break == BreakMissingNSEC {
		return
	}
	wild := wildcardName(ce)
	if !z.sec.opts.NSEC3 {
		z.addDenial(resp, z.nsecCover(qname))
		z.addDenial(resp, z.nsecCover(wild))
		return
	}
	z.addDenial(resp, z.nsec3Match(ce))
	z.addDenial(resp, z.nsec3Cover(nextCloser(qname, ce)))
	z.addDenial(resp, z.nsec3Cover(wild))
}

// proveNODATA adds the proof that name exists without the queried type
// (RFC 4035 section 3.1.3.1, RFC 5155 sections 7.2.3 and 7.2.4).
func (z *zone) proveNODATA(resp *dns.Msg, name string) {
	if z.sec.opts.Break == BreakMissingNSEC {
		return
	}
	z.proveNoType(resp, name)
}

// proveNoType adds the NSEC or NSEC3 at name (for an NSEC empty
// non-terminal, the NSEC covering it; for an NSEC3 name left out by
// opt-out, the closest provable encloser proof).
func (z *zone) proveNoType(resp *dns.Msg, name string) {
	if !z.sec.opts.NSEC3 {
		if n := z.nsecMatch(name); n != nil {
			z.addDenial(resp, n)
			return
		}
		z.addDenial(resp, z.nsecCover(name))
		return
	}
	if n := z.nsec3Match(name); n != nil {
		z.addDenial(resp, n)
		return
	}
	for ce := parent(name); ; ce = parent(ce) {
		if n := z.nsec3Match(ce); n != nil {
			z.addDenial(resp, n)
			z.addDenial(resp, z.nsec3Cover(nextCloser(name, ce)))
			return
		}
		if ce == z.origin || ce == "." {
			return
		}
	}
}

// proveInsecureDelegation adds the proof that the delegation at cut has no
// DS (RFC 4035 section 3.1.4, RFC 5155 section 7.2.7).
func (z *zone) proveInsecureDelegation(resp *dns.Msg, cut string) {
	z.proveNoType(resp, cut)
}

// proveWildcardAnswer adds the proof that qname, answered from the
// wildcard at ce, does not exist (RFC 4035 section 3.1.3.3, RFC 5155
// section 7.2.6).
func (z *zone) proveWildcardAnswer(resp *dns.Msg, qname, ce string) {
	if z.sec.opts.Break == BreakMissingNSEC {
		return
	}
	if !z.sec.opts.NSEC3 {
		z.addDenial(resp, z.nsecCover(qname))
		return
	}
	z.addDenial(resp, z.nsec3Cover(nextCloser(qname, ce)))
}

// proveWildcardNODATA adds the proof that qname does not exist and that
// the wildcard at ce that matches it has no data of the queried type (RFC
// 4035 section 3.1.3.4, RFC 5155 section 7.2.5).
func (z *zone) proveWildcardNODATA(resp *dns.Msg, qname, ce string) {
	if z.sec.opts.Break == BreakMissingNSEC {
		return
	}
	wild := wildcardName(ce)
	if !z.sec.opts.NSEC3 {
		z.addDenial(resp, z.nsecCover(qname))
		z.addDenial(resp, z.nsecMatch(wild))
		return
	}
	z.addDenial(resp, z.nsec3Match(ce))
	z.addDenial(resp, z.nsec3Cover(nextCloser(qname, ce)))
	z.addDenial(resp, z.nsec3Match(wild))
}

// nsecMatch returns the NSEC owned by name, or nil.
func (z *zone) nsecMatch(name string) dns.RR {
	ns := z.sec.nsecs
	i := sort.Search(len(ns), func(i int) bool { return compareCanonical(ns[i].Hdr.Name, name) >= 0 })
	if i < len(ns) && ns[i].Hdr.Name == name {
		return ns[i]
	}
	return nil
}

// nsecCover returns the NSEC whose owner is the last name before name in
// canonical order, wrapping around to the last NSEC of the zone.
func (z *zone) nsecCover(name string) dns.RR {
	ns := z.sec.nsecs
	if len(ns) == 0 {
		return nil
	}
	i := sort.Search(len(ns), func(i int) bool { return compareCanonical(ns[i].Hdr.Name, name) >= 0 })
	if i == 0 {
		return ns[len(ns)-1]
	}
	return ns[i-1]
}

// nsec3Match returns the NSEC3 whose hash is that of name, or nil.
func (z *zone) nsec3Match(name string) dns.RR {
	h := z.hash(name)
	i := sort.SearchStrings(z.sec.hashes, h)
	if i < len(z.sec.hashes) && z.sec.hashes[i] == h {
		return z.sec.nsec3s[i]
	}
	return nil
}

// nsec3Cover returns the NSEC3 whose hash interval covers the hash of
// name, wrapping around.
func (z *zone) nsec3Cover(name string) dns.RR {
	hs := z.sec.hashes
	if len(hs) == 0 {
		return nil
	}
	i := sort.SearchStrings(hs, z.hash(name))
	if i == 0 {
		return z.sec.nsec3s[len(hs)-1]
	}
	return z.sec.nsec3s[i-1]
}

// nextCloser returns the name one label longer than its ancestor ce on the
// way to qname (RFC 5155 section 1.3).
func nextCloser(qname, ce string) string {
	a := ancestors(ce, qname)
	if len(a) == 0 {
		return qname
	}
	return a[0]
}

// wildcardName returns the wildcard directly below name.
func wildcardName(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + name
}
