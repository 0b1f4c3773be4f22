package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/server"
)

// deadFloodNames is the random-subdomain flood of TestDeadZoneFlood:
// with one packet-cache entry per shard, a reply kept per flooded name
// would push out the cached name's entry except with probability
// (63/64)^500, under 0.1 %.
const deadFloodNames = 500

// TestDeadZoneFlood: a random-subdomain flood under a zone whose servers
// are held down after timeouts keeps nothing per name (no SERVFAIL in the
// packet cache, nothing in the resolver's failure cache), sends the dead
// server at most its one probe, and a name under the zone cached before
// the flood is still answered from the packet cache.
func TestDeadZoneFlood(t *testing.T) {
	lab := startLab(t)
	clk := newFakeClock()
	infra, err := cache.NewInfra(&cache.InfraConfig{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(infra.Close)
	res := newResolver(t, lab, func(c *resolver.Config) {
		c.Infra, c.Now = infra, clk.Now
		c.QueryTimeout = 50 * time.Millisecond
	})
	m := server.NewMetrics()
	m.SetCacheSource(res)
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Settings.Resolver, c.Metrics, c.Now = res, m, clk.Now
		c.PacketCacheEntries = 64 // one per shard
	})
	cached := pack(t, question("www.slow.org.", dns.TypeA))
	if r := handle(t, h, loopClient, cached); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("before the flood: %s", dns.RcodeToString[r.Rcode])
	}
	dead := lab.Addrs()["ns1.slow.org."]
	lab.Server("ns1.slow.org.").SetFaults(resolvertest.Faults{Drop: true})
	// Timeouts double the RTO up to cache.MaxRTO: held down. 32
	// doublings take any RTO past it.
	for range 32 {
		if e, _ := infra.Lookup(dead.Addr(), "slow.org."); e.RTO >= cache.MaxRTO {
			break
		}
		infra.RecordTimeout(dead.Addr(), "slow.org.")
	}
	lab.ResetQueries()
	hits0 := metricValue(t, m, "addrwalk_packet_cache_hits_total")
	reasons := map[string]int{}
	for i := range deadFloodNames {
		r := handle(t, h, loopClient, pack(t, withEDNS(question(fmt.Sprintf("%08x.slow.org.", i), dns.TypeA), 1232, false)))
		reasons[fmt.Sprintf("%s %v", dns.RcodeToString[r.Rcode], edeCodes(r))]++
	}
	var toDead int
	for _, q := range lab.Queries() {
		if q.Server == "ns1.slow.org." {
			toDead++
		}
	}
	r := handle(t, h, loopClient, cached)
	type outcome struct {
		Replies       map[string]int
		ToDeadServer  int
		PacketEntries float64
		Failures      float64
		CachedName    string
		CachedHits    float64
	}
	got := outcome{reasons, toDead, metricValue(t, m, "addrwalk_packet_cache_entries"),
		partEntries(t, m, cache.PartFailure), dns.RcodeToString[r.Rcode],
		metricValue(t, m, "addrwalk_packet_cache_hits_total") - hits0}
	want := outcome{
		Replies:       map[string]int{fmt.Sprintf("SERVFAIL %v", []uint16{dns.ExtendedErrorCodeNoReachableAuthority}): deadFloodNames},
		ToDeadServer:  1, // the zone's one probe, which times out
		PacketEntries: 1, // www.slow.org. A
		CachedName:    "NOERROR",
		CachedHits:    1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// metricValue is the sum of the samples of the counter or gauge name.
func metricValue(t *testing.T, m *server.Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			v += mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
		}
	}
	return v
}

// partEntries is the entries of one part of the cache budget.
func partEntries(t *testing.T, m *server.Metrics, part string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "addrwalk_cache_part_entries" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "part" && l.GetValue() == part {
					return mt.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no addrwalk_cache_part_entries for part %q", part)
	return 0
}
