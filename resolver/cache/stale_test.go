package cache

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestServeStale(t *testing.T) {
	type lookup struct {
		at         time.Duration // since insertion
		allowStale bool
		wantHit    bool
		wantStale  bool
		wantTTL    uint32
	}
	tests := []struct {
		name     string
		staleMax time.Duration
		lookups  []lookup
	}{
		{"off by default", 0, []lookup{
			{at: 59 * time.Second, allowStale: true, wantHit: true, wantTTL: 1},
			{at: 60 * time.Second, allowStale: true},
		}},
		{"within the window", time.Hour, []lookup{
			{at: 59 * time.Second, allowStale: true, wantHit: true, wantTTL: 1},
			{at: 61 * time.Second},
			{at: 61 * time.Second, allowStale: true, wantHit: true, wantStale: true, wantTTL: StaleTTL},
			{at: time.Hour + 59*time.Second, allowStale: true, wantHit: true, wantStale: true, wantTTL: StaleTTL},
			{at: time.Hour + 60*time.Second, allowStale: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache(t, Config{StaleMax: tt.staleMax})
			start := clk.Now()
			mustInsert(t, c, RRset{RRs: rrs(t, "a.example.org. 60 IN A 192.0.2.1"), Rank: RankAnswerAuth})
			if _, err := c.InsertNegative("nx.example.org.", dns.TypeA, dns.ClassINET,
				Negative{Kind: NXDomain, SOA: soa(t, 60, 60), Rank: RankAnswerAuth}); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.lookups {
				clk.Advance(start.Add(l.at).Sub(clk.Now()))
				opts := LookupOpts{AllowStale: l.allowStale}
				h, ok := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, opts)
				if ok != l.wantHit || h.Stale != l.wantStale || h.TTL != l.wantTTL {
					t.Errorf("at %v %+v: Lookup = (stale %v, TTL %d), %v; want (stale %v, TTL %d), %v",
						l.at, opts, h.Stale, h.TTL, ok, l.wantStale, l.wantTTL, l.wantHit)
				}
				if ok && h.RRs[0].Header().Ttl != l.wantTTL {
					t.Errorf("at %v: RR TTL = %d, want %d", l.at, h.RRs[0].Header().Ttl, l.wantTTL)
				}
				n, ok := c.LookupNegative("nx.example.org.", dns.TypeA, dns.ClassINET, opts)
				if ok != l.wantHit || n.Stale != l.wantStale || n.TTL != l.wantTTL {
					t.Errorf("at %v %+v: LookupNegative = (stale %v, TTL %d), %v; want (stale %v, TTL %d), %v",
						l.at, opts, n.Stale, n.TTL, ok, l.wantStale, l.wantTTL, l.wantHit)
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	c, clk := newTestCache(t, Config{StaleMax: time.Hour})
	mustInsert(t, c, RRset{RRs: rrs(t, "a.example.org. 60 IN A 192.0.2.1"), Rank: RankAnswerAuth})
	c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})         // hit
	c.Lookup("b.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})         // miss
	c.LookupNegative("b.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{}) // miss
	clk.Advance(time.Minute)
	c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})                 // miss: expired
	c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{AllowStale: true}) // stale hit
	got := c.Stats()
	if got.Bytes == 0 || got.Parts[0].Bytes != got.Bytes {
		t.Errorf("Bytes = %d, rrset part %d bytes: want the same, not 0", got.Bytes, got.Parts[0].Bytes)
	}
	got.Bytes, got.Parts[0].Bytes = 0, 0
	want := Stats{Hits: 1, Misses: 3, StaleHits: 1, Entries: 1, Parts: []PartStats{
		{Part: PartRRset, Entries: 1}, {Part: PartNegative}, {Part: PartFailure}, {Part: PartNSEC},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestPrefetchHint(t *testing.T) {
	tests := []struct {
		name      string
		minHits   uint32
		earlyHits int           // hits before the last tenth
		at        time.Duration // when the checked hits happen
		wantHints []bool        // one per hit at `at`
	}{
		{"hinted once when hit enough", 2, 1, 91 * time.Second, []bool{true, false, false}},
		{"hit count includes this hit", 3, 1, 91 * time.Second, []bool{false, true, false}},
		{"not before the last tenth", 1, 5, 89 * time.Second, []bool{false, false}},
		{"exactly the last tenth", 1, 0, 90 * time.Second, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache(t, Config{PrefetchMinHits: tt.minHits})
			mustInsert(t, c, RRset{RRs: rrs(t, "a.example.org. 100 IN A 192.0.2.1"), Rank: RankAnswerAuth})
			for range tt.earlyHits {
				if h, _ := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{}); h.Prefetch {
					t.Errorf("early hit suggested prefetch")
				}
			}
			clk.Advance(tt.at)
			var got []bool
			for range tt.wantHints {
				h, ok := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
				if !ok {
					t.Fatal("Lookup missed")
				}
				got = append(got, h.Prefetch)
			}
			if diff := cmp.Diff(tt.wantHints, got); diff != "" {
				t.Errorf("Prefetch hints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrefetchHintAfterRefresh(t *testing.T) {
	c, clk := newTestCache(t, Config{PrefetchMinHits: 1})
	set := RRset{RRs: rrs(t, "a.example.org. 100 IN A 192.0.2.1"), Rank: RankAnswerAuth}
	mustInsert(t, c, set)
	clk.Advance(95 * time.Second)
	if h, _ := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{}); !h.Prefetch {
		t.Fatal("no prefetch hint in the last tenth")
	}
	mustInsert(t, c, set) // the caller's refresh
	clk.Advance(95 * time.Second)
	if h, _ := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{}); !h.Prefetch {
		t.Error("no prefetch hint for the refreshed entry")
	}
}
