package resolver

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("NewRR(%q): %v", s, err)
	}
	return rr
}

func rrs(t *testing.T, ss ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, s := range ss {
		out = append(out, mustRR(t, s))
	}
	return out
}

func TestClassify(t *testing.T) {
	type msg struct {
		rcode           int
		aa              bool
		answer, ns, ext []string
	}
	tests := []struct {
		name       string
		zone       string
		qname      string
		qtype      uint16
		permissive bool
		in         msg
		wantKind   replyKind
		wantAnswer []string // RR strings
		wantTarget string
		wantZone   string
		wantGlue   int
		wantIgn    int
	}{
		{
			name: "authoritative answer", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			in:       msg{aa: true, answer: []string{"www.example.org. 300 IN A 192.0.2.1"}},
			wantKind: kindAnswer, wantAnswer: []string{"www.example.org.\t300\tIN\tA\t192.0.2.1"},
		},
		{
			name: "unrelated answer records are dropped", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			in: msg{aa: true, answer: []string{
				"www.example.org. 300 IN A 192.0.2.1",
				"victim.example.com. 300 IN A 203.0.113.66",
				"other.example.org. 300 IN A 192.0.2.2",
			}},
			wantKind: kindAnswer, wantAnswer: []string{"www.example.org.\t300\tIN\tA\t192.0.2.1"},
		},
		{
			name: "answer for a name outside the zone is not used", zone: "example.org.", qname: "www.example.com.", qtype: dns.TypeA,
			in:       msg{aa: true, answer: []string{"www.example.com. 300 IN A 203.0.113.66"}},
			wantKind: kindNoData,
		},
		{
			name: "cname leaving the zone", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			in: msg{aa: true, answer: []string{
				"www.example.org. 300 IN CNAME web.example.net.",
				"web.example.net. 300 IN A 203.0.113.66", // out of bailiwick: ignored
			}},
			wantKind: kindCNAME, wantTarget: "web.example.net.",
			wantAnswer: []string{"www.example.org.\t300\tIN\tCNAME\tweb.example.net."},
		},
		{
			name: "cname chain inside the zone", zone: "example.org.", qname: "a.example.org.", qtype: dns.TypeA,
			in: msg{aa: true, answer: []string{
				"a.example.org. 300 IN CNAME b.example.org.",
				"b.example.org. 300 IN A 192.0.2.7",
			}},
			wantKind: kindAnswer,
			wantAnswer: []string{"a.example.org.\t300\tIN\tCNAME\tb.example.org.",
				"b.example.org.\t300\tIN\tA\t192.0.2.7"},
		},
		{
			name: "cname then nxdomain inside the zone", zone: "example.org.", qname: "a.example.org.", qtype: dns.TypeA,
			in: msg{rcode: dns.RcodeNameError, aa: true,
				answer: []string{"a.example.org. 300 IN CNAME gone.example.org."},
				ns:     []string{"example.org. 300 IN SOA ns.example.org. h.example.org. 1 2 3 4 60"}},
			wantKind:   kindNXDomain,
			wantAnswer: []string{"a.example.org.\t300\tIN\tCNAME\tgone.example.org."}, wantTarget: "gone.example.org.",
		},
		{
			name: "dname synthesises the cname locally", zone: "example.org.", qname: "x.old.example.org.", qtype: dns.TypeA,
			in: msg{aa: true, answer: []string{
				"old.example.org. 300 IN DNAME new.example.net.",
				"x.old.example.org. 300 IN CNAME evil.example.com.", // the server's own CNAME is not trusted
			}},
			wantKind: kindCNAME, wantTarget: "x.new.example.net.",
			wantAnswer: []string{"old.example.org.\t300\tIN\tDNAME\tnew.example.net.",
				"x.old.example.org.\t300\tIN\tCNAME\tx.new.example.net."},
		},
		{
			name: "nxdomain", zone: "example.org.", qname: "nope.example.org.", qtype: dns.TypeA,
			in: msg{rcode: dns.RcodeNameError, aa: true,
				ns: []string{"example.org. 300 IN SOA ns.example.org. h.example.org. 1 2 3 4 60"}},
			wantKind: kindNXDomain,
		},
		{
			name: "nodata", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeMX,
			in: msg{aa: true,
				ns: []string{"example.org. 300 IN SOA ns.example.org. h.example.org. 1 2 3 4 60"}},
			wantKind: kindNoData,
		},
		{
			name: "referral with in-bailiwick and out-of-bailiwick glue", zone: "org.", qname: "www.example.org.", qtype: dns.TypeA,
			in: msg{
				ns: []string{"example.org. 86400 IN NS ns1.example.org.", "example.org. 86400 IN NS ns.example.com."},
				ext: []string{"ns1.example.org. 86400 IN A 127.0.0.1", "ns.example.com. 86400 IN A 127.6.6.6",
					"unrelated.org. 86400 IN A 127.9.9.9"}},
			wantKind: kindReferral, wantZone: "example.org.", wantGlue: 1, wantIgn: 1,
		},
		{
			name: "permissive glue accepts out-of-bailiwick", zone: "org.", qname: "www.example.org.", qtype: dns.TypeA, permissive: true,
			in: msg{
				ns:  []string{"example.org. 86400 IN NS ns1.example.org.", "example.org. 86400 IN NS ns.example.com."},
				ext: []string{"ns1.example.org. 86400 IN A 127.0.0.1", "ns.example.com. 86400 IN A 127.6.6.6"}},
			wantKind: kindReferral, wantZone: "example.org.", wantGlue: 2,
		},
		{
			name: "upward referral is lame", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			in:       msg{ns: []string{". 86400 IN NS a.root-servers.net."}},
			wantKind: kindLame,
		},
		{
			name: "referral to itself without AA is lame", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			in:       msg{ns: []string{"example.org. 86400 IN NS ns1.example.org."}},
			wantKind: kindLame,
		},
		{
			name: "sideways referral is lame", zone: "org.", qname: "www.example.org.", qtype: dns.TypeA,
			in:       msg{ns: []string{"other.org. 86400 IN NS ns1.other.org."}},
			wantKind: kindLame,
		},
		{
			name: "non-authoritative empty answer is lame", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			in:       msg{},
			wantKind: kindLame,
		},
		{
			name: "refused", zone: "example.org.", qname: "www.example.org.", qtype: dns.TypeA,
			in:       msg{rcode: dns.RcodeRefused},
			wantKind: kindServFail,
		},
		{
			name: "cname loop inside one reply", zone: "example.org.", qname: "a.example.org.", qtype: dns.TypeA,
			in: msg{aa: true, answer: []string{
				"a.example.org. 300 IN CNAME b.example.org.",
				"b.example.org. 300 IN CNAME a.example.org.",
			}},
			wantKind: kindCNAME, wantTarget: "a.example.org.",
			wantAnswer: []string{"a.example.org.\t300\tIN\tCNAME\tb.example.org.", "b.example.org.\t300\tIN\tCNAME\ta.example.org."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(tt.qname, tt.qtype)
			m.Response, m.Authoritative, m.Rcode = true, tt.in.aa, tt.in.rcode
			m.Answer, m.Ns, m.Extra = rrs(t, tt.in.answer...), rrs(t, tt.in.ns...), rrs(t, tt.in.ext...)
			c := classifier{zone: tt.zone, qname: tt.qname, qtype: tt.qtype, qclass: dns.ClassINET, permissive: tt.permissive}
			got := c.classify(m)
			if got.kind != tt.wantKind {
				t.Fatalf("kind = %v (%s), want %v", got.kind, got.reason, tt.wantKind)
			}
			var ans []string
			for _, rr := range got.answer {
				ans = append(ans, rr.String())
			}
			if diff := cmp.Diff(tt.wantAnswer, ans); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if got.target != tt.wantTarget && tt.wantTarget != "" {
				t.Errorf("target = %q, want %q", got.target, tt.wantTarget)
			}
			if got.zone != tt.wantZone || len(got.glue) != tt.wantGlue || len(got.ignoredGlue) != tt.wantIgn {
				t.Errorf("referral zone %q glue %d ignored %d, want %q %d %d", got.zone, len(got.glue), len(got.ignoredGlue),
					tt.wantZone, tt.wantGlue, tt.wantIgn)
			}
		})
	}
}
