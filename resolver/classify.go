package resolver

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// replyKind is what a response means for the resolution, after bailiwick
// filtering. It was exported as Kind until no exported field or function
// carried it: callers see its name only, as Event.Outcome and the
// upstream-query metric's outcome label, so it is internal now.
type replyKind uint8

// Response kinds.
const (
	kindAnswer    replyKind = iota + 1 // the answer RRset for the question (possibly after a CNAME chain)
	kindCNAME                          // a CNAME/DNAME chain whose target must be resolved from the top
	kindNXDomain                       // the name does not exist (RFC 2308 §2.1)
	kindNoData                         // the name exists, the type does not (RFC 2308 §2.2)
	kindReferral                       // a delegation to a zone closer to the name
	kindLame                           // the server is not authoritative for the zone it was asked about
	kindServFail                       // SERVFAIL, REFUSED, NOTIMP, FORMERR or another error rcode
	kindMalformed                      // the reply cannot be used
	kindYXDomain                       // a DNAME would make a name longer than 255 octets (RFC 6672 §2.2)
)

var kindNames = [...]string{"", "answer", "cname", "nxdomain", "nodata", "referral", "lame", "servfail", "malformed", "yxdomain"}

func (k replyKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind%d", k)
}

// response is a classified reply: what kind it is and the records that
// survive bailiwick checks.
type response struct {
	kind   replyKind
	reason string // why lame/servfail/malformed; empty otherwise
	rcode  int

	// answer is the chain of records from the question name: CNAMEs,
	// DNAMEs with the CNAMEs synthesised from them, and the final RRset.
	answer []dns.RR
	// target is where a CNAME/DNAME chain leaves this zone (kindCNAME).
	target string
	// soa is the SOA of a negative answer (RFC 2308), with any
	// in-bailiwick NSEC/NSEC3 and RRSIG records of the authority section.
	soa []dns.RR
	// For a referral: the child zone, its NS RRset, and the glue that was
	// accepted and ignored.
	zone        string
	ns          []*dns.NS
	glue        []dns.RR
	ignoredGlue []dns.RR
	// authAnswer reports AA.
	authAnswer bool

	// DNSSEC material, kept when validating: the RRSIGs covering the
	// records of answer, the NSEC/NSEC3 records (and their RRSIGs) of the
	// authority section, and for a referral the DS RRset and its RRSIGs.
	sigs  []dns.RR
	proof []dns.RR
	ds    []dns.RR
	// apexNS is the zone's own NS RRset and its RRSIGs from the authority
	// section of a positive answer; a validated wildcard answer passes
	// them on with its proof, as Knot Resolver does.
	apexNS []dns.RR
	// freshNS is set once apexNS validated; until then it is unchecked.
	freshNS bool
	// keysBogus is set when validation failed because the keys of the
	// zone that sent it are bogus: asking its other servers for the same
	// data cannot help (the keys were already retried).
	keysBogus bool
	// servedBy is the zone the answering server was asked as
	// authoritative for; security is what validation found.
	servedBy string
	wildcard bool       // validation found a wildcard expansion (its proof is in proof)
	from     netip.Addr // the server that sent it (zero for cache hits)
	// dnameMismatch names the owner of a server CNAME that contradicted
	// the DNAME it came with (RFC 6672 §3.2).
	dnameMismatch string
	rank          cache.Rank // for pieces from the cache
	security      dnssec.Status
	validated     bool
}

// classifier holds what classify needs to know about the query.
type classifier struct {
	zone       string // the zone the server was asked as authoritative for
	qname      string // the name sent (may be minimised)
	qtype      uint16
	qclass     uint16
	permissive bool // accept glue outside the server's bailiwick (harden-glue off)
	minimised  bool // qname is a shortened name (QNAME minimisation)
}

// inZone reports whether name is at or below zone (case-insensitive).
func inZone(name, zone string) bool {
	return dnsname.IsSubDomain(zone, name)
}

// classify decides what resp means. It trusts only records inside the
// bailiwick of c.zone (RFC 2181 §5.4.1): a server for example.org. can
// speak about names under example.org. and nothing else.
func (c *classifier) classify(resp *dns.Msg) response {
	r := response{rcode: resp.Rcode, authAnswer: resp.Authoritative}
	if len(resp.Answer) > MaxRecordsPerSection || len(resp.Ns) > MaxRecordsPerSection || len(resp.Extra) > MaxRecordsPerSection {
		r.kind, r.reason = kindMalformed, "too many records"
		return r
	}
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeYXDomain:
		// YXDOMAIN is a DNAME overflow (RFC 6672 §2.2), checked below.
	default:
		r.kind = kindServFail
		r.reason = rcodeWords(resp.Rcode)
		return r
	}

	// Follow the chain from the question name through the answer section.
	// A DNAME is checked before a CNAME: the CNAME that comes with a DNAME
	// is synthesised here, not taken from the server (RFC 6672 §3.2).
	name := c.qname
	visited := map[string]bool{}
	for hops := 0; ; hops++ {
		lname := dns.CanonicalName(name)
		if visited[lname] || hops > MaxCNAMEChain {
			// The chain loops or is too long inside one reply: hand it to
			// resolve, which reports the loop or the length.
			r.kind, r.target = kindCNAME, name
			return r
		}
		visited[lname] = true
		if c.qtype != dns.TypeDNAME {
			if dn, synth := c.dname(resp.Answer, name); dn != nil {
				if synth == nil {
					if !containsRR(r.answer, dn) {
						r.answer = append(r.answer, dn)
					}
					r.kind = kindYXDomain
					return r
				}
				if !containsRR(r.answer, dn) {
					// One DNAME can redirect the chain more than once
					// (x. DNAME . turns a.x.x. into a.x. then a.); it
					// is listed once.
					r.answer = append(r.answer, dn)
				}
				r.answer = append(r.answer, synth)
				for _, cn := range c.rrset(resp.Answer, name, dns.TypeCNAME) {
					if !strings.EqualFold(dns.Fqdn(cn.(*dns.CNAME).Target), synth.Target) {
						// The server's CNAME disagrees with its DNAME: a
						// validator treats that as tampering.
						r.dnameMismatch = name
					}
				}
				if c.qtype == dns.TypeCNAME && strings.EqualFold(synth.Hdr.Name, c.qname) {
					r.kind = kindAnswer // the synthesised CNAME is the answer
					return r
				}
				name = synth.Target
				if !inZone(name, c.zone) {
					break
				}
				continue
			}
		}
		final := c.rrset(resp.Answer, name, c.qtype)
		if len(final) > 0 {
			r.answer = append(r.answer, final...)
			r.kind = kindAnswer
			return r
		}
		if c.qtype != dns.TypeCNAME {
			if cn := c.rrset(resp.Answer, name, dns.TypeCNAME); len(cn) > 0 {
				r.answer = append(r.answer, cn[0])
				name = dns.Fqdn(cn[0].(*dns.CNAME).Target)
				if !inZone(name, c.zone) {
					break // the rest of the chain is not this server's to tell
				}
				continue
			}
		}
		break
	}
	if resp.Rcode == dns.RcodeYXDomain {
		r.kind, r.reason, r.answer = kindServFail, "YXDOMAIN without an overflowing DNAME", nil
		return r
	}
	soa := c.negativeAuthority(resp.Ns, name)
	if len(r.answer) > 0 {
		// The chain ended on a name with no records here.
		r.target = name
		switch {
		case resp.Rcode == dns.RcodeNameError && inZone(name, c.zone):
			r.kind, r.soa = kindNXDomain, soa
		default:
			// NOERROR and no data for the target: the server may just
			// not have followed the chain (or sent a NODATA for it we
			// cannot tell from that), so ask for the target itself.
			r.kind = kindCNAME
		}
		return r
	}

	if resp.Rcode == dns.RcodeNameError {
		if !resp.Authoritative && len(soa) == 0 && !c.minimised {
			r.kind, r.reason = kindLame, "NXDOMAIN without AA or SOA"
			return r
		}
		r.kind, r.soa = kindNXDomain, soa
		return r
	}

	// NOERROR with no usable answer: referral, NODATA or lame.
	if ref, ok := c.referral(resp); ok {
		if len(soa) == 0 || !resp.Authoritative {
			return ref
		}
	}
	if c.upwardNS(resp.Ns) {
		// NS records for a zone above the server's own, even with AA:
		// the server sends us back up the tree, it is lame.
		r.kind, r.reason = kindLame, "upward referral"
		return r
	}
	if len(soa) > 0 || resp.Authoritative {
		r.kind, r.soa = kindNoData, soa
		return r
	}
	if c.ownsOtherType(resp.Answer) {
		// Records of other types for the name itself: the name exists
		// and has no data of this type (with no SOA, it is not cached).
		r.kind = kindNoData
		return r
	}
	if c.minimised {
		// A shortened question asks only "is there a zone cut here?".
		// Anything but a referral down means no, even from a server that
		// leaves AA clear; the full question later shows whether the
		// server is really lame.
		r.kind = kindNoData
		return r
	}
	if hasNS(resp.Ns) {
		r.kind, r.reason = kindLame, "upward or sideways referral"
		return r
	}
	r.kind, r.reason = kindLame, "non-authoritative empty answer without delegation"
	return r
}

// rrset returns the records of resp.Answer owned by name with type t and
// the query class. Records outside the zone are never returned.
func (c *classifier) rrset(rrs []dns.RR, name string, t uint16) []dns.RR {
	if !inZone(name, c.zone) {
		return nil
	}
	var out []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		// ANY matches whatever the server chose to send for the name
		// (RFC 8482 lets it send a subset); signatures are collected
		// apart, as for every type.
		match := h.Rrtype == t || t == dns.TypeANY && h.Rrtype != dns.TypeRRSIG
		if match && h.Class == c.qclass && strings.EqualFold(h.Name, name) {
			out = append(out, rr)
		}
	}
	return out
}

// dname finds a DNAME in the zone whose owner is a proper ancestor of name
// and synthesises the CNAME for name (RFC 6672 §2.2). The server's own
// synthesised CNAME is not trusted; the resolver makes its own.
func (c *classifier) dname(rrs []dns.RR, name string) (*dns.DNAME, *dns.CNAME) {
	for _, rr := range rrs {
		d, ok := rr.(*dns.DNAME)
		if !ok || d.Hdr.Class != c.qclass || !inZone(d.Hdr.Name, c.zone) {
			continue
		}
		owner := dns.CanonicalName(d.Hdr.Name)
		lname := dns.CanonicalName(name)
		if owner == lname || !dnsname.IsSubDomain(owner, lname) {
			continue
		}
		prefix := name[:len(name)-len(owner)] // ends with a dot
		target := prefix + dns.Fqdn(d.Target)
		if dns.Fqdn(d.Target) == "." {
			target = prefix // a DNAME to the root
		}
		if len(target) > 255 {
			// RFC 6672 §2.2: the substitution overflows; the answer is
			// YXDOMAIN with the DNAME and no CNAME.
			return d, nil
		}
		return d, &dns.CNAME{
			Hdr:    dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: c.qclass, Ttl: d.Hdr.Ttl},
			Target: target,
		}
	}
	return nil, nil
}

// negativeAuthority returns the SOA of the authority section if it belongs
// to a zone that could hold name (the SOA owner is an ancestor of name and
// inside the server's bailiwick), together with NSEC, NSEC3 and RRSIG
// records in that zone, which later DNSSEC work needs.
func (c *classifier) negativeAuthority(ns []dns.RR, name string) []dns.RR {
	var soa dns.RR
	for _, rr := range ns {
		if s, ok := rr.(*dns.SOA); ok && inZone(s.Hdr.Name, c.zone) && inZone(name, s.Hdr.Name) {
			soa = s
			break
		}
	}
	if soa == nil {
		return nil
	}
	out := []dns.RR{soa}
	apex := soa.Header().Name
	for _, rr := range ns {
		switch rr.Header().Rrtype {
		case dns.TypeNS:
			if strings.EqualFold(rr.Header().Name, apex) {
				out = append(out, rr)
			}
		case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
			if inZone(rr.Header().Name, apex) {
				out = append(out, rr)
			}
		}
	}
	return out
}

// referral recognises a delegation: an NS RRset in the authority section
// for a zone strictly below the server's zone and at or above the question
// name. Glue in the additional section is kept only for the NS names of
// that set and, unless permissive, only inside the server's bailiwick.
func (c *classifier) referral(resp *dns.Msg) (response, bool) {
	var child string
	var ns []*dns.NS
	for _, rr := range resp.Ns {
		n, ok := rr.(*dns.NS)
		if !ok || n.Hdr.Class != c.qclass {
			continue
		}
		owner := dns.CanonicalName(n.Hdr.Name)
		if child == "" {
			child = owner
		}
		if owner == child {
			ns = append(ns, n)
		}
	}
	if child == "" {
		return response{}, false
	}
	zone := dns.CanonicalName(c.zone)
	if child == zone || !dnsname.IsSubDomain(zone, child) || !dnsname.IsSubDomain(child, dns.CanonicalName(c.qname)) {
		return response{}, false // upward, sideways or unrelated: lame
	}
	if len(ns) > MaxNSPerZone {
		ns = ns[:MaxNSPerZone]
	}
	r := response{kind: kindReferral, rcode: resp.Rcode, zone: child, ns: ns, authAnswer: resp.Authoritative}
	wanted := map[string]bool{}
	for _, n := range ns {
		wanted[dns.CanonicalName(n.Ns)] = true
	}
	for _, rr := range resp.Extra {
		h := rr.Header()
		if h.Rrtype != dns.TypeA && h.Rrtype != dns.TypeAAAA {
			continue
		}
		if !wanted[dns.CanonicalName(h.Name)] {
			continue
		}
		if c.permissive || inZone(h.Name, zone) {
			r.glue = append(r.glue, rr)
		} else {
			r.ignoredGlue = append(r.ignoredGlue, rr)
		}
	}
	return r, true
}

func hasNS(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeNS {
			return true
		}
	}
	return false
}

// ownsOtherType reports whether the answer section holds records for the
// question name (in the zone) of a type other than the one asked.
func (c *classifier) ownsOtherType(rrs []dns.RR) bool {
	if !inZone(c.qname, c.zone) {
		return false
	}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class == c.qclass && h.Rrtype != c.qtype && strings.EqualFold(h.Name, c.qname) {
			return true
		}
	}
	return false
}

// upwardNS reports whether the authority section names servers for a
// zone above (or beside) the one the server was asked as authoritative
// for.
func (c *classifier) upwardNS(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeNS && !inZone(rr.Header().Name, c.zone) {
			return true
		}
	}
	return false
}

func containsRR(rrs []dns.RR, rr dns.RR) bool {
	for _, x := range rrs {
		if x == rr {
			return true
		}
	}
	return false
}

// collectDNSSEC keeps the DNSSEC records of a reply that classification
// drops: RRSIGs over the answer records, NSEC/NSEC3 proofs and the DS set
// of a referral, all inside the server's bailiwick.
func (c *classifier) collectDNSSEC(r *response, m *dns.Msg) {
	owners := map[string]bool{}
	for _, rr := range r.answer {
		owners[strings.ToLower(rr.Header().Name)+"|"+dns.TypeToString[rr.Header().Rrtype]] = true
	}
	for _, rr := range m.Answer {
		sig, ok := rr.(*dns.RRSIG)
		if ok && inZone(sig.Hdr.Name, c.zone) && owners[strings.ToLower(sig.Hdr.Name)+"|"+dns.TypeToString[sig.TypeCovered]] {
			r.sigs = append(r.sigs, sig)
		}
	}
	for _, rr := range m.Ns {
		h := rr.Header()
		if !inZone(h.Name, c.zone) {
			continue
		}
		positive := r.kind == kindAnswer || r.kind == kindCNAME
		switch v := rr.(type) {
		case *dns.NS:
			if positive && strings.EqualFold(h.Name, c.zone) {
				r.apexNS = append(r.apexNS, rr)
			}
		case *dns.NSEC, *dns.NSEC3:
			r.proof = append(r.proof, rr)
		case *dns.DS:
			if r.kind == kindReferral && strings.EqualFold(h.Name, r.zone) {
				r.ds = append(r.ds, rr)
			}
		case *dns.RRSIG:
			switch v.TypeCovered {
			case dns.TypeNSEC, dns.TypeNSEC3:
				r.proof = append(r.proof, rr)
			case dns.TypeDS:
				if r.kind == kindReferral && strings.EqualFold(h.Name, r.zone) {
					r.ds = append(r.ds, rr)
				}
			case dns.TypeNS:
				if positive && strings.EqualFold(h.Name, c.zone) {
					r.apexNS = append(r.apexNS, rr)
				}
			case dns.TypeSOA:
				if r.kind == kindNXDomain || r.kind == kindNoData {
					r.proof = append(r.proof, rr)
				}
			}
		}
	}
	if r.kind == kindNXDomain || r.kind == kindNoData {
		// The negative authority as classified holds NSEC records too;
		// keep one copy of the proof, in proof.
		var soa []dns.RR
		for _, rr := range r.soa {
			switch rr.Header().Rrtype {
			case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
			default:
				soa = append(soa, rr)
			}
		}
		r.soa = soa
	}
}

// rcodeWords says what a server that answered with rcode did, without the
// rcode's name, which a trace line shows beside it.
func rcodeWords(rcode int) string {
	switch rcode {
	case dns.RcodeRefused:
		return "will not answer for the zone (lame)"
	case dns.RcodeServerFailure:
		return "failed to answer"
	case dns.RcodeFormatError:
		return "could not parse the query"
	case dns.RcodeNotImplemented:
		return "does not implement the query"
	}
	return "sent an unexpected reply code " + dns.RcodeToString[rcode]
}
