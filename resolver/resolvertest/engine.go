package resolvertest

import (
	"github.com/miekg/dns"
)

// maxChainSteps bounds the CNAME and DNAME steps followed inside one zone
// for one query. BIND stops at 16; 8 is plenty for lab data and keeps a
// CNAME loop in a zone from spinning.
const maxChainSteps = 8

// serverUDPSize is the EDNS(0) payload size the lab's servers advertise:
// the DNS Flag Day 2020 recommendation.
const serverUDPSize = 1232

// engine answers queries from the zones one server hosts.
type engine struct {
	zones []*zone
}

// answer builds the reply to q. udp says whether q came over UDP, in which
// case the reply is truncated to the client's payload size.
func (e *engine) answer(q *dns.Msg, udp bool) *dns.Msg {
	resp := new(dns.Msg)
	switch {
	case q.Opcode != dns.OpcodeQuery:
		resp.SetRcode(q, dns.RcodeNotImplemented)
		return finish(q, resp, udp)
	case len(q.Question) != 1:
		resp.SetRcode(q, dns.RcodeFormatError)
		return finish(q, resp, udp)
	}
	resp.SetReply(q)
	resp.RecursionAvailable = false
	question := q.Question[0]
	if opt := q.IsEdns0(); opt != nil && opt.Version() != 0 {
		// RFC 6891 section 6.1.3: unsupported version.
		resp.Rcode = dns.RcodeBadVers
		return finish(q, resp, udp)
	}
	if question.Qclass != dns.ClassINET {
		resp.Rcode = dns.RcodeRefused
		return finish(q, resp, udp)
	}
	z := e.zoneFor(dns.CanonicalName(question.Name), question.Qtype)
	if z == nil {
		resp.Rcode = dns.RcodeRefused
		return finish(q, resp, udp)
	}
	resp.Authoritative = true
	opt := q.IsEdns0()
	z.lookup(resp, question.Name, question.Qtype, opt != nil && opt.Do())
	return finish(q, resp, udp)
}

// zoneFor returns the closest enclosing hosted zone of name, or nil. A DS
// query for a zone's apex goes to the hosted parent zone, if any, because
// DS lives on the parent side of the cut (RFC 4035 section 3.1.4.1).
func (e *engine) zoneFor(name string, qtype uint16) *zone {
	var best, parentOfBest *zone
	for _, z := range e.zones {
		if !dns.IsSubDomain(z.origin, name) {
			continue
		}
		if best == nil || dns.CountLabel(z.origin) > dns.CountLabel(best.origin) {
			best = z
		}
	}
	if best == nil || qtype != dns.TypeDS || best.origin != name || name == "." {
		return best
	}
	for _, z := range e.zones {
		if z == best || !dns.IsSubDomain(z.origin, name) {
			continue
		}
		if parentOfBest == nil || dns.CountLabel(z.origin) > dns.CountLabel(parentOfBest.origin) {
			parentOfBest = z
		}
	}
	if parentOfBest != nil {
		return parentOfBest
	}
	return best
}

// lookup fills resp with the answer for owner/qtype from z: RFC 1034
// section 4.3.2 step 3, with DNAME (RFC 6672) and RFC 4592 wildcards.
// owner is the name as spelt by the client (or by the CNAME target being
// followed); matching is case-insensitive. do asks for the DNSSEC records
// of a signed zone (RFC 4035 section 3.1).
func (z *zone) lookup(resp *dns.Msg, owner string, qtype uint16, do bool) {
	sec := do && z.signed()
	for step := 0; step < maxChainSteps; step++ {
		name := dns.CanonicalName(owner)
		cut, dname := z.findCutOrDNAME(name, qtype)
		switch {
		case cut != "":
			z.referral(resp, cut, sec)
			return
		case dname != "":
			target, ok := z.synthesize(resp, owner, dname, sec)
			if !ok {
				return
			}
			owner = target
			if !dns.IsSubDomain(z.origin, dns.CanonicalName(owner)) {
				return
			}
			continue
		}

		source := name // the node the data comes from
		ce := ""       // closest encloser, when source is a wildcard
		if z.nodes[name] == nil {
			if z.names[name] {
				// Empty non-terminal: the name exists, with no data.
				z.nodata(resp, sec)
				if sec {
					z.proveNODATA(resp, name)
				}
				return
			}
			ce = z.closestEncloser(name)
			wild := wildcardName(ce)
			if z.nodes[wild] == nil {
				resp.Rcode = dns.RcodeNameError
				if sec {
					resp.Ns = append(resp.Ns, z.signedNegativeSOA()...)
					z.proveNXDOMAIN(resp, name, ce)
				} else {
					resp.Ns = append(resp.Ns, z.negativeSOA())
				}
				return
			}
			source = wild
		}
		wildcard := source != name

		var rrs []dns.RR
		switch {
		case qtype == dns.TypeANY:
			rrs = z.allRRsets(source, owner)
		default:
			rrs = z.rrset(source, qtype, owner)
		}
		final := len(rrs) > 0
		if !final {
			rrs = z.rrset(source, dns.TypeCNAME, owner)
		}
		if len(rrs) == 0 {
			z.nodata(resp, sec)
			switch {
			case sec && wildcard:
				z.proveWildcardNODATA(resp, name, ce)
			case sec:
				z.proveNODATA(resp, name)
			}
			return
		}
		if sec {
			resp.Answer = append(resp.Answer, z.withSigs(rrs, source, owner)...)
			if wildcard {
				z.proveWildcardAnswer(resp, name, ce)
			}
		} else {
			resp.Answer = append(resp.Answer, rrs...)
		}
		if final {
			if qtype != dns.TypeANY {
				z.additional(resp, rrs)
			}
			return
		}
		owner = rrs[0].(*dns.CNAME).Target
		if !dns.IsSubDomain(z.origin, dns.CanonicalName(owner)) {
			// Out of zone: the resolver follows it.
			return
		}
	}
}

// findCutOrDNAME walks from the apex down to name and returns the first
// zone cut (a non-apex name with NS) or DNAME owner strictly above name
// that applies. A cut at name itself applies except for DS, which the
// parent answers. A DNAME at name itself does not redirect name.
func (z *zone) findCutOrDNAME(name string, qtype uint16) (cut, dname string) {
	if name != z.origin && len(z.nodes[z.origin][dns.TypeDNAME]) > 0 {
		return "", z.origin
	}
	for _, a := range ancestors(z.origin, name) {
		node := z.nodes[a]
		if len(node[dns.TypeNS]) > 0 {
			if a == name && qtype == dns.TypeDS {
				return "", ""
			}
			return a, ""
		}
		if a != name && len(node[dns.TypeDNAME]) > 0 {
			return "", a
		}
	}
	return "", ""
}

// closestEncloser returns the longest existing ancestor of name (RFC 4592
// section 3.3.1). The origin always exists.
func (z *zone) closestEncloser(name string) string {
	for n := parent(name); n != z.origin; n = parent(n) {
		if z.names[n] {
			return n
		}
		if n == "." {
			break
		}
	}
	return z.origin
}

// referral answers with the delegation at cut: no AA (unless the answer
// section already holds authoritative data), the NS RRset in authority and
// the addresses of NS names that the zone holds (glue) in additional.
//
// With sec, the DS RRset and its RRSIGs follow the NS RRset for a signed
// child, and the proof that there is no DS for an unsigned one (RFC 4035
// section 3.1.4).
func (z *zone) referral(resp *dns.Msg, cut string, sec bool) {
	if len(resp.Answer) == 0 {
		resp.Authoritative = false
	}
	ns := z.rrset(cut, dns.TypeNS, cut)
	resp.Ns = append(resp.Ns, ns...)
	if sec {
		if ds := z.rrset(cut, dns.TypeDS, cut); len(ds) > 0 {
			resp.Ns = append(resp.Ns, z.withSigs(ds, cut, cut)...)
		} else {
			z.proveInsecureDelegation(resp, cut)
		}
	}
	z.additional(resp, ns)
}

// nodata answers "the name exists but has no data of this type"; with sec
// the SOA's RRSIGs come along (the NSEC proof is the caller's).
func (z *zone) nodata(resp *dns.Msg, sec bool) {
	if sec {
		resp.Ns = append(resp.Ns, z.signedNegativeSOA()...)
		return
	}
	resp.Ns = append(resp.Ns, z.negativeSOA())
}

// synthesize applies the DNAME at dname to owner (RFC 6672 section 3.3):
// the DNAME and a synthesized CNAME go to the answer section. It returns
// the new name, or false (with YXDOMAIN set) if the result is too long.
// With sec the DNAME's RRSIGs follow it; the synthesized CNAME is unsigned
// (RFC 6672 section 5.3.1).
func (z *zone) synthesize(resp *dns.Msg, owner, dname string, sec bool) (string, bool) {
	rrs := z.rrset(dname, dns.TypeDNAME, dname)
	d := rrs[0].(*dns.DNAME)
	prefix := owner
	if dname != "." {
		prefix = owner[:len(owner)-len(dname)]
	}
	target := prefix + d.Target
	if d.Target == "." {
		target = prefix
	}
	resp.Answer = append(resp.Answer, d)
	if sec {
		resp.Answer = append(resp.Answer, z.sigs(dname, dns.TypeDNAME, dname)...)
	}
	if _, ok := dns.IsDomainName(target); !ok || len(target) > 255 {
		resp.Rcode = dns.RcodeYXDomain
		return "", false
	}
	resp.Answer = append(resp.Answer, &dns.CNAME{
		Hdr:    dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: d.Hdr.Ttl},
		Target: target,
	})
	return target, true
}

// additional adds the zone's A and AAAA records for the targets of NS, MX
// and SRV records in rrs, skipping names already there.
func (z *zone) additional(resp *dns.Msg, rrs []dns.RR) {
	for _, rr := range rrs {
		var target string
		switch v := rr.(type) {
		case *dns.NS:
			target = v.Ns
		case *dns.MX:
			target = v.Mx
		case *dns.SRV:
			target = v.Target
		default:
			continue
		}
		target = dns.CanonicalName(target)
		if !dns.IsSubDomain(z.origin, target) || hasExtra(resp, target) {
			continue
		}
		resp.Extra = append(resp.Extra, z.rrset(target, dns.TypeA, target)...)
		resp.Extra = append(resp.Extra, z.rrset(target, dns.TypeAAAA, target)...)
	}
}

func hasExtra(resp *dns.Msg, name string) bool {
	for _, rr := range resp.Extra {
		if dns.CanonicalName(rr.Header().Name) == name {
			return true
		}
	}
	return false
}

// finish adds the OPT record when the query had one (RFC 6891 section 6.1.1)
// and truncates UDP replies to the client's payload size.
func finish(q, resp *dns.Msg, udp bool) *dns.Msg {
	size := dns.MinMsgSize
	if opt := q.IsEdns0(); opt != nil {
		resp.SetEdns0(serverUDPSize, opt.Do())
		size = max(size, int(opt.UDPSize()))
	}
	if udp {
		resp.Truncate(size)
	}
	resp.Compress = true
	return resp
}
