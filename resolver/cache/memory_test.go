package cache

import (
	"fmt"
	"net"
	"runtime"
	"testing"

	"github.com/miekg/dns"
)

// memEntries is how many RRsets TestBytesPerEntry inserts: enough that
// per-entry costs dwarf fixed ones.
const memEntries = 100_000

// aSet returns the one-A RRset of host i.
func aSet(i int) RRset {
	name := fmt.Sprintf("host%d.example.org.", i)
	return RRset{RRs: []dns.RR{&dns.A{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
		A:   net.IPv4(192, 0, 2, byte(i)).To4(),
	}}, Rank: RankAnswerAuth}
}

// nsSet returns the four-NS RRset of zone i.
func nsSet(i int) RRset {
	name := fmt.Sprintf("zone%d.example.", i)
	rrs := make([]dns.RR, 4)
	for j := range rrs {
		rrs[j] = &dns.NS{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 86400},
			Ns:  fmt.Sprintf("ns%d.zone%d.example.", j+1, i),
		}
	}
	return RRset{RRs: rrs, Rank: RankAuthorityNonAuth}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestBytesPerEntry measures the heap bytes per cached RRset and checks
// that the weigher's estimate, which the byte budget relies on, is within a
// factor of two of it.
func TestBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 100k entries")
	}
	tests := []struct {
		name string
		set  func(int) RRset
	}{
		{"one A", aSet},
		{"four NS", nsSet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t, Config{MaxBytes: 1 << 30})
			before := heapAlloc()
			for i := range memEntries {
				// The cache keeps copies, and the owner name string
				// they share with the input: that is part of the cost.
				mustInsert(t, c, tt.set(i))
			}
			after := heapAlloc()
			c.store.CleanUp()
			st := c.Stats()
			if st.Entries != memEntries {
				t.Fatalf("%d entries, want %d", st.Entries, memEntries)
			}
			measured := float64(after-before) / memEntries
			estimated := float64(st.Bytes) / memEntries
			t.Logf("%s: %.0f bytes/entry measured (heap), %.0f estimated by the weigher", tt.name, measured, estimated)
			if estimated < measured/2 || estimated > measured*2 {
				t.Errorf("weigher estimate %.0f not within 2x of measured %.0f bytes/entry", estimated, measured)
			}
			runtime.KeepAlive(c)
		})
	}
}

func TestByteBoundEvicts(t *testing.T) {
	const inserts = 2000 // about 700 KB of A sets against a 64 KiB budget
	c, _ := newTestCache(t, Config{MaxBytes: minMaxBytes})
	for i := range inserts {
		mustInsert(t, c, aSet(i))
	}
	c.store.CleanUp()
	st := c.Stats()
	if st.Bytes > minMaxBytes {
		t.Errorf("Bytes = %d, above the %d budget", st.Bytes, minMaxBytes)
	}
	if st.Evictions == 0 || st.Entries >= inserts {
		t.Errorf("Evictions = %d, Entries = %d; want evictions and fewer than %d entries", st.Evictions, st.Entries, inserts)
	}
	if got := uint64(st.Entries) + st.Evictions; got != inserts {
		t.Errorf("Entries + Evictions = %d, want %d", got, inserts)
	}
}
