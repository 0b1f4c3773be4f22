package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// The signed hierarchy (issue 7) is a second, separate tree with a root of
// its own on 127.54.x.y, so that the unsigned comparisons of issue 5 run
// exactly as before against resolvers that do not validate, while a second
// pair of resolvers validates this one from its root trust anchor:
//
//	.                signed, NSEC
//	secure.          signed, NSEC, DS in the root
//	  ok.secure.       signed, DS: secure answers, NXDOMAIN, NODATA, wildcard
//	    sub.ok.secure.   signed, DS, on other servers: a third level
//	    unsig.ok.secure. unsigned, no DS: insecure
//	  two.secure.      signed, DS
//	  insec.secure.    unsigned, no DS (the NSEC proves it): insecure
//	  expired.secure.  signed, DS; every signature expired 30 days ago: bogus
//	  justexpired.secure. the same, expired an hour ago (one question)
//	  notyet.secure.   signed, DS; signatures valid from in two days: bogus
//	  wrongds.secure.  signed, DS matching no key: bogus
//	  nosig.secure.    signed, DS; www has no RRSIG: bogus there
//	  badsig.secure.   signed, DS; www's RRSIG tampered with: bogus there
//	hashed.          signed, NSEC3, DS in the root
//	  ok.hashed.       signed, NSEC3, DS
//	  insec.hashed.    unsigned, no DS (NSEC3 proves it): insecure
//	  badsig.hashed.   signed, NSEC3, DS; www's RRSIG tampered with: bogus
//	plain.           unsigned, no DS in the root: insecure
//	  signed.plain.    signed, but below an insecure delegation: insecure
//
// Keys are generated at every run and kept only in memory; the root's KSK
// goes out as a DS record in root.ds, the trust anchor of both resolvers.

// Addresses of the signed hierarchy's servers.
var secHostAddr = map[string]string{
	"a.ns.secure.":     "127.54.0.1",
	"ns1.nic.secure.":  "127.54.1.1",
	"ns1.nic.hashed.":  "127.54.2.1",
	"ns1.nic.plain.":   "127.54.3.1",
	"ns1.host.secure.": "127.54.10.1",
	"ns2.host.secure.": "127.54.10.2",
	"ns3.host.secure.": "127.54.11.1",
	"ns.host.plain.":   "127.54.12.1",
	"ns1.host.hashed.": "127.54.13.1",
}

// buildSigned returns the signed hierarchy, signed at time now, with its
// questions, and the root trust anchor as zone-file text.
func buildSigned(now time.Time) (*hier, string, error) {
	h := newHier()
	h.rootNS = []string{"a.ns.secure."}
	h.addr = secHostAddr
	inst := func(name string, hosts ...string) {
		for _, n := range hosts {
			h.instAddrs[name] = append(h.instAddrs[name], secHostAddr[n])
		}
	}
	inst("s-root", "a.ns.secure.")
	inst("s-secure", "ns1.nic.secure.")
	inst("s-hashed", "ns1.nic.hashed.")
	inst("s-plain", "ns1.nic.plain.")
	inst("s-hosta", "ns1.host.secure.", "ns2.host.secure.")
	inst("s-hostb", "ns3.host.secure.")
	inst("s-hostc", "ns.host.plain.")
	inst("s-hostd", "ns1.host.hashed.")

	specs := map[string]signSpec{}
	root := h.zone(".", h.rootNS, "s-root")
	specs["."] = signSpec{}
	tld := func(name, ns, instance string, spec *signSpec) *zone {
		z := h.zone(name, []string{ns}, instance)
		root.delegate(name, []string{ns}, secHostAddr)
		if spec != nil {
			specs[name] = *spec
		}
		return z
	}
	secure := tld("secure.", "ns1.nic.secure.", "s-secure", &signSpec{})
	hashed := tld("hashed.", "ns1.nic.hashed.", "s-hashed", &signSpec{NSEC3: true})
	plain := tld("plain.", "ns1.nic.plain.", "s-plain", nil)
	for _, n := range []string{"a.ns.secure.", "ns1.nic.secure.", "ns1.host.secure.", "ns2.host.secure.", "ns3.host.secure."} {
		secure.rr(n, "A "+secHostAddr[n])
	}
	hashed.rr("ns1.nic.hashed.", "A "+secHostAddr["ns1.nic.hashed."])
	hashed.rr("ns1.host.hashed.", "A "+secHostAddr["ns1.host.hashed."])
	plain.rr("ns1.nic.plain.", "A "+secHostAddr["ns1.nic.plain."])
	plain.rr("ns.host.plain.", "A "+secHostAddr["ns.host.plain."])
	plain.rr("www", "A 192.0.2.150")
	h.ask("www.plain.", "A", "dnssec: insecure TLD")
	h.ask("plain.", "DS", "dnssec: no DS for an insecure TLD: secure NODATA from the root")
	h.ask("plain.", "SOA", "dnssec: insecure TLD apex")

	hostA := []string{"ns1.host.secure.", "ns2.host.secure."}
	leaf := func(name string, parent *zone, ns []string, instance string, spec *signSpec) *zone {
		z := h.zone(name, ns, instance)
		parent.delegate(name, ns, secHostAddr)
		if spec != nil {
			specs[name] = *spec
		}
		return z
	}
	type leafZone struct {
		name   string
		parent *zone
		ns     []string
		inst   string
		spec   *signSpec
		kind   string // secure, insecure or bogus
	}
	okSecure := leaf("ok.secure.", secure, hostA, "s-hosta", &signSpec{})
	leaves := []leafZone{
		{"sub.ok.secure.", okSecure, []string{"ns3.host.secure."}, "s-hostb", &signSpec{}, "secure"},
		{"unsig.ok.secure.", okSecure, []string{"ns3.host.secure."}, "s-hostb", nil, "insecure"},
		{"two.secure.", secure, hostA, "s-hosta", &signSpec{}, "secure"},
		{"insec.secure.", secure, hostA, "s-hosta", nil, "insecure"},
		{"expired.secure.", secure, hostA, "s-hosta", &signSpec{Break: resolvertest.BreakExpired, ExpiredAgo: 30 * 24 * time.Hour}, "bogus"},
		{"notyet.secure.", secure, hostA, "s-hosta", &signSpec{Break: resolvertest.BreakNotYetValid}, "bogus"},
		{"wrongds.secure.", secure, hostA, "s-hosta", &signSpec{Break: resolvertest.BreakWrongDS}, "bogus"},
		{"nosig.secure.", secure, hostA, "s-hosta", &signSpec{Break: resolvertest.BreakMissingRRSIG, BreakNames: []string{"www.nosig.secure."}}, "bogus at www"},
		{"badsig.secure.", secure, hostA, "s-hosta", &signSpec{Break: resolvertest.BreakBadSignature, BreakNames: []string{"www.badsig.secure."}}, "bogus at www"},
		{"ok.hashed.", hashed, []string{"ns1.host.hashed."}, "s-hostd", &signSpec{NSEC3: true}, "secure"},
		{"insec.hashed.", hashed, []string{"ns1.host.hashed."}, "s-hostd", nil, "insecure"},
		{"badsig.hashed.", hashed, []string{"ns1.host.hashed."}, "s-hostd", &signSpec{NSEC3: true, Break: resolvertest.BreakBadSignature, BreakNames: []string{"www.badsig.hashed."}}, "bogus at www"},
		{"signed.plain.", plain, []string{"ns.host.plain."}, "s-hostc", &signSpec{}, "insecure (signed below an insecure delegation)"},
	}
	all := []leafZone{{name: okSecure.name, kind: "secure"}}
	for _, l := range leaves {
		leaf(l.name, l.parent, l.ns, l.inst, l.spec)
		all = append(all, l)
	}
	for i, l := range all {
		z := h.zones[l.name]
		z.rr("", fmt.Sprintf("A 192.0.2.%d", 160+i))
		z.rr("", "MX 10 mail")
		z.rr("", fmt.Sprintf(`TXT "signed hierarchy zone %d"`, i))
		z.rr("www", fmt.Sprintf("A 192.0.2.%d", 160+i))
		z.rr("www", fmt.Sprintf("AAAA 2001:db8:5::%x", i+1))
		z.rr("mail", fmt.Sprintf("A 198.51.100.%d", 160+i))
		z.rr("*.wild", "A 192.0.2.200")
		z.rr("x.ent", "A 192.0.2.201")
		why, www := "dnssec: "+l.kind, "dnssec: "+l.kind
		if l.kind == "bogus at www" {
			// Only www's RRsets are broken; the rest of the zone is secure.
			why = "dnssec: secure name in a zone broken at www"
		}
		h.ask("www."+l.name, "A", www)
		h.ask("www."+l.name, "AAAA", www)
		h.ask(l.name, "MX", why)
		h.ask(l.name, "DNSKEY", why)
		h.ask(l.name, "DS", "dnssec: DS from the parent, of a zone "+l.kind)
		h.ask("nx."+l.name, "A", why+": NXDOMAIN")
		h.ask("www."+l.name, "TXT", www+": NODATA")
		h.ask("ent."+l.name, "A", why+": empty non-terminal NODATA")
		h.ask("abc.wild."+l.name, "A", why+": wildcard")
		h.ask("abc.wild."+l.name, "TXT", why+": wildcard NODATA")
		h.ask("mail."+l.name, "A", why)
	}
	// Signatures that expired an hour ago: within the allowance for clock
	// skew both give (a tenth of the validity period, at most a day), so
	// both answer Secure.
	je := leaf("justexpired.secure.", secure, hostA, "s-hosta", &signSpec{Break: resolvertest.BreakExpired, ExpiredAgo: time.Hour})
	je.rr("www", "A 192.0.2.190")
	h.ask("www.justexpired.secure.", "A", "dnssec: signatures expired an hour ago, within the clock-skew allowance")

	// Answers that cross zones of different security.
	okSecure.rr("tohashed", "CNAME www.ok.hashed.")
	okSecure.rr("toinsec", "CNAME www.insec.secure.")
	okSecure.rr("tobogus", "CNAME www.badsig.secure.")
	okSecure.rr("tonx", "CNAME nx.two.secure.")
	h.zones["insec.secure."].rr("tosecure", "CNAME www.ok.secure.")
	h.ask("tohashed.ok.secure.", "A", "dnssec: secure CNAME to a secure NSEC3 zone")
	h.ask("toinsec.ok.secure.", "A", "dnssec: secure CNAME to an insecure zone")
	h.ask("tobogus.ok.secure.", "A", "dnssec: secure CNAME to a bogus name")
	h.ask("tonx.ok.secure.", "A", "dnssec: secure CNAME to a secure NXDOMAIN")
	h.ask("tosecure.insec.secure.", "A", "dnssec: insecure CNAME to a secure name")
	// The hierarchy's own names.
	h.ask(".", "DNSKEY", "dnssec: root DNSKEY")
	h.ask(".", "SOA", "dnssec: root SOA")
	h.ask("secure.", "DS", "dnssec: TLD DS")
	h.ask("hashed.", "DNSKEY", "dnssec: NSEC3 TLD DNSKEY")
	h.ask("ns1.host.secure.", "A", "dnssec: name server address in a secure TLD")
	h.ask("nosuchtld.", "A", "dnssec: NXDOMAIN from the signed root")
	h.ask("zz.secure.", "A", "dnssec: NXDOMAIN from an NSEC TLD")
	h.ask("zz.hashed.", "A", "dnssec: NXDOMAIN from an NSEC3 TLD")
	h.ask("a.b.zz.hashed.", "TXT", "dnssec: NXDOMAIN from an NSEC3 TLD, closest encloser the apex")

	// Sign the deepest zones first, so that each DS is in its parent
	// before the parent is signed.
	signed := make([]string, 0, len(specs))
	for name := range specs {
		signed = append(signed, name)
	}
	sort.Slice(signed, func(i, j int) bool {
		ci, cj := dns.CountLabel(signed[i]), dns.CountLabel(signed[j])
		if ci != cj {
			return ci > cj
		}
		return signed[i] < signed[j]
	})
	anchor := ""
	for _, name := range signed {
		ds, err := signZone(h.zones[name], specs[name], now)
		if err != nil {
			return nil, "", err
		}
		if name == "." {
			anchor = ds.String() + "\n"
			continue
		}
		p := h.zones[parentName(name)]
		if _, ok := specs[p.name]; ok {
			p.rr(name, "DS "+ds.String()[len(ds.Hdr.String()):])
		}
	}
	return h, anchor, nil
}

// writeSigned writes the signed hierarchy under out (the same layout as the
// unsigned one) and its root trust anchor to out/root.ds.
func writeSigned(out string, now time.Time) (*hier, error) {
	h, anchor, err := buildSigned(now)
	if err != nil {
		return nil, err
	}
	if err := h.write(out); err != nil {
		return nil, err
	}
	return h, os.WriteFile(filepath.Join(out, "root.ds"), []byte(anchor), 0o644)
}
