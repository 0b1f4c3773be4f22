package sim

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestExamplesAtServers queries, for each example, the servers that take
// part in resolving it and checks their referrals and authoritative
// answers.
func TestExamplesAtServers(t *testing.T) {
	lab := startSim(t)
	const (
		soaOrg = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2026112601 7200 3600 1209600 300"
		bigTXT = 8 // TXT records at big.example.org.
	)
	type step struct {
		name    string // subtest name: example ID and what is checked
		server  string
		qname   string
		qtype   uint16
		network string // "udp" if empty
		edns    uint16 // 0: no OPT
		dead    bool   // no reply expected
		want    view
	}
	steps := []step{
		{name: "delegation/root refers to org", server: "a.root-servers.lab.", qname: "www.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "org. 172800 IN NS a0.org-servers.lab.", "org. 172800 IN NS b0.org-servers.lab."),
				Extra: rrs(t, "a0.org-servers.lab. 172800 IN A 127.10.1.3", "b0.org-servers.lab. 172800 IN A 127.10.1.4")}},
		{name: "delegation/org refers with glue", server: "b0.org-servers.lab.", qname: "www.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "example.org. 86400 IN NS ns1.example.org.", "example.org. 86400 IN NS ns2.example.org."),
				Extra: rrs(t, "ns1.example.org. 86400 IN A 127.10.2.1", "ns2.example.org. 86400 IN A 127.10.2.2")}},
		{name: "delegation/answer", server: "ns2.example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.example.org. 3600 IN A 192.0.2.10")}},

		{name: "glueless/org refers without glue", server: "a0.org-servers.lab.", qname: "www.quiet-harbor.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns: rrs(t, "quiet-harbor.org. 86400 IN NS ns1.dnshost.net.", "quiet-harbor.org. 86400 IN NS ns2.dnshost.net.")}},
		{name: "glueless/net has the name server's glue", server: "a.gtld-servers.lab.", qname: "ns1.dnshost.net.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "dnshost.net. 172800 IN NS ns1.dnshost.net.", "dnshost.net. 172800 IN NS ns2.dnshost.net."),
				Extra: rrs(t, "ns1.dnshost.net. 172800 IN A 127.10.2.7", "ns2.dnshost.net. 172800 IN A 127.10.2.8")}},
		{name: "glueless/answer", server: "ns1.dnshost.net.", qname: "www.quiet-harbor.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.quiet-harbor.org. 3600 IN A 192.0.2.60")}},

		{name: "cname/out of zone", server: "ns1.example.org.", qname: "alias.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "alias.example.org. 3600 IN CNAME www.example.com.")}},
		{name: "cname/target", server: "ns1.example.com.", qname: "www.example.com.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.example.com. 3600 IN A 198.51.100.20")}},

		{name: "cname-chain/com", server: "ns2.example.com.", qname: "go.example.com.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t,
				"go.example.com. 3600 IN CNAME start.example.com.",
				"start.example.com. 3600 IN CNAME hop.example.net.")}},
		{name: "cname-chain/net", server: "ns1.example.net.", qname: "hop.example.net.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "hop.example.net. 3600 IN CNAME end.example.org.")}},
		{name: "cname-chain/org", server: "ns1.example.org.", qname: "end.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "end.example.org. 3600 IN A 192.0.2.99")}},

		{name: "dname/synthesis", server: "ns1.example.org.", qname: "widget.products.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t,
				"products.example.org. 3600 IN DNAME catalog.example.com.",
				"widget.products.example.org. 3600 IN CNAME widget.catalog.example.com.")}},
		{name: "dname/target", server: "ns1.example.com.", qname: "widget.catalog.example.com.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "widget.catalog.example.com. 3600 IN A 198.51.100.31")}},

		{name: "nxdomain", server: "ns1.example.org.", qname: "nonexistent.example.org.", qtype: dns.TypeA,
			want: view{Rcode: "NXDOMAIN", AA: true, Ns: rrs(t, soaOrg)}},
		{name: "nodata", server: "ns1.example.org.", qname: "www.example.org.", qtype: dns.TypeMX,
			want: view{Rcode: "NOERROR", AA: true, Ns: rrs(t, soaOrg)}},

		{name: "dead-server/com lists both", server: "b.gtld-servers.lab.", qname: "www.tideline.com.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "tideline.com. 172800 IN NS ns1.tideline.com.", "tideline.com. 172800 IN NS ns2.tideline.com."),
				Extra: rrs(t, "ns1.tideline.com. 172800 IN A 127.10.2.9", "ns2.tideline.com. 172800 IN A 127.10.2.10")}},
		{name: "dead-server/ns1 is silent", server: "ns1.tideline.com.", qname: "www.tideline.com.", qtype: dns.TypeA, dead: true},
		{name: "dead-server/ns2 answers", server: "ns2.tideline.com.", qname: "www.tideline.com.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.tideline.com. 3600 IN A 198.51.100.80")}},

		{name: "lame-refused/ns1 refuses", server: "ns1.lamplight.net.", qname: "www.lamplight.net.", qtype: dns.TypeA,
			want: view{Rcode: "REFUSED"}},
		{name: "lame-refused/ns2 answers", server: "ns2.lamplight.net.", qname: "www.lamplight.net.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.lamplight.net. 3600 IN A 203.0.113.90")}},

		{name: "lame-upward/ns1 refers to the root", server: "ns1.driftwood.org.", qname: "www.driftwood.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", Ns: rrs(t,
				". 518400 IN NS a.root-servers.lab.", ". 518400 IN NS b.root-servers.lab.", ". 518400 IN NS c.root-servers.lab.")}},
		{name: "lame-upward/ns2 answers", server: "ns2.driftwood.org.", qname: "www.driftwood.org.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.driftwood.org. 3600 IN A 192.0.2.110")}},

		{name: "tcp/udp is truncated", server: "ns1.example.org.", qname: "big.example.org.", qtype: dns.TypeTXT, edns: 1232,
			want: view{Rcode: "NOERROR", AA: true, TC: true}}, // Answer checked below: partial
		{name: "mx", server: "ns1.example.org.", qname: "example.org.", qtype: dns.TypeMX,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "example.org. 3600 IN MX 10 mail.example.org.", "example.org. 3600 IN MX 20 mail-backup.example.net."),
				Extra:  rrs(t, "mail.example.org. 3600 IN A 192.0.2.25", "mail.example.org. 3600 IN AAAA 2001:db8::25")}},
		{name: "aaaa", server: "ns1.example.org.", qname: "www.example.org.", qtype: dns.TypeAAAA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.example.org. 3600 IN AAAA 2001:db8::10")}},
		{name: "srv", server: "ns1.example.org.", qname: "_sip._tcp.example.org.", qtype: dns.TypeSRV,
			want: view{Rcode: "NOERROR", AA: true,
				Answer: rrs(t, "_sip._tcp.example.org. 3600 IN SRV 10 60 5060 sip.example.org."),
				Extra:  rrs(t, "sip.example.org. 3600 IN A 192.0.2.50")}},
		{name: "ptr/arpa refers without glue", server: "c.root-servers.lab.", qname: "10.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			want: view{Rcode: "NOERROR",
				Ns: rrs(t, "2.0.192.in-addr.arpa. 86400 IN NS ns1.example.net.", "2.0.192.in-addr.arpa. 86400 IN NS ns2.example.net.")}},
		{name: "ptr/answer", server: "ns2.example.net.", qname: "10.2.0.192.in-addr.arpa.", qtype: dns.TypePTR,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "10.2.0.192.in-addr.arpa. 3600 IN PTR www.example.org.")}},
		{name: "bulk/test refers", server: "ns1.nic.test.", qname: "www.acme.test.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR",
				Ns:    rrs(t, "acme.test. 86400 IN NS ns1.acme.test.", "acme.test. 86400 IN NS ns2.acme.test."),
				Extra: rrs(t, "ns1.acme.test. 86400 IN A 127.10.3.1", "ns2.acme.test. 86400 IN A 127.10.3.2")}},
		{name: "bulk/answer", server: "ns2.acme.test.", qname: "www.acme.test.", qtype: dns.TypeA,
			want: view{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.acme.test. 3600 IN A 198.18.1.10")}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s := lab.Server(st.server)
			if s == nil {
				t.Fatalf("no server %s", st.server)
			}
			q := new(dns.Msg)
			q.SetQuestion(st.qname, st.qtype)
			q.RecursionDesired = false
			if st.edns != 0 {
				q.SetEdns0(st.edns, false)
			}
			network := st.network
			if network == "" {
				network = "udp"
			}
			c := &dns.Client{Net: network, Timeout: exchangeTimeout}
			if st.dead {
				c.Timeout = deadTimeout
			}
			r, _, err := c.Exchange(q, s.AddrPort().String())
			if st.dead {
				if err == nil {
					t.Fatalf("dead server replied: %v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := viewOf(r)
			if r.Truncated {
				got.Answer = nil // how much fits is the server's business
			}
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("%s %s at %s (-want +got):\n%s", st.qname, dns.TypeToString[st.qtype], st.server, diff)
			}
		})
	}

	t.Run("tcp/tcp has it all", func(t *testing.T) {
		q := new(dns.Msg)
		q.SetQuestion("big.example.org.", dns.TypeTXT)
		c := &dns.Client{Net: "tcp", Timeout: exchangeTimeout}
		r, _, err := c.Exchange(q, lab.Server("ns1.example.org.").AddrPort().String())
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) != bigTXT || r.Truncated || r.Len() <= 1232 {
			t.Errorf("TCP reply: %d records (want %d), TC=%v, %d octets (want > 1232)", len(r.Answer), bigTXT, r.Truncated, r.Len())
		}
	})
}

func TestExamplesList(t *testing.T) {
	ex := Examples()
	if ex[0].Name != DefaultName || ex[0].Type != dns.TypeA {
		t.Errorf("first example %v, want the default name", ex[0])
	}
	seen := map[string]bool{}
	for _, e := range ex {
		if seen[e.ID] {
			t.Errorf("duplicate example ID %q", e.ID)
		}
		seen[e.ID] = true
		if !dns.IsFqdn(e.Name) || e.What == "" || strings.Contains(e.What, "\n") {
			t.Errorf("example %q: name %q, description %q", e.ID, e.Name, e.What)
		}
	}
	for _, id := range []string{"delegation", "glueless", "cname", "cname-chain", "dname", "nxdomain", "nodata",
		"dead-server", "lame-refused", "lame-upward", "tcp", "mx", "aaaa", "srv", "ptr", "bulk"} {
		if !seen[id] {
			t.Errorf("example %q missing", id)
		}
	}
}
