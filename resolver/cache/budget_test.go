package cache

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// memoryNames is how many distinct names TestMemoryBudget inserts: the
// cache-busting flood of issue #11 (10^6 unique names). Under the race
// detector, which makes each insert about ten times slower, 50,000 (still
// four times what the budget holds): the full run is the separate non-race
// step in .ci/run.
func memoryNames() int {
	if raceEnabled {
		return 50_000
	}
	return 1_000_000
}

// memoryBudget is the one budget the test splits: small enough that a
// tenth of the names overflows it many times.
const memoryBudget = 16 << 20

// memoryOverhead is what the heap may hold above the budget once the
// cache is full: otter's fixed structures (its frequency sketch, read and
// write buffers, sized for the entries the budget holds) and the error of
// the weights, which TestBytesPerEntry bounds to a factor of two per entry
// but which is much closer on average. Measured: 2.3 MiB above the 12 MiB
// of the Records and NSEC shares of 16 MiB, with 10^6 names.
const memoryOverhead = memoryBudget / 4

func TestMemoryBudget(t *testing.T) {
	b := SplitBudget(memoryBudget)
	clk := newFakeClock()
	before := heapAlloc()
	c, err := New(&Config{MaxBytes: b.Records, NSECBytes: b.NSEC, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
		Ns: "ns.example.", Mbox: "host.example.", Serial: 1, Refresh: 7200, Retry: 3600, Expire: 1209600, Minttl: 3600}
	names := memoryNames()
	start := time.Now()
	for i := range names {
		name := fmt.Sprintf("r%d.flood.example.", i)
		switch i % 4 {
		case 0, 1: // positive answers, as wildcard answers bring them
			_, err = c.Insert(RRset{RRs: []dns.RR{&dns.A{
				Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
				A:   net.IPv4(192, 0, 2, byte(i)).To4()}}, Rank: RankAnswerAuth})
		case 2: // NXDOMAIN
			_, err = c.InsertNegative(name, dns.TypeA, dns.ClassINET, Negative{Kind: NXDomain, SOA: soa, Rank: RankAnswerAuth})
		case 3: // a validated NSEC record in a zone of its own
			zone := fmt.Sprintf("z%d.example.", i)
			c.LearnNSEC(zone, soa, []dns.RR{&dns.NSEC{
				Hdr:        dns.RR_Header{Name: "a." + zone, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 3600},
				NextDomain: "c." + zone, TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}}})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	c.store.CleanUp()
	c.nsec.store.CleanUp()
	after := heapAlloc()
	st := c.Stats()
	var parts uint64
	for _, p := range st.Parts {
		parts += p.Bytes
		t.Logf("part %-8s %8d entries %10d bytes", p.Part, p.Entries, p.Bytes)
	}
	grew := int64(after) - int64(before)
	t.Logf("%d names in %v; heap grew %.1f MiB for shares of %.1f MiB (records %.1f, nsec %.1f); weighed %.1f MiB",
		names, took.Round(time.Millisecond), mib(grew), mib(b.Records+b.NSEC), mib(b.Records), mib(b.NSEC), mib(int64(parts)))
	if st.Bytes > uint64(b.Records) {
		t.Errorf("records part weighs %d bytes, above its share %d", st.Bytes, b.Records)
	}
	if p := st.Parts[3]; p.Bytes > uint64(b.NSEC) {
		t.Errorf("nsec part weighs %d bytes, above its share %d", p.Bytes, b.NSEC)
	}
	if limit := b.Records + b.NSEC + memoryOverhead; grew > limit {
		t.Errorf("heap grew %d bytes, above the shares plus overhead (%d)", grew, limit)
	}
	runtime.KeepAlive(c)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func TestSplitBudget(t *testing.T) {
	tests := []struct {
		name  string
		total int64
		want  Budget
	}{
		{"default", 0, Budget{Total: 64 << 20, Records: 53687091, NSEC: 3355443, Infra: 3355443, Packets: 6710886}},
		{"one GiB", 1 << 30, Budget{Total: 1 << 30, Records: 858993459, NSEC: 53687091, Infra: 53687091, Packets: 107374182}},
		{"tiny: every part at its floor", 100 << 10, Budget{Total: 100 << 10, Records: 81920, NSEC: minMaxBytes, Infra: minMaxBytes, Packets: minMaxBytes}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitBudget(tt.total); got != tt.want {
				t.Errorf("SplitBudget(%d) = %+v, want %+v", tt.total, got, tt.want)
			}
		})
	}
}
