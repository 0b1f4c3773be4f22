package cache

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// fillAdmin caches a positive set, a NODATA, an NXDOMAIN, a bogus set and a
// failure under example.org, and a set elsewhere.
func fillAdmin(t *testing.T, c *Cache) {
	t.Helper()
	soa := rr(t, "example.org. 300 IN SOA ns.example.org. host.example.org. 1 7200 3600 1209600 60").(*dns.SOA)
	mustInsert(t, c, RRset{RRs: rrs(t, "www.example.org. 300 IN A 192.0.2.1", "www.example.org. 300 IN A 192.0.2.2"), Rank: RankAnswerAuth, Security: SecurityInsecure})
	mustInsert(t, c, RRset{RRs: rrs(t, "example.org. 300 IN NS ns.example.org."), Rank: RankAuthorityAuth})
	mustInsert(t, c, RRset{RRs: rrs(t, "ns.example.org. 300 IN A 192.0.2.53"), Rank: RankAdditional})
	mustInsert(t, c, RRset{RRs: rrs(t, "bad.example.org. 300 IN TXT \"x\""), Rank: RankAnswerAuth, Security: SecurityBogus})
	mustInsert(t, c, RRset{RRs: rrs(t, "www.example.net. 300 IN AAAA 2001:db8::1"), Rank: RankAnswerAuth})
	if _, err := c.InsertNegative("www.example.org.", dns.TypeAAAA, dns.ClassINET, Negative{Kind: NoData, SOA: soa, Rank: RankAuthorityAuth}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertNegative("nope.example.org.", 0, dns.ClassINET, Negative{Kind: NXDomain, SOA: soa, Proof: rrs(t, "example.org. 60 IN NSEC a.example.org. A NS SOA"), Rank: RankAuthorityAuth}); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkFailed("fail.example.org.", dns.TypeA, dns.ClassINET, errors.New("timeout")); err != nil {
		t.Fatal(err)
	}
}

func TestFlush(t *testing.T) {
	tests := []struct {
		name string
		sel  Selector
		want int
	}{
		{"everything", Selector{}, 8},
		{"one name every type", Selector{Name: "www.example.org"}, 2},
		{"one name one type", Selector{Name: "WWW.example.org.", Type: dns.TypeA}, 1},
		{"zone", Selector{Name: "example.org", Below: true}, 7},
		{"negative", Selector{Negative: true}, 2},
		{"bogus and failures", Selector{Bogus: true}, 2},
		{"nothing there", Selector{Name: "example.com"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			fillAdmin(t, c)
			if got := c.Flush(tt.sel); got != tt.want {
				t.Errorf("Flush(%+v) = %d, want %d", tt.sel, got, tt.want)
			}
			if got := c.Flush(tt.sel); got != 0 {
				t.Errorf("second Flush removed %d more", got)
			}
		})
	}
}

func TestClosestDelegation(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	fillAdmin(t, c)
	d, ok := c.ClosestDelegation("deep.www.Example.org", dns.ClassINET)
	if !ok {
		t.Fatal("no delegation found")
	}
	want := Delegation{Zone: "example.org.", NS: []string{"ns.example.org."}, Addrs: map[string][]string{"ns.example.org.": {"192.0.2.53"}}, TTL: 300}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("delegation (-want +got):\n%s", diff)
	}
	if _, ok := c.ClosestDelegation("example.com", dns.ClassINET); ok {
		t.Error("delegation found for an uncached zone")
	}
}

func TestDumpLoadRoundTrip(t *testing.T) {
	c, clk := newTestCache(t, Config{})
	fillAdmin(t, c)
	clk.Advance(30 * time.Second)
	var buf bytes.Buffer
	n, err := c.Dump(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 { // the failure is not dumped
		t.Errorf("Dump wrote %d entries, want 7:\n%s", n, buf.String())
	}
	fresh, _ := newTestCache(t, Config{})
	st, err := fresh.Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, buf.String())
	}
	if diff := cmp.Diff(LoadStats{Entries: 7, Stored: 7}, st); diff != "" {
		t.Errorf("load stats (-want +got):\n%s", diff)
	}
	var again bytes.Buffer
	if _, err := fresh.Dump(&again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(buf.String(), again.String()); diff != "" {
		t.Errorf("dump of the loaded cache differs (-first +second):\n%s", diff)
	}
	h, ok := fresh.Lookup("www.example.org.", dns.TypeA, dns.ClassINET, LookupOpts{})
	if !ok || h.TTL != 270 || h.Rank != RankAnswerAuth || h.Security != SecurityInsecure {
		t.Errorf("loaded www A: ok=%v ttl=%d rank=%v sec=%v, want ttl 270 answer-auth insecure", ok, h.TTL, h.Rank, h.Security)
	}
	nh, ok := fresh.LookupNegative("nope.example.org.", dns.TypeMX, dns.ClassINET, LookupOpts{})
	if !ok || nh.Kind != NXDomain || len(nh.Proof) != 1 {
		t.Errorf("loaded NXDOMAIN: ok=%v %+v", ok, nh)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty input"},
		{"no header", "+rrset a. A IN secure secure\n", "line 1"},
		{"record first", dumpHeader + "\nrr a. 1 IN A 192.0.2.1\n", "line 2: not a cache dump: record before"},
		{"bad kind", dumpHeader + "\n+weird a. A IN secure secure\n", "unknown entry kind"},
		{"bad rank", dumpHeader + "\n+rrset a. A IN top secure\n", "unknown rank"},
		{"foreign record", dumpHeader + "\n+rrset a. A IN secure secure\nrr b. 1 IN A 192.0.2.1\n", "does not belong"},
		{"bad record", dumpHeader + "\n+rrset a. A IN secure secure\nrr a. 1 IN A nonsense\n", "line 3: not a cache dump: not a record"},
		{"empty set", dumpHeader + "\n+rrset a. A IN secure secure\n", "without records"},
		{"negative without soa", dumpHeader + "\n+nodata a. A IN secure secure\n", "without soa"},
		{"unknown tag", dumpHeader + "\n+rrset a. A IN secure secure\nzz a. 1 IN A 192.0.2.1\n", "unknown line tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{})
			_, err := c.Load(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.want)
			}
			if got := c.Stats().Entries; got != 0 {
				t.Errorf("a rejected dump left %d entries", got)
			}
		})
	}
}

func TestInfraForget(t *testing.T) {
	in, err := NewInfra(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	in.RecordRTT(a, "example.org.", time.Millisecond)
	in.RecordRTT(a, "example.net.", time.Millisecond)
	in.RecordRTT(b, "example.org.", time.Millisecond)
	// Each answer also updates its server's address-wide record (Zone ""):
	// a's two zones and its address-wide record, then b's zone and its.
	if got := in.Forget(a); got != 3 {
		t.Errorf("Forget(a) = %d, want 3", got)
	}
	if got := in.Forget(netip.Addr{}); got != 2 {
		t.Errorf("Forget(all) = %d, want 2", got)
	}
	if got := len(in.Snapshot()); got != 0 {
		t.Errorf("%d records left after Forget(all)", got)
	}
}
