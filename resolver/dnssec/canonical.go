package dnssec

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
)

// maxNameWire is the maximum length of a domain name in wire format
// (RFC 1035 §2.3.4).
const maxNameWire = 255

// nameLabels returns the labels of name in wire form, lower-cased (ASCII
// only, RFC 4034 §6.2), leftmost first. It returns nil for the root and for
// names that do not pack (too long, bad escapes); such names sort first.
func nameLabels(name string) [][]byte {
	var buf [maxNameWire + 1]byte
	off, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return nil
	}
	wire := buf[:off]
	for i, c := range wire {
		if 'A' <= c && c <= 'Z' {
			wire[i] = c + 'a' - 'A' // ASCII only; bytes.ToLower would decode UTF-8
		}
	}
	var labels [][]byte
	for i := 0; i < len(wire) && wire[i] != 0; {
		n := int(wire[i])
		if i+1+n > len(wire) {
			return nil
		}
		labels = append(labels, wire[i+1:i+1+n])
		i += 1 + n
	}
	return labels
}

// compareNames orders two domain names canonically (RFC 4034 §6.1): label by
// label from the right, each label compared as a lower-cased octet string,
// a name that is a proper ancestor sorting first.
func compareNames(a, b string) int {
	la, lb := nameLabels(a), nameLabels(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	switch {
	case len(la) < len(lb):
		return -1
	case len(la) > len(lb):
		return 1
	}
	return 0
}

// equalNames reports whether two names are equal ignoring ASCII case.
func equalNames(a, b string) bool {
	return strings.EqualFold(dns.Fqdn(a), dns.Fqdn(b))
}

// isSubdomain reports whether child is parent or below it (case-insensitive).
func isSubdomain(parent, child string) bool {
	return dnsname.IsSubDomain(parent, child)
}

// parentName returns name without its leftmost label ("." for the root).
func parentName(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// ancestorWithLabels returns the ancestor-or-self of name with n labels.
func ancestorWithLabels(name string, n int) string {
	name = dns.Fqdn(name)
	idx := dns.Split(name)
	if n <= 0 || len(idx) == 0 {
		return "."
	}
	if n >= len(idx) {
		return name
	}
	return name[idx[len(idx)-n]:]
}

// commonAncestor returns the longest common ancestor of a and b.
func commonAncestor(a, b string) string {
	return ancestorWithLabels(a, dns.CompareDomainName(a, b))
}

// signedData builds the data an RRSIG signs (RFC 4034 §3.1.8.1): the RRSIG
// RDATA without the signature, then the RRset in canonical form (§6.2) and
// canonical order (§6.3) with duplicates removed. github.com/miekg/dns does
// the same internally; it is needed here for the DSA algorithms it lacks.
func signedData(sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	buf := make([]byte, 18, 18+maxNameWire)
	binary.BigEndian.PutUint16(buf[0:], sig.TypeCovered)
	buf[2] = sig.Algorithm
	buf[3] = sig.Labels
	binary.BigEndian.PutUint32(buf[4:], sig.OrigTtl)
	binary.BigEndian.PutUint32(buf[8:], sig.Expiration)
	binary.BigEndian.PutUint32(buf[12:], sig.Inception)
	binary.BigEndian.PutUint16(buf[16:], sig.KeyTag)
	var name [maxNameWire + 1]byte
	off, err := dns.PackDomainName(dns.CanonicalName(sig.SignerName), name[:], 0, nil, false)
	if err != nil {
		return nil, err
	}
	buf = append(buf, name[:off]...)

	wires := make([][]byte, 0, len(rrset))
	for _, rr := range rrset {
		w, err := canonicalRR(rr, sig)
		if err != nil {
			return nil, err
		}
		wires = append(wires, w)
	}
	// All RRs share owner, type, class and TTL, so sorting whole wire forms
	// past the fixed header orders them by RDATA (RFC 4034 §6.3).
	ownerLen := 0
	if len(wires) > 0 {
		_, ownerLen, _ = dns.UnpackDomainName(wires[0], 0)
	}
	slices.SortFunc(wires, func(a, b []byte) int {
		return bytes.Compare(a[ownerLen+10:], b[ownerLen+10:])
	})
	wires = slices.CompactFunc(wires, bytes.Equal)
	for _, w := range wires {
		buf = append(buf, w...)
	}
	return buf, nil
}

// canonicalRR returns rr in RFC 4034 §6.2 canonical wire form for sig:
// lower-case owner (wildcard-reduced to sig.Labels), lower-case domain names
// in the RDATA of the types listed there (without HINFO, RFC 6840 §5.1), and
// the original TTL.
func canonicalRR(rr dns.RR, sig *dns.RRSIG) ([]byte, error) {
	c := dns.Copy(rr)
	h := c.Header()
	h.Ttl = sig.OrigTtl
	if labels := dns.SplitDomainName(h.Name); len(labels) > int(sig.Labels) {
		h.Name = "*." + strings.Join(labels[len(labels)-int(sig.Labels):], ".") + "."
		if sig.Labels == 0 {
			h.Name = "*."
		}
	}
	h.Name = dns.CanonicalName(h.Name)
	switch x := c.(type) {
	case *dns.NS:
		x.Ns = dns.CanonicalName(x.Ns)
	case *dns.MD:
		x.Md = dns.CanonicalName(x.Md)
	case *dns.MF:
		x.Mf = dns.CanonicalName(x.Mf)
	case *dns.CNAME:
		x.Target = dns.CanonicalName(x.Target)
	case *dns.SOA:
		x.Ns = dns.CanonicalName(x.Ns)
		x.Mbox = dns.CanonicalName(x.Mbox)
	case *dns.MB:
		x.Mb = dns.CanonicalName(x.Mb)
	case *dns.MG:
		x.Mg = dns.CanonicalName(x.Mg)
	case *dns.MR:
		x.Mr = dns.CanonicalName(x.Mr)
	case *dns.PTR:
		x.Ptr = dns.CanonicalName(x.Ptr)
	case *dns.MINFO:
		x.Rmail = dns.CanonicalName(x.Rmail)
		x.Email = dns.CanonicalName(x.Email)
	case *dns.MX:
		x.Mx = dns.CanonicalName(x.Mx)
	case *dns.RP:
		x.Mbox = dns.CanonicalName(x.Mbox)
		x.Txt = dns.CanonicalName(x.Txt)
	case *dns.AFSDB:
		x.Hostname = dns.CanonicalName(x.Hostname)
	case *dns.RT:
		x.Host = dns.CanonicalName(x.Host)
	case *dns.SIG:
		x.SignerName = dns.CanonicalName(x.SignerName)
	case *dns.PX:
		x.Map822 = dns.CanonicalName(x.Map822)
		x.Mapx400 = dns.CanonicalName(x.Mapx400)
	case *dns.NAPTR:
		x.Replacement = dns.CanonicalName(x.Replacement)
	case *dns.KX:
		x.Exchanger = dns.CanonicalName(x.Exchanger)
	case *dns.SRV:
		x.Target = dns.CanonicalName(x.Target)
	case *dns.DNAME:
		x.Target = dns.CanonicalName(x.Target)
	}
	wire := make([]byte, dns.Len(c)+1)
	off, err := dns.PackRR(c, wire, 0, nil, false)
	if err != nil {
		return nil, err
	}
	return wire[:off], nil
}
