package cache

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestSOACarrier checks that a zone's shared SOA is weighed by one live
// negative entry of the zone: once however many entries point at it,
// again by the next entry stored after its carrier went, and never after
// the zone's last entry went.
func TestSOACarrier(t *testing.T) {
	soa := func(zone string) *dns.SOA {
		return rr(t, zone+" 3600 IN SOA ns."+zone+" hostmaster."+zone+" 1 7200 3600 1209600 3600").(*dns.SOA)
	}
	// own is what an unsigned NXDOMAIN entry weighs without the SOA;
	// soaBytes the packed SOA of example.org. or example.net.
	own := func(name string) int { return entryOverhead + len(name) }
	packed, _, err := packRecords(nil, []dns.RR{soa("example.org.")}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	soaBytes := len(packed)
	nx := func(c *Cache, name, zone string, rank Rank) InsertResult {
		t.Helper()
		res, err := c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NXDomain, SOA: soa(zone), Rank: rank})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	negBytes := func(c *Cache) int {
		c.store.CleanUp()
		return int(c.Stats().Parts[1].Bytes)
	}
	name := func(i int) string { return fmt.Sprintf("h%d.example.org.", i) }
	tests := []struct {
		name string
		run  func(c *Cache) int // returns the negative part's bytes
		want func() int
	}{
		{"three entries weigh the SOA once", func(c *Cache) int {
			for i := range 3 {
				nx(c, name(i), "example.org.", RankAnswerAuth)
			}
			return negBytes(c)
		}, func() int { return own(name(0)) + own(name(1)) + own(name(2)) + soaBytes }},
		{"the carrier gone, the others do not weigh it", func(c *Cache) int {
			for i := range 3 {
				nx(c, name(i), "example.org.", RankAnswerAuth)
			}
			c.store.Invalidate(key{name: name(0), class: dns.ClassINET, kind: kindNXDomain})
			return negBytes(c)
		}, func() int { return own(name(1)) + own(name(2)) }},
		{"the next entry carries it again", func(c *Cache) int {
			for i := range 3 {
				nx(c, name(i), "example.org.", RankAnswerAuth)
			}
			c.store.Invalidate(key{name: name(0), class: dns.ClassINET, kind: kindNXDomain})
			nx(c, name(3), "example.org.", RankAnswerAuth)
			return negBytes(c)
		}, func() int { return own(name(1)) + own(name(2)) + own(name(3)) + soaBytes }},
		{"an outranked write carries nothing", func(c *Cache) int {
			nx(c, name(0), "example.org.", RankAnswerAuth)
			if res := nx(c, name(0), "example.org.", RankAdditional); res != Outranked {
				t.Fatalf("second write %v, want outranked", res)
			}
			c.store.Invalidate(key{name: name(0), class: dns.ClassINET, kind: kindNXDomain})
			nx(c, name(1), "example.org.", RankAnswerAuth)
			return negBytes(c)
		}, func() int { return own(name(1)) + soaBytes }},
		{"a replacement passes it on", func(c *Cache) int {
			nx(c, name(0), "example.org.", RankAnswerAuth)
			nx(c, name(0), "example.org.", RankAnswerAuth)
			return negBytes(c)
		}, func() int { return own(name(0)) + soaBytes }},
		{"each zone weighs its own", func(c *Cache) int {
			nx(c, name(0), "example.org.", RankAnswerAuth)
			nx(c, "h0.example.net.", "example.net.", RankAnswerAuth)
			return negBytes(c)
		}, func() int { return own(name(0)) + own("h0.example.net.") + 2*soaBytes }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			got := tt.run(c)
			if diff := cmp.Diff(tt.want(), got); diff != "" {
				t.Errorf("negative part bytes (-want +got):\n%s", diff)
			}
			c.store.InvalidateAll()
			c.store.CleanUp()
			c.soas.mu.Lock()
			left := len(c.soas.m)
			c.soas.mu.Unlock()
			if left != 0 {
				t.Errorf("%d shared SOAs still counted after every entry went", left)
			}
		})
	}
}
