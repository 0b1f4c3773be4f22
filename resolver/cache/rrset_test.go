package cache

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestInsertRank(t *testing.T) {
	const (
		authNS     = "example.org. 3600 IN NS ns1.example.org."
		referralNS = "example.org. 3600 IN NS ns.attacker.example."
		authA      = "ns1.example.org. 3600 IN A 192.0.2.1"
		glueA      = "ns1.example.org. 3600 IN A 192.0.2.99"
	)
	tests := []struct {
		name      string
		first     string
		firstRank Rank
		age       time.Duration // between the two insertions
		second    string
		rank      Rank
		want      InsertResult
		wantRR    string
	}{
		{"referral NS cannot replace authoritative NS", authNS, RankAnswerAuth, 0, referralNS, RankAuthorityNonAuth, Outranked, authNS},
		{"glue cannot replace authoritative A", authA, RankAnswerAuth, 0, glueA, RankAdditional, Outranked, authA},
		{"glue cannot replace authority-section A", authA, RankAuthorityAuth, 0, glueA, RankAdditional, Outranked, authA},
		{"equal rank replaces", authA, RankAdditional, 0, glueA, RankAdditional, Replaced, glueA},
		{"higher rank replaces", glueA, RankAdditional, 0, authA, RankAnswerAuth, Replaced, authA},
		{"authoritative NS replaces referral NS", referralNS, RankAuthorityNonAuth, 0, authNS, RankAnswerAuth, Replaced, authNS},
		{"secure replaces everything", referralNS, RankAnswerAuth, 0, authNS, RankSecure, Replaced, authNS},
		{"lower rank replaces expired data", authA, RankAnswerAuth, time.Hour, glueA, RankAdditional, Stored, glueA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache(t, Config{StaleMax: 24 * time.Hour})
			if got := mustInsert(t, c, RRset{RRs: rrs(t, tt.first), Rank: tt.firstRank}); got != Stored {
				t.Fatalf("first Insert = %v, want %v", got, Stored)
			}
			clk.Advance(tt.age)
			if got := mustInsert(t, c, RRset{RRs: rrs(t, tt.second), Rank: tt.rank}); got != tt.want {
				t.Errorf("second Insert = %v, want %v", got, tt.want)
			}
			want := rr(t, tt.wantRR)
			h, ok := c.Lookup(want.Header().Name, want.Header().Rrtype, dns.ClassINET, LookupOpts{})
			if !ok {
				t.Fatal("Lookup missed")
			}
			if diff := cmp.Diff([]string{want.String()}, strs(h.RRs)); diff != "" {
				t.Errorf("cached RRs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTTLCountdown(t *testing.T) {
	c, clk := newTestCache(t, Config{})
	mustInsert(t, c, RRset{RRs: rrs(t, "www.example.org. 300 IN A 192.0.2.1", "www.example.org. 300 IN A 192.0.2.2"), Rank: RankAnswerAuth})
	steps := []struct {
		name    string
		advance time.Duration
		wantTTL uint32
		wantHit bool
	}{
		{"at insertion", 0, 300, true},
		{"after 1s", time.Second, 299, true},
		{"after 1.5s rounds down", 500 * time.Millisecond, 298, true},
		{"one second left", 297*time.Second + 500*time.Millisecond, 1, true},
		{"last half second rounds to 0", 500 * time.Millisecond, 0, true},
		{"expired", 500 * time.Millisecond, 0, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Advance(s.advance)
			h, ok := c.Lookup("www.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
			if ok != s.wantHit {
				t.Fatalf("Lookup hit = %v, want %v", ok, s.wantHit)
			}
			if !ok {
				return
			}
			if h.TTL != s.wantTTL {
				t.Errorf("TTL = %d, want %d", h.TTL, s.wantTTL)
			}
			for _, r := range h.RRs {
				if r.Header().Ttl != s.wantTTL {
					t.Errorf("RR TTL = %d, want %d: %v", r.Header().Ttl, s.wantTTL, r)
				}
			}
		})
	}
}

func TestTTLClamps(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		rrs     []string
		sigTTL  uint32 // 0: no RRSIG
		want    InsertResult
		wantTTL uint32
	}{
		{"TTL 0 not stored", Config{}, []string{"a.example.org. 0 IN A 192.0.2.1"}, 0, ZeroTTL, 0},
		{"TTL 0 not stored despite MinTTL", Config{MinTTL: time.Minute}, []string{"a.example.org. 0 IN A 192.0.2.1"}, 0, ZeroTTL, 0},
		{"one TTL 0 in the set", Config{}, []string{"a.example.org. 300 IN A 192.0.2.1", "a.example.org. 0 IN A 192.0.2.2"}, 0, ZeroTTL, 0},
		{"top bit set means 0 (RFC 2181 §8)", Config{}, []string{"a.example.org. 2147483648 IN A 192.0.2.1"}, 0, ZeroTTL, 0},
		{"MinTTL raises", Config{MinTTL: time.Minute}, []string{"a.example.org. 5 IN A 192.0.2.1"}, 0, Stored, 60},
		{"MaxTTL caps", Config{MaxTTL: time.Hour}, []string{"a.example.org. 86400 IN A 192.0.2.1"}, 0, Stored, 3600},
		{"default MaxTTL is a day", Config{}, []string{"a.example.org. 1000000 IN A 192.0.2.1"}, 0, Stored, 86400},
		{"set gets its min TTL", Config{}, []string{"a.example.org. 300 IN A 192.0.2.1", "a.example.org. 100 IN A 192.0.2.2"}, 0, Stored, 100},
		{"RRSIG TTL counts", Config{}, []string{"a.example.org. 300 IN A 192.0.2.1"}, 50, Stored, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, tt.cfg)
			s := RRset{RRs: rrs(t, tt.rrs...), Rank: RankAnswerAuth}
			if tt.sigTTL != 0 {
				s.Sigs = []dns.RR{&dns.RRSIG{
					Hdr:         dns.RR_Header{Name: "a.example.org.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: tt.sigTTL},
					TypeCovered: dns.TypeA, Algorithm: dns.ECDSAP256SHA256, Labels: 3, OrigTtl: 300,
					SignerName: "example.org.", Signature: "AAAA",
				}}
			}
			if got := mustInsert(t, c, s); got != tt.want {
				t.Errorf("Insert = %v, want %v", got, tt.want)
			}
			h, ok := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
			if ok != (tt.want == Stored) {
				t.Fatalf("Lookup hit = %v", ok)
			}
			if !ok {
				return
			}
			var got []uint32
			for _, r := range append(h.RRs, h.Sigs...) {
				got = append(got, r.Header().Ttl)
			}
			want := make([]uint32, len(got))
			for i := range want {
				want[i] = tt.wantTTL
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("TTLs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookupKey(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	mustInsert(t, c, RRset{RRs: rrs(t, "WWW.Example.ORG. 300 IN A 192.0.2.1"), Rank: RankAnswerAuth})
	tests := []struct {
		name  string
		qname string
		qtype uint16
		class uint16
		want  bool
	}{
		{"same case", "WWW.Example.ORG.", dns.TypeA, dns.ClassINET, true},
		{"lower case", "www.example.org.", dns.TypeA, dns.ClassINET, true},
		{"no final dot", "www.EXAMPLE.org", dns.TypeA, dns.ClassINET, true},
		{"other type", "www.example.org.", dns.TypeAAAA, dns.ClassINET, false},
		{"other class", "www.example.org.", dns.TypeA, dns.ClassCHAOS, false},
		{"other name", "ftp.example.org.", dns.TypeA, dns.ClassINET, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := c.Lookup(tt.qname, tt.qtype, tt.class, LookupOpts{}); ok != tt.want {
				t.Errorf("Lookup hit = %v, want %v", ok, tt.want)
			}
		})
	}
}

func TestInsertInvalid(t *testing.T) {
	sigOver := func(typ uint16, name string) dns.RR {
		return &dns.RRSIG{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300}, TypeCovered: typ}
	}
	tests := []struct {
		name string
		set  RRset
	}{
		{"empty", RRset{Rank: RankAnswerAuth}},
		{"no rank", RRset{RRs: rrs(t, "a.example.org. 300 IN A 192.0.2.1")}},
		{"mixed types", RRset{RRs: rrs(t, "a.example.org. 300 IN A 192.0.2.1", "a.example.org. 300 IN AAAA 2001:db8::1"), Rank: RankAnswerAuth}},
		{"mixed names", RRset{RRs: rrs(t, "a.example.org. 300 IN A 192.0.2.1", "b.example.org. 300 IN A 192.0.2.2"), Rank: RankAnswerAuth}},
		{"RRSIG over another type", RRset{RRs: rrs(t, "a.example.org. 300 IN A 192.0.2.1"), Sigs: []dns.RR{sigOver(dns.TypeAAAA, "a.example.org.")}, Rank: RankAnswerAuth}},
		{"RRSIG over another name", RRset{RRs: rrs(t, "a.example.org. 300 IN A 192.0.2.1"), Sigs: []dns.RR{sigOver(dns.TypeA, "b.example.org.")}, Rank: RankAnswerAuth}},
		{"not an RRSIG", RRset{RRs: rrs(t, "a.example.org. 300 IN A 192.0.2.1"), Sigs: rrs(t, "a.example.org. 300 IN A 192.0.2.1"), Rank: RankAnswerAuth}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			if _, err := c.Insert(tt.set); !errors.Is(err, ErrInvalid) {
				t.Errorf("Insert error = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCopiesAreIndependent(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	in := rrs(t, "a.example.org. 300 IN A 192.0.2.1")
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: "a.example.org.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
		TypeCovered: dns.TypeA, SignerName: "example.org.", Signature: "AAAA"}
	mustInsert(t, c, RRset{RRs: in, Sigs: []dns.RR{sig}, Rank: RankAnswerAuth})
	want := []string{in[0].String(), sig.String()}

	// Change what was inserted.
	in[0].(*dns.A).A[3] = 99
	in[0].Header().Ttl = 1
	sig.Signature = "BBBB"
	// Change what a lookup returned.
	h, _ := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
	h.RRs[0].(*dns.A).A = net.IPv4(198, 51, 100, 1)
	h.RRs[0].Header().Name = "evil.example."
	h.Sigs[0].(*dns.RRSIG).Signature = "CCCC"
	h.Sigs[0].Header().Ttl = 7

	h, ok := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
	if !ok {
		t.Fatal("Lookup missed")
	}
	if diff := cmp.Diff(want, strs(append(h.RRs, h.Sigs...))); diff != "" {
		t.Errorf("cached data changed (-want +got):\n%s", diff)
	}
}

func TestRemove(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	mustInsert(t, c, RRset{RRs: rrs(t, "a.example.org. 300 IN A 192.0.2.1"), Rank: RankAnswerAuth})
	c.Remove("A.example.org", dns.TypeA, dns.ClassINET)
	if _, ok := c.Lookup("a.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{}); ok {
		t.Error("Lookup hit after Remove")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"tiny budget", Config{MaxBytes: 1000}},
		{"negative TTL", Config{MinTTL: -time.Second}},
		{"min above max", Config{MinTTL: 2 * time.Hour, MaxTTL: time.Hour}},
		{"failure TTL below 1s", Config{FailureTTL: 500 * time.Millisecond}},
		{"failure TTL above 5min", Config{FailureTTL: 10 * time.Minute}},
		{"bogus TTL below 1s", Config{BogusTTL: 500 * time.Millisecond}},
		{"bogus TTL above 5min", Config{BogusTTL: 10 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(&tt.cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("New error = %v, want ErrConfig", err)
			}
		})
	}
	c, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil): %v", err)
	}
	c.Close()
}

// TestProofKept checks that a wildcard answer's proof is kept with the
// RRset and comes back, as copies, with the remaining TTL.
func TestProofKept(t *testing.T) {
	c, clock := newTestCache(t, Config{})
	a, _ := dns.NewRR("www.example.org. 300 IN A 192.0.2.1")
	nsec, _ := dns.NewRR("example.org. 300 IN NSEC zzz.example.org. A NS SOA RRSIG NSEC")
	if _, err := c.Insert(RRset{RRs: []dns.RR{a}, Proof: []dns.RR{nsec}, Rank: RankSecure, Security: SecuritySecure}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(100 * time.Second)
	h, ok := c.Lookup("www.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
	if !ok || len(h.Proof) != 1 || h.Proof[0].Header().Rrtype != dns.TypeNSEC || h.Proof[0].Header().Ttl != 200 {
		t.Fatalf("hit %+v, want the NSEC proof with TTL 200", h)
	}
	h.Proof[0].Header().Ttl = 1
	h2, _ := c.Lookup("www.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
	if h2.Proof[0].Header().Ttl != 200 {
		t.Errorf("changing a returned proof changed the cache")
	}
}
