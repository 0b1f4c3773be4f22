package server

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestDoHMaxAge checks the freshness lifetime DoH replies advertise
// (RFC 8484 §5.1): the smallest TTL, and for an SOA the smaller of its
// TTL and MINIMUM (RFC 2308 §5), so negative answers are not cached by
// HTTP caches longer than by resolvers.
func TestDoHMaxAge(t *testing.T) {
	rr := func(s string) dns.RR {
		t.Helper()
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	soa := func(ttl, minimum string) dns.RR {
		return rr("example.org. " + ttl + " IN SOA ns.example.org. host.example.org. 1 7200 3600 1209600 " + minimum)
	}
	tests := []struct {
		name  string
		rcode int
		ans   []dns.RR
		ns    []dns.RR
		want  uint32
	}{
		{"positive: smallest TTL", dns.RcodeSuccess,
			[]dns.RR{rr("www.example.org. 300 IN A 192.0.2.1"), rr("www.example.org. 120 IN A 192.0.2.2")}, nil, 120},
		{"positive with SOA in authority", dns.RcodeSuccess,
			[]dns.RR{rr("www.example.org. 300 IN A 192.0.2.1")}, []dns.RR{soa("3600", "60")}, 60},
		{"NXDOMAIN: SOA minimum below its TTL", dns.RcodeNameError, nil, []dns.RR{soa("3600", "300")}, 300},
		{"NXDOMAIN: SOA TTL below its minimum", dns.RcodeNameError, nil, []dns.RR{soa("30", "86400")}, 30},
		{"NODATA: SOA minimum", dns.RcodeSuccess, nil, []dns.RR{soa("900", "600")}, 600},
		{"NXDOMAIN after a CNAME", dns.RcodeNameError,
			[]dns.RR{rr("a.example.org. 500 IN CNAME b.example.org.")}, []dns.RR{soa("3600", "200")}, 200},
		{"error without records", dns.RcodeServerFailure, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("www.example.org.", dns.TypeA)
			m.Response, m.Rcode = true, tt.rcode
			m.Answer, m.Ns = tt.ans, tt.ns
			m.Compress = true       // SOA names compressed: MINIMUM is still the last four octets
			m.SetEdns0(1232, false) // the OPT record's "TTL" is flags, never a lifetime
			b, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, minReplyTTL(b)); diff != "" {
				t.Errorf("max-age (-want +got):\n%s", diff)
			}
		})
	}
}
