package resolver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzClassify feeds arbitrary replies to the response classifier, the
// first code that sees what an upstream sends. It must never panic, and
// whatever it keeps must lie inside the server's bailiwick.
func FuzzClassify(f *testing.F) {
	seed := func(m *dns.Msg) {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "org.", "www.example.org.", uint16(dns.TypeA), false)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	m.Response = true
	m.Ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1.example.org."}}
	m.Extra = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "ns1.example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{127, 0, 0, 1}}}
	seed(m)
	m2 := new(dns.Msg)
	m2.SetQuestion("www.example.org.", dns.TypeA)
	m2.Response, m2.Authoritative = true, true
	m2.Answer = []dns.RR{
		&dns.DNAME{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeDNAME, Class: dns.ClassINET, Ttl: 60}, Target: "example.net."},
		&dns.CNAME{Hdr: dns.RR_Header{Name: "www.example.org.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "www.example.org."},
	}
	seed(m2)
	f.Fuzz(func(t *testing.T, wire []byte, zone, qname string, qtype uint16, minimised bool) {
		resp := new(dns.Msg)
		if resp.Unpack(wire) != nil {
			return
		}
		if _, ok := dns.IsDomainName(zone); !ok {
			return
		}
		if _, ok := dns.IsDomainName(qname); !ok {
			return
		}
		zone, qname = dns.Fqdn(zone), dns.Fqdn(qname)
		c := classifier{zone: zone, qname: qname, qtype: qtype, qclass: dns.ClassINET, minimised: minimised}
		r := c.classify(resp)
		for _, rr := range append(append([]dns.RR{}, r.answer...), r.soa...) {
			if !inZone(rr.Header().Name, zone) {
				t.Errorf("kept %s from outside %s", rr.Header().Name, zone)
			}
		}
		if r.kind == kindReferral && (!inZone(r.zone, zone) || strings.EqualFold(r.zone, zone)) {
			t.Errorf("referral to %s from %s", r.zone, zone)
		}
	})
}

// FuzzParseHints checks the hints parser never panics.
func FuzzParseHints(f *testing.F) {
	f.Add(". 3600 IN NS a.root.lab.\na.root.lab. 3600 IN A 127.0.0.1\n")
	f.Add("$ORIGIN .\n@ NS a.\na. AAAA ::1\n")
	f.Fuzz(func(t *testing.T, text string) {
		h, err := ParseHints(strings.NewReader(text), "fuzz")
		if err == nil && len(h.Servers) == 0 {
			t.Errorf("no error and no servers")
		}
	})
}
