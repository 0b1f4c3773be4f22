package cache

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestCopyRRs(t *testing.T) {
	tests := []struct {
		name string
		in   []dns.RR
	}{
		{"one A", rrs(t, "a.example.org. 300 IN A 192.0.2.1")},
		{"A set", rrs(t, "a.example.org. 300 IN A 192.0.2.1", "a.example.org. 300 IN A 192.0.2.2")},
		{"AAAA set", rrs(t, "a.example.org. 300 IN AAAA 2001:db8::1", "a.example.org. 300 IN AAAA 2001:db8::2")},
		{"A without address", []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET}}}},
		{"A then AAAA falls back", rrs(t, "a.example.org. 300 IN A 192.0.2.1", "a.example.org. 300 IN AAAA 2001:db8::1")},
		{"NS set", rrs(t, "example.org. 300 IN NS ns1.example.org.", "example.org. 300 IN NS ns2.example.org.")},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const ttl = 42
			want := make([]string, len(tt.in))
			for i, r := range tt.in {
				c := dns.Copy(r)
				c.Header().Ttl = ttl
				want[i] = c.String()
			}
			got := copyRRs(tt.in, ttl)
			if diff := cmp.Diff(want, strs(got)); diff != "" {
				t.Fatalf("copyRRs (-want +got):\n%s", diff)
			}
			before := strs(tt.in)
			for _, r := range got {
				r.Header().Name = "changed.example."
				switch r := r.(type) {
				case *dns.A:
					if r.A != nil {
						r.A[len(r.A)-1]++
					}
				case *dns.AAAA:
					r.AAAA[len(r.AAAA)-1]++
				}
			}
			if diff := cmp.Diff(before, strs(tt.in)); diff != "" {
				t.Errorf("changing the copy changed the original (-before +after):\n%s", diff)
			}
		})
	}
}

// TestConcurrentUse runs every operation from several goroutines on shared
// keys, for the race detector.
func TestConcurrentUse(t *testing.T) {
	const (
		goroutines = 8
		rounds     = 200
	)
	c, clk := newTestCache(t, Config{StaleMax: time.Hour, MaxBytes: minMaxBytes})
	in, _ := newTestInfra(t, InfraConfig{MaxEntries: 16}, 0)
	set := RRset{RRs: rrs(t, "a.example.org. 60 IN A 192.0.2.1", "a.example.org. 60 IN A 192.0.2.2"), Rank: RankAnswerAuth}
	neg := Negative{Kind: NXDomain, SOA: soa(t, 60, 60), Rank: RankAnswerAuth}
	addrs := []netip.Addr{srvA, srvB, srvC}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				if _, err := c.Insert(set); err != nil {
					t.Error(err)
					return
				}
				if h, ok := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{AllowStale: true}); ok {
					h.RRs[0].Header().Ttl = 0 // callers own what they get
				}
				c.InsertNegative("nx.example.org.", dns.TypeA, dns.ClassINET, neg)
				c.LookupNegative("nx.example.org.", dns.TypeAAAA, dns.ClassINET, LookupOpts{})
				c.MarkFailed("f.example.org.", dns.TypeA, dns.ClassINET, nil)
				c.Failed("f.example.org.", dns.TypeA, dns.ClassINET)
				if i%50 == 0 {
					clk.Advance(time.Second)
					c.Stats()
				}
				a := addrs[(g+i)%len(addrs)]
				switch i % 3 {
				case 0:
					in.RecordRTT(a, "example.org.", time.Duration(i)*time.Millisecond)
				case 1:
					in.RecordTimeout(a, "example.org.")
				default:
					in.MarkLame(a, "other.example.")
				}
				if _, err := in.Select("example.org.", addrs); err != nil {
					t.Error(err)
				}
				in.Snapshot()
			}
		})
	}
	wg.Wait()
}
