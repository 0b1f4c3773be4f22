package cache

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// nsecProof returns a signed SOA and the NSEC record owner -> next of zone,
// with its RRSIG, as a validated negative answer carries them.
func nsecProof(t testing.TB, zone, owner, next string, soaTTL, nsecTTL uint32) (*dns.SOA, []dns.RR) {
	t.Helper()
	soa := rr(t, fmt.Sprintf("%s %d IN SOA ns.%s host.%s 1 7200 3600 1209600 %d", zone, soaTTL, zone, zone, soaTTL)).(*dns.SOA)
	proof := rrs(t,
		fmt.Sprintf("%s %d IN RRSIG SOA 13 2 %d 20300101000000 20200101000000 1 %s c2ln", zone, soaTTL, soaTTL, zone),
		fmt.Sprintf("%s %d IN NSEC %s A RRSIG NSEC", owner, nsecTTL, next),
		fmt.Sprintf("%s %d IN RRSIG NSEC 13 3 %d 20300101000000 20200101000000 1 %s c2ln", owner, nsecTTL, nsecTTL, zone),
	)
	return soa, proof
}

func TestNSECLearnAndProve(t *testing.T) {
	c, clk := newTestCache(t, Config{})
	soa, proof := nsecProof(t, "example.org.", "a.example.org.", "c.example.org.", 300, 3600)
	c.LearnNSEC("Example.ORG", soa, proof)
	clk.Advance(100 * time.Second)

	v, ok := c.NSECZone("example.org.")
	if !ok {
		t.Fatal("NSECZone: nothing held")
	}
	if v.SOA == nil || v.SOA.Hdr.Ttl != 200 {
		t.Fatalf("SOA = %v, want TTL 200 (300 learnt, 100 s ago)", v.SOA)
	}
	if len(v.NSEC) != 1 || len(v.NSEC3) != 0 {
		t.Fatalf("view holds %d NSEC, %d NSEC3; want 1, 0", len(v.NSEC), len(v.NSEC3))
	}
	// RFC 8198 §5.4: the NSEC's TTL is capped by the SOA negative TTL.
	got := strs(v.Proof([]dns.RR{v.NSEC[0]}))
	want := []string{
		"a.example.org.\t200\tIN\tNSEC\tc.example.org. A RRSIG NSEC",
		"a.example.org.\t200\tIN\tRRSIG\tNSEC 13 3 3600 20300101000000 20200101000000 1 example.org. c2ln",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Proof (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.org.\t200\tIN\tRRSIG\tSOA 13 2 300 20300101000000 20200101000000 1 example.org. c2ln"}, strs(v.SOASigs)); diff != "" {
		t.Errorf("SOASigs (-want +got):\n%s", diff)
	}
	// Copies: changing what was handed out changes nothing held.
	v.SOA.Hdr.Ttl = 1
	if v2, _ := c.NSECZone("example.org."); v2.SOA.Hdr.Ttl != 200 {
		t.Errorf("SOA TTL changed through a returned copy: %d", v2.SOA.Hdr.Ttl)
	}
	if z, ok := c.DeepestNSECZone("x.b.example.org."); !ok || z != "example.org." {
		t.Errorf("DeepestNSECZone = %q, %v; want example.org., true", z, ok)
	}
	if _, ok := c.DeepestNSECZone("example.net."); ok {
		t.Error("DeepestNSECZone(example.net.) found a zone")
	}
}

func TestNSECTTLExpiry(t *testing.T) {
	type probe struct {
		at        time.Duration
		wantZone  bool
		wantSOA   bool
		wantNSECs int
	}
	tests := []struct {
		name    string
		soaTTL  uint32
		nsecTTL uint32
		probes  []probe
	}{
		{
			name: "nsec shorter than soa", soaTTL: 600, nsecTTL: 60,
			probes: []probe{
				{at: 59 * time.Second, wantZone: true, wantSOA: true, wantNSECs: 1},
				{at: 60 * time.Second, wantZone: true, wantSOA: true, wantNSECs: 0},
				{at: 600 * time.Second, wantZone: false},
			},
		},
		{
			name: "soa negative ttl caps nsec", soaTTL: 60, nsecTTL: 3600,
			probes: []probe{
				{at: 59 * time.Second, wantZone: true, wantSOA: true, wantNSECs: 1},
				{at: 60 * time.Second, wantZone: false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache(t, Config{})
			start := clk.Now()
			soa, proof := nsecProof(t, "example.org.", "a.example.org.", "c.example.org.", tt.soaTTL, tt.nsecTTL)
			c.LearnNSEC("example.org.", soa, proof)
			for _, p := range tt.probes {
				clk.Advance(start.Add(p.at).Sub(clk.Now()))
				v, ok := c.NSECZone("example.org.")
				if ok != p.wantZone || (v.SOA != nil) != p.wantSOA || len(v.NSEC) != p.wantNSECs {
					t.Errorf("at %v: zone %v, SOA %v, %d NSEC; want %v, %v, %d", p.at, ok, v.SOA != nil, len(v.NSEC), p.wantZone, p.wantSOA, p.wantNSECs)
				}
			}
			// Learning into the zone again prunes the expired records
			// from the count as well.
			c.LearnNSEC("example.org.", nil, nil)
			if got := nsecPart(c).Entries; got != 0 {
				t.Errorf("after every record expired: nsec entries = %d, want 0", got)
			}
		})
	}
}

// nsecPart returns the Stats part of the NSEC store.
func nsecPart(c *Cache) PartStats {
	for _, p := range c.Stats().Parts {
		if p.Part == PartNSEC {
			return p
		}
	}
	return PartStats{}
}

func TestNSECBudgetRespected(t *testing.T) {
	// zones is enough to overflow a 64 KiB budget many times over: each
	// zone weighs about 1 KB.
	const zones = 2000
	c, _ := newTestCache(t, Config{NSECBytes: minMaxBytes})
	for i := range zones {
		zone := fmt.Sprintf("z%d.example.", i)
		soa, proof := nsecProof(t, zone, "a."+zone, "c."+zone, 3600, 3600)
		c.LearnNSEC(zone, soa, proof)
	}
	c.nsec.store.CleanUp()
	p := nsecPart(c)
	if p.Bytes > minMaxBytes {
		t.Errorf("nsec bytes = %d, above the %d budget", p.Bytes, minMaxBytes)
	}
	if p.Evictions == 0 || p.Entries == 0 || p.Entries >= zones {
		t.Errorf("nsec part %+v: want evictions and between 1 and %d records", p, zones)
	}
	held := 0
	for _, z := range c.nsec.store.All() {
		held += len(z.recs)
	}
	if held != p.Entries {
		t.Errorf("records counted %d, held %d", p.Entries, held)
	}
}

func TestNSECPerZoneCap(t *testing.T) {
	c, _ := newTestCache(t, Config{NSECBytes: 64 << 20})
	soa, _ := nsecProof(t, "example.org.", "a.example.org.", "b.example.org.", 3600, 3600)
	// One more than the cap, in batches as answers bring them.
	for i := range maxNSECPerZone + 1 {
		_, proof := nsecProof(t, "example.org.", fmt.Sprintf("n%05d.example.org.", i), fmt.Sprintf("n%05d-.example.org.", i), 3600, 3600)
		c.LearnNSEC("example.org.", soa, proof)
	}
	v, _ := c.NSECZone("example.org.")
	if len(v.NSEC) != maxNSECPerZone || nsecPart(c).Entries != maxNSECPerZone {
		t.Errorf("held %d NSEC (%d counted), want the cap %d", len(v.NSEC), nsecPart(c).Entries, maxNSECPerZone)
	}
}

func TestNSECEvictionOrder(t *testing.T) {
	// A zone in use survives a flood of zones seen once (a walk of many
	// signed zones, or random names under many of them): otter admits a
	// newcomer in place of an entry only if it was asked for more often
	// (W-TinyLFU), so the flood evicts itself, not the zone in use.
	const flood = 3000 // about 50 times what the 64 KiB budget holds
	c, _ := newTestCache(t, Config{NSECBytes: minMaxBytes})
	soa, proof := nsecProof(t, "hot.example.", "a.hot.example.", "c.hot.example.", 3600, 3600)
	c.LearnNSEC("hot.example.", soa, proof)
	for i := range flood {
		if _, ok := c.NSECZone("hot.example."); !ok {
			t.Fatalf("the zone in use was evicted after %d new zones", i)
		}
		zone := fmt.Sprintf("cold%d.example.", i)
		soa, proof := nsecProof(t, zone, "a."+zone, "c."+zone, 3600, 3600)
		c.LearnNSEC(zone, soa, proof)
	}
	if p := nsecPart(c); p.Evictions == 0 {
		t.Errorf("no evictions: %+v", p)
	}
	// The oldest of the flood went first: the first cold zone is gone.
	if _, ok := c.NSECZone("cold0.example."); ok {
		t.Error("cold0.example. is still held after the flood")
	}
}

func TestNSECFlush(t *testing.T) {
	tests := []struct {
		name string
		sel  Selector
		want []string // zones left
	}{
		{"everything", Selector{}, nil},
		{"negative", Selector{Negative: true}, nil},
		{"a name inside a zone takes the zone", Selector{Name: "x.a.example."}, []string{"b.example."}},
		{"below a parent", Selector{Name: "example.", Below: true}, nil},
		{"a type keeps them", Selector{Type: dns.TypeA}, []string{"a.example.", "b.example."}},
		{"bogus keeps them", Selector{Bogus: true}, []string{"a.example.", "b.example."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			for _, zone := range []string{"a.example.", "b.example."} {
				soa, proof := nsecProof(t, zone, "a."+zone, "c."+zone, 3600, 3600)
				c.LearnNSEC(zone, soa, proof)
			}
			c.Flush(tt.sel)
			var got []string
			for _, zone := range []string{"a.example.", "b.example."} {
				if _, ok := c.NSECZone(zone); ok {
					got = append(got, zone)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("zones left (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPartsAddUp(t *testing.T) {
	// Inserts, replacements, outranked inserts, failures and evictions:
	// the parts' bytes must add up to what otter weighs.
	const inserts = 3000 // about 1 MB against a 256 KiB budget
	c, clk := newTestCache(t, Config{MaxBytes: 256 << 10})
	for i := range inserts {
		mustInsert(t, c, aSet(i%1000))
		if i%3 == 0 {
			if _, err := c.InsertNegative(fmt.Sprintf("nx%d.example.org.", i), dns.TypeA, dns.ClassINET,
				Negative{Kind: NXDomain, Rank: RankAnswerAuth, SOA: rr(t, "example.org. 300 IN SOA ns.example.org. host.example.org. 1 7200 3600 1209600 300").(*dns.SOA)}); err != nil {
				t.Fatal(err)
			}
		}
		if i%7 == 0 {
			if err := c.MarkFailed(fmt.Sprintf("f%d.example.org.", i), dns.TypeA, dns.ClassINET, errors.New("timeout")); err != nil {
				t.Fatal(err)
			}
		}
		if i%500 == 0 {
			clk.Advance(10 * time.Second) // let failures expire
		}
	}
	c.store.CleanUp()
	st := c.Stats()
	var bytes uint64
	entries := 0
	for _, p := range st.Parts[:3] {
		bytes += p.Bytes
		entries += p.Entries
		if p.Entries == 0 {
			t.Errorf("part %s is empty", p.Part)
		}
	}
	if bytes != st.Bytes || entries != st.Entries {
		t.Errorf("parts add up to %d entries, %d bytes; otter holds %d, %d", entries, bytes, st.Entries, st.Bytes)
	}
}

// TestNSECProofRoundTrip: what the store packs (the RRSIGs over a record)
// comes back in a proof as it was learnt, but for the TTL.
func TestNSECProofRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		proof []string // the record first, then its RRSIGs
	}{
		{"NSEC, one RRSIG", []string{
			"a.example.org. 3600 IN NSEC c.example.org. A RRSIG NSEC",
			"a.example.org. 3600 IN RRSIG NSEC 13 3 3600 20300101000000 20200101000000 1 example.org. c2ln",
		}},
		{"NSEC, two algorithms", []string{
			"a.example.org. 3600 IN NSEC c.example.org. A AAAA TXT RRSIG NSEC TYPE65534",
			"a.example.org. 3600 IN RRSIG NSEC 13 3 3600 20300101000000 20200101000000 1 example.org. c2ln",
			"a.example.org. 3600 IN RRSIG NSEC 8 3 3600 20300101000000 20200101000000 2 example.org. AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",
		}},
		{"NSEC, mixed-case owner", []string{
			"A.Example.ORG. 3600 IN NSEC c.example.org. A RRSIG NSEC",
			"A.Example.ORG. 3600 IN RRSIG NSEC 13 3 3600 20300101000000 20200101000000 1 example.org. c2ln",
		}},
		{"NSEC3", []string{
			"2vptu5timamqttgl4luu9kg21e0aor3s.example.org. 3600 IN NSEC3 1 1 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3T A RRSIG",
			"2vptu5timamqttgl4luu9kg21e0aor3s.example.org. 3600 IN RRSIG NSEC3 13 3 3600 20300101000000 20200101000000 1 example.org. c2ln",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache(t, Config{})
			soa := rr(t, "example.org. 3600 IN SOA ns.example.org. host.example.org. 1 7200 3600 1209600 3600").(*dns.SOA)
			c.LearnNSEC("example.org.", soa, rrs(t, tt.proof...))
			clk.Advance(600 * time.Second)
			v, ok := c.NSECZone("example.org.")
			if !ok {
				t.Fatal("NSECZone: nothing held")
			}
			var held []dns.RR
			for _, n := range v.NSEC {
				held = append(held, n)
			}
			for _, n := range v.NSEC3 {
				held = append(held, n)
			}
			want := strs(rrs(t, tt.proof...))
			for i := range want {
				want[i] = strings.Replace(want[i], "\t3600\t", "\t3000\t", 1)
			}
			if diff := cmp.Diff(want, strs(v.Proof(held))); diff != "" {
				t.Errorf("Proof (-learnt +got):\n%s", diff)
			}
		})
	}
}
