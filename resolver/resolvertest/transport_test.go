package resolvertest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestTransport(t *testing.T) {
	lab := newFixture(t)
	tests := []struct {
		name    string
		network string
		edns    uint16 // 0: no OPT
		qname   string
		qtype   uint16
		wantTC  bool
		wantAns int
		wantOPT bool
	}{
		{name: "small udp no edns", network: "udp", qname: "www.example.org.", qtype: dns.TypeA, wantAns: 1},
		{name: "big udp no edns truncates", network: "udp", qname: "big.example.org.", qtype: dns.TypeTXT, wantTC: true, wantAns: 1},
		{name: "big udp small edns truncates", network: "udp", edns: 600, qname: "big.example.org.", qtype: dns.TypeTXT, wantTC: true, wantAns: 2, wantOPT: true},
		{name: "big udp large edns fits", network: "udp", edns: 1232, qname: "big.example.org.", qtype: dns.TypeTXT, wantAns: 3, wantOPT: true},
		{name: "big tcp no edns fits", network: "tcp", qname: "big.example.org.", qtype: dns.TypeTXT, wantAns: 3},
		{name: "edns echoed", network: "tcp", edns: 4096, qname: "www.example.org.", qtype: dns.TypeA, wantAns: 1, wantOPT: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := query(tt.qname, tt.qtype)
			if tt.edns != 0 {
				q.SetEdns0(tt.edns, true)
			}
			r := exchange(t, lab, "ns1.example.org.", tt.network, q)
			type got struct {
				TC      bool
				Answers int
				OPT     bool
			}
			want := got{tt.wantTC, tt.wantAns, tt.wantOPT}
			g := got{r.Truncated, len(r.Answer), r.IsEdns0() != nil}
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if opt := r.IsEdns0(); opt != nil && !opt.Do() {
				t.Error("DO bit not echoed")
			}
		})
	}
}

func TestBadVersion(t *testing.T) {
	lab := newFixture(t)
	q := query("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().SetVersion(1)
	r := exchange(t, lab, "ns1.example.org.", "udp", q)
	if r.Rcode != dns.RcodeBadVers || len(r.Answer) != 0 {
		t.Errorf("rcode %s with %d answers, want BADVERS and none", dns.RcodeToString[r.Rcode], len(r.Answer))
	}
}
