package cache

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// soa returns the example.org SOA with the given TTL and MINIMUM.
func soa(t testing.TB, ttl, minimum uint32) *dns.SOA {
	t.Helper()
	s := rr(t, "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 3600").(*dns.SOA)
	s.Hdr.Ttl, s.Minttl = ttl, minimum
	return s
}

func TestNegativeTTL(t *testing.T) {
	tests := []struct {
		name         string
		cfg          Config
		soaTTL, mini uint32
		want         InsertResult
		wantTTL      uint32
	}{
		{"SOA TTL smaller", Config{}, 300, 900, Stored, 300},
		{"MINIMUM smaller", Config{}, 900, 300, Stored, 300},
		{"capped by default MaxNegTTL", Config{}, 86400, 86400, Stored, 3600},
		{"capped by MaxNegTTL", Config{MaxNegTTL: time.Minute}, 900, 900, Stored, 60},
		{"MinTTL does not apply", Config{MinTTL: time.Hour}, 30, 30, Stored, 30},
		{"MINIMUM 0 not stored", Config{}, 900, 0, ZeroTTL, 0},
		{"SOA TTL 0 not stored", Config{}, 0, 900, ZeroTTL, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, tt.cfg)
			got, err := c.InsertNegative("nx.example.org.", dns.TypeA, dns.ClassINET,
				Negative{Kind: NoData, SOA: soa(t, tt.soaTTL, tt.mini), Rank: RankAnswerAuth})
			if err != nil {
				t.Fatalf("InsertNegative: %v", err)
			}
			if got != tt.want {
				t.Errorf("InsertNegative = %v, want %v", got, tt.want)
			}
			h, ok := c.LookupNegative("nx.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
			if ok != (tt.want == Stored) {
				t.Fatalf("LookupNegative hit = %v", ok)
			}
			if ok && (h.TTL != tt.wantTTL || h.SOA.Hdr.Ttl != tt.wantTTL) {
				t.Errorf("TTL = %d, SOA TTL = %d, want %d", h.TTL, h.SOA.Hdr.Ttl, tt.wantTTL)
			}
		})
	}
}

func TestNXDomainCoversAllTypes(t *testing.T) {
	c, clk := newTestCache(t, Config{})
	proof := rrs(t,
		"example.org. 300 IN RRSIG SOA 13 2 3600 20260201000000 20260101000000 12345 example.org. AAAA",
		"a.example.org. 300 IN NSEC c.example.org. A RRSIG NSEC",
	)
	if _, err := c.InsertNegative("B.example.org", dns.TypeA, dns.ClassINET,
		Negative{Kind: NXDomain, SOA: soa(t, 300, 300), Proof: proof, Rank: RankAnswerAuth, Security: SecuritySecure}); err != nil {
		t.Fatalf("InsertNegative: %v", err)
	}
	clk.Advance(100 * time.Second)
	tests := []struct {
		name  string
		qtype uint16
		class uint16
		want  bool
	}{
		{"type asked", dns.TypeA, dns.ClassINET, true},
		{"AAAA", dns.TypeAAAA, dns.ClassINET, true},
		{"MX", dns.TypeMX, dns.ClassINET, true},
		{"other class", dns.TypeA, dns.ClassCHAOS, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := c.LookupNegative("b.example.org.", tt.qtype, tt.class, LookupOpts{})
			if ok != tt.want {
				t.Fatalf("LookupNegative hit = %v, want %v", ok, tt.want)
			}
			if !ok {
				return
			}
			want := NegativeHit{Kind: NXDomain, Rank: RankAnswerAuth, Security: SecuritySecure, TTL: 200}
			got := h
			got.SOA, got.Proof = nil, nil
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("hit (-want +got):\n%s", diff)
			}
			wantSOA := soa(t, 200, 300)
			wantProof := rrs(t,
				"example.org. 200 IN RRSIG SOA 13 2 3600 20260201000000 20260101000000 12345 example.org. AAAA",
				"a.example.org. 200 IN NSEC c.example.org. A RRSIG NSEC",
			)
			if diff := cmp.Diff(strs(append([]dns.RR{wantSOA}, wantProof...)), strs(append([]dns.RR{h.SOA}, h.Proof...))); diff != "" {
				t.Errorf("authority (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoDataPerType(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	if _, err := c.InsertNegative("a.example.org.", dns.TypeAAAA, dns.ClassINET,
		Negative{Kind: NoData, SOA: soa(t, 300, 300), Rank: RankAnswerAuth}); err != nil {
		t.Fatalf("InsertNegative: %v", err)
	}
	tests := []struct {
		name  string
		qtype uint16
		want  bool
	}{
		{"type asked", dns.TypeAAAA, true},
		{"other type", dns.TypeA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := c.LookupNegative("a.example.org.", tt.qtype, dns.ClassINET, LookupOpts{})
			if ok != tt.want {
				t.Fatalf("LookupNegative hit = %v, want %v", ok, tt.want)
			}
			if ok && h.Kind != NoData {
				t.Errorf("Kind = %v, want %v", h.Kind, NoData)
			}
		})
	}
}

func TestNegativeAndPositive(t *testing.T) {
	const name = "a.example.org."
	tests := []struct {
		name     string
		steps    func(t *testing.T, c *Cache, clk *fakeClock)
		wantPos  bool
		wantNeg  bool
		wantKind NegativeKind
	}{
		{"authoritative answer removes NODATA", func(t *testing.T, c *Cache, clk *fakeClock) {
			c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NoData, SOA: soa(t, 300, 300), Rank: RankAnswerAuth})
			mustInsert(t, c, RRset{RRs: rrs(t, name+" 300 IN A 192.0.2.1"), Rank: RankAnswerAuth})
		}, true, false, 0},
		{"authoritative answer removes NXDOMAIN", func(t *testing.T, c *Cache, clk *fakeClock) {
			c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NXDomain, SOA: soa(t, 300, 300), Rank: RankAnswerAuth})
			mustInsert(t, c, RRset{RRs: rrs(t, name+" 300 IN A 192.0.2.1"), Rank: RankAnswerAuth})
		}, true, false, 0},
		{"glue does not remove NXDOMAIN", func(t *testing.T, c *Cache, clk *fakeClock) {
			c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NXDomain, SOA: soa(t, 300, 300), Rank: RankAnswerAuth})
			mustInsert(t, c, RRset{RRs: rrs(t, name+" 300 IN A 192.0.2.1"), Rank: RankAdditional})
		}, true, true, NXDomain},
		{"NODATA removes the RRset", func(t *testing.T, c *Cache, clk *fakeClock) {
			mustInsert(t, c, RRset{RRs: rrs(t, name+" 300 IN A 192.0.2.1"), Rank: RankAnswerAuth})
			c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NoData, SOA: soa(t, 300, 300), Rank: RankAnswerAuth})
		}, false, true, NoData},
		{"NODATA does not remove a secure RRset", func(t *testing.T, c *Cache, clk *fakeClock) {
			mustInsert(t, c, RRset{RRs: rrs(t, name+" 300 IN A 192.0.2.1"), Rank: RankSecure})
			c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NoData, SOA: soa(t, 300, 300), Rank: RankAnswerAuth})
		}, true, true, NoData},
		{"newer NXDOMAIN wins over older NODATA", func(t *testing.T, c *Cache, clk *fakeClock) {
			c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NoData, SOA: soa(t, 300, 300), Rank: RankAnswerAuth})
			clk.Advance(time.Second)
			c.InsertNegative(name, dns.TypeMX, dns.ClassINET, Negative{Kind: NXDomain, SOA: soa(t, 300, 300), Rank: RankAnswerAuth})
		}, false, true, NXDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache(t, Config{})
			tt.steps(t, c, clk)
			if _, ok := c.Lookup(name, dns.TypeA, dns.ClassINET, LookupOpts{}); ok != tt.wantPos {
				t.Errorf("Lookup hit = %v, want %v", ok, tt.wantPos)
			}
			h, ok := c.LookupNegative(name, dns.TypeA, dns.ClassINET, LookupOpts{})
			if ok != tt.wantNeg {
				t.Fatalf("LookupNegative hit = %v, want %v", ok, tt.wantNeg)
			}
			if ok && h.Kind != tt.wantKind {
				t.Errorf("Kind = %v, want %v", h.Kind, tt.wantKind)
			}
		})
	}
}

func TestInsertNegativeInvalid(t *testing.T) {
	tests := []struct {
		name  string
		qname string
		neg   Negative
	}{
		{"no kind", "a.example.org.", Negative{SOA: &dns.SOA{}, Rank: RankAnswerAuth}},
		{"no SOA", "a.example.org.", Negative{Kind: NXDomain, Rank: RankAnswerAuth}},
		{"no rank", "a.example.org.", Negative{Kind: NXDomain, SOA: &dns.SOA{}}},
		{"no name", "", Negative{Kind: NXDomain, SOA: &dns.SOA{}, Rank: RankAnswerAuth}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			if _, err := c.InsertNegative(tt.qname, dns.TypeA, dns.ClassINET, tt.neg); !errors.Is(err, ErrInvalid) {
				t.Errorf("InsertNegative error = %v, want ErrInvalid", err)
			}
		})
	}
}
