package resolvertest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestEngine(t *testing.T) {
	lab := newFixture(t)
	soaEx := "example.org. 60 IN SOA ns1.example.org. hostmaster.example.org. 2026112601 7200 900 1209600 60"
	soaOrg := "org. 300 IN SOA ns.org. hostmaster.org. 1 7200 900 1209600 300"
	tests := []struct {
		name   string
		server string
		qname  string
		qtype  uint16
		want   view
	}{
		{
			name: "exact answer", server: "ns1.example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.example.org. 300 IN A 192.0.2.10")},
		},
		{
			name: "client case echoed", server: "ns1.example.org.", qname: "WwW.eXample.ORG.", qtype: dns.TypeAAAA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "WwW.eXample.ORG. 300 IN AAAA 2001:db8::10")},
		},
		{
			name: "cname chain in zone", server: "ns1.example.org.", qname: "chain.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t,
				"chain.example.org. 300 IN CNAME alias.example.org.",
				"alias.example.org. 300 IN CNAME www.example.org.",
				"www.example.org. 300 IN A 192.0.2.10")},
		},
		{
			name: "cname query type", server: "ns1.example.org.", qname: "alias.example.org.", qtype: dns.TypeCNAME,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "alias.example.org. 300 IN CNAME www.example.org.")},
		},
		{
			name: "cname out of zone", server: "ns1.example.org.", qname: "ext.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "ext.example.org. 300 IN CNAME www.example.net.")},
		},
		{
			name: "cname loop bounded", server: "ns1.example.org.", qname: "loop1.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t,
				"loop1.example.org. 300 IN CNAME loop2.example.org.",
				"loop2.example.org. 300 IN CNAME loop1.example.org.",
				"loop1.example.org. 300 IN CNAME loop2.example.org.",
				"loop2.example.org. 300 IN CNAME loop1.example.org.",
				"loop1.example.org. 300 IN CNAME loop2.example.org.",
				"loop2.example.org. 300 IN CNAME loop1.example.org.",
				"loop1.example.org. 300 IN CNAME loop2.example.org.",
				"loop2.example.org. 300 IN CNAME loop1.example.org.")},
		},
		{
			name: "dname", server: "ns1.example.org.", qname: "x.old.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t,
				"old.example.org. 300 IN DNAME new.example.org.",
				"x.old.example.org. 300 IN CNAME x.new.example.org.",
				"x.new.example.org. 300 IN A 192.0.2.30")},
		},
		{
			name: "dname owner itself", server: "ns1.example.org.", qname: "old.example.org.", qtype: dns.TypeDNAME,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "old.example.org. 300 IN DNAME new.example.org.")},
		},
		{
			name: "dname to nxdomain", server: "ns1.example.org.", qname: "y.old.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NXDOMAIN", AA: true, Answer: rrs(t,
				"old.example.org. 300 IN DNAME new.example.org.",
				"y.old.example.org. 300 IN CNAME y.new.example.org."),
				Ns: rrs(t, soaEx)},
		},
		{
			name: "wildcard", server: "ns1.example.org.", qname: "anything.wild.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "anything.wild.example.org. 300 IN A 192.0.2.20")},
		},
		{
			name: "wildcard several labels deep", server: "ns1.example.org.", qname: "a.b.wild.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "a.b.wild.example.org. 300 IN A 192.0.2.20")},
		},
		{
			name: "wildcard nodata", server: "ns1.example.org.", qname: "x.wild2.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Ns: rrs(t, soaEx)},
		},
		{
			name: "wildcard owner queried literally", server: "ns1.example.org.", qname: "*.wild2.example.org.", qtype: dns.TypeTXT,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, `*.wild2.example.org. 300 IN TXT "wild"`)},
		},
		{
			name: "nxdomain", server: "ns1.example.org.", qname: "nope.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NXDOMAIN", AA: true, Ns: rrs(t, soaEx)},
		},
		{
			name: "nodata", server: "ns1.example.org.", qname: "www.example.org.", qtype: dns.TypeMX,
			want: view{Rcode: "NOERROR", AA: true, Ns: rrs(t, soaEx)},
		},
		{
			name: "empty non-terminal", server: "ns1.example.org.", qname: "b.c.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Ns: rrs(t, soaEx)},
		},
		{
			name: "below empty non-terminal", server: "ns1.example.org.", qname: "z.b.c.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NXDOMAIN", AA: true, Ns: rrs(t, soaEx)},
		},
		{
			name: "mx with additional", server: "ns1.example.org.", qname: "mail.example.org.", qtype: dns.TypeMX,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "mail.example.org. 300 IN MX 10 mx1.example.org."),
				Extra:  rrs(t, "mx1.example.org. 300 IN A 192.0.2.25")},
		},
		{
			name: "apex ns with glue", server: "ns1.example.org.", qname: "example.org.", qtype: dns.TypeNS,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "example.org. 300 IN NS ns1.example.org."),
				Extra:  rrs(t, "ns1.example.org. 300 IN A 127.53.0.3")},
		},
		{
			name: "referral from root", server: "a.root-servers.lab.", qname: "www.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "org. 86400 IN NS ns.org."),
				Extra: rrs(t, "ns.org. 86400 IN A 127.53.0.2")},
		},
		{
			name: "referral with in-zone glue only", server: "ns.org.", qname: "www.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "example.org. 3600 IN NS ns1.example.org.", "example.org. 3600 IN NS ns2.example.net."),
				Extra: rrs(t, "ns1.example.org. 3600 IN A 127.53.0.3")},
		},
		{
			name: "referral for ns at cut", server: "ns.org.", qname: "example.org.", qtype: dns.TypeNS,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "example.org. 3600 IN NS ns1.example.org.", "example.org. 3600 IN NS ns2.example.net."),
				Extra: rrs(t, "ns1.example.org. 3600 IN A 127.53.0.3")},
		},
		{
			name: "referral for glue name", server: "ns1.example.org.", qname: "ns.sub.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "sub.example.org. 300 IN NS ns.sub.example.org."),
				Extra: rrs(t, "ns.sub.example.org. 300 IN A 127.53.0.4")},
		},
		{
			name: "ds at cut from parent", server: "ns.org.", qname: "example.org.", qtype: dns.TypeDS,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "example.org. 3600 IN DS 23456 8 2 FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210")},
		},
		{
			name: "ds at unsigned cut is nodata", server: "ns.org.", qname: "nods.org.", qtype: dns.TypeDS,
			want: view{Rcode: "NOERROR", AA: true, Ns: rrs(t, soaOrg)},
		},
		{
			name: "ds at tld from root", server: "a.root-servers.lab.", qname: "org.", qtype: dns.TypeDS,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "org. 86400 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")},
		},
		{
			name: "ds on server hosting parent and child", server: "multi.lab.", qname: "example.org.", qtype: dns.TypeDS,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "example.org. 3600 IN DS 23456 8 2 FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210")},
		},
		{
			name: "closest enclosing zone answers", server: "multi.lab.", qname: "host.sub.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "host.sub.example.org. 300 IN A 192.0.2.40")},
		},
		{
			name: "child apex soa", server: "ns.sub.example.org.", qname: "sub.example.org.", qtype: dns.TypeSOA,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "sub.example.org. 300 IN SOA ns.sub.example.org. hostmaster.sub.example.org. 1 7200 900 1209600 60")},
		},
		{
			name: "refused outside hosted zones", server: "ns1.example.org.", qname: "www.example.net.", qtype: dns.TypeA,
			want: view{Rcode: "REFUSED"},
		},
		{
			name: "refused by server without zones", server: "lame.lab.", qname: "www.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "REFUSED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := query(tt.qname, tt.qtype)
			r := exchange(t, lab, tt.server, "udp", q)
			if diff := cmp.Diff(tt.want, viewOf(r)); diff != "" {
				t.Errorf("%s %s from %s: reply mismatch (-want +got):\n%s", tt.qname, dns.TypeToString[tt.qtype], tt.server, diff)
			}
			if r.Id != q.Id || len(r.Question) != 1 || r.Question[0] != q.Question[0] {
				t.Errorf("reply id/question %d %v, want %d %v", r.Id, r.Question, q.Id, q.Question)
			}
			if r.RecursionAvailable {
				t.Error("RA set by an authoritative server")
			}
		})
	}
}
