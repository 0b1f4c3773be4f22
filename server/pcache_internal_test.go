package server

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"
)

// testReply packs a one-A reply for name, ready for newPEntry.
func testReply(t testing.TB, name string, i int) []byte {
	t.Helper()
	return testReplyType(t, name, dns.TypeA, i)
}

// testReplyType is testReply with the question's type qtype (the answer
// stays an A record: the packet cache does not look at it).
func testReplyType(t testing.TB, name string, qtype uint16, i int) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Response = true
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600},
		A: net.IPv4(192, 0, 2, byte(i)).To4()}}
	wire, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return wire
}

// putReply puts the reply for r<i>.flood.example. into c.
func putReply(t testing.TB, c *packetCache, i int, now time.Time) {
	t.Helper()
	name := fmt.Sprintf("r%d.flood.example.", i)
	e := newPEntry(testReply(t, name, i), 0, rcodeNoError, false, now, ttlClamps{})
	if e == nil {
		t.Fatalf("no entry for %s", name)
	}
	c.put([]byte(name+"\x00\x01\x00\x01\x00"), e)
}

// heldBytes adds up the weights of what c holds, shard by shard.
func heldBytes(c *packetCache) (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		for _, e := range s.m {
			entries++
			bytes += e.weight()
		}
		s.mu.RUnlock()
	}
	return entries, bytes
}

func TestPacketCacheBudget(t *testing.T) {
	const budget = 512 << 10 // 8 KiB a shard: room for one reply of the largest size kept
	tests := []struct {
		name    string
		puts    int
		repeat  bool // put the same names twice: replacements
		entries int  // the entry bound
	}{
		{"bytes bind", 10_000, false, 100_000},
		{"entries bind", 5000, false, 640},
		{"replacements", 300, true, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPacketCache(tt.entries, budget)
			now := time.Now()
			for i := range tt.puts {
				putReply(t, c, i, now)
				if tt.repeat {
					putReply(t, c, i, now)
				}
			}
			n, b := heldBytes(c)
			p := c.part()
			if p.Entries != n || int64(p.Bytes) != b {
				t.Errorf("part() = %d entries, %d bytes; held %d, %d", p.Entries, p.Bytes, n, b)
			}
			if b > budget || n > tt.entries {
				t.Errorf("held %d entries, %d bytes; bounds %d, %d", n, b, tt.entries, budget)
			}
			if !tt.repeat && n >= tt.puts {
				t.Errorf("held all %d entries: nothing evicted", n)
			}
			if tt.repeat && n != tt.puts {
				t.Errorf("held %d entries, want the %d names", n, tt.puts)
			}
			c.flush()
			if p := c.part(); p.Entries != 0 || p.Bytes != 0 {
				t.Errorf("after flush: %+v", p)
			}
		})
	}
}

// TestPacketCacheMemory fills the packet cache with 10^6 distinct names
// (50,000 under the race detector; the full run is a non-race step in
// .ci/run) and checks that the heap stays within its budget plus a stated
// overhead, and that the weights are close to the heap bytes.
func TestPacketCacheMemory(t *testing.T) {
	const (
		budget = 4 << 20
		// overhead: the weights' error and the maps' growth beyond the
		// entries they hold (Go maps do not shrink).
		overhead = budget / 2
	)
	names := 1_000_000
	if raceEnabled {
		names = 50_000
	}
	before := heapAlloc()
	c := newPacketCache(DefaultPacketCacheEntries, budget)
	now := time.Now()
	start := time.Now()
	for i := range names {
		putReply(t, c, i, now)
	}
	took := time.Since(start)
	after := heapAlloc()
	p := c.part()
	grew := int64(after) - int64(before)
	t.Logf("%d names in %v: %d entries, weighed %d bytes (%.0f each); heap grew %d (%.0f each)",
		names, took.Round(time.Millisecond), p.Entries, p.Bytes, float64(p.Bytes)/float64(p.Entries), grew, float64(grew)/float64(p.Entries))
	if p.Bytes > budget {
		t.Errorf("weighed %d bytes, above the budget %d", p.Bytes, budget)
	}
	if grew > budget+overhead {
		t.Errorf("heap grew %d bytes, above the budget plus overhead %d", grew, budget+overhead)
	}
	runtime.KeepAlive(c)
}

// TestFailEntryMemory fills the packet cache with failure entries (RFC
// 9520), each with its own reason text as a held-down zone's are, and
// checks that the heap stays within the budget plus the same overhead:
// their Extended DNS Errors are weighed too.
func TestFailEntryMemory(t *testing.T) {
	const (
		budget   = 4 << 20
		overhead = budget / 2
	)
	names := 200_000
	if raceEnabled {
		names = 30_000
	}
	before := heapAlloc()
	c := newPacketCache(DefaultPacketCacheEntries, budget)
	now := time.Now()
	for i := range names {
		name := fmt.Sprintf("%08x.dead.example.", i)
		ede := &edeInfo{code: dns.ExtendedErrorCodeNoReachableAuthority,
			text: fmt.Sprintf("every server of dead.example. timed out repeatedly; next probe in %v", time.Duration(i)*time.Microsecond)}
		e := newFailEntry(name, dns.TypeA, dns.ClassINET, ede, "held_down", time.Minute, now)
		if e == nil {
			t.Fatalf("no entry for %s", name)
		}
		c.put([]byte(name+"\x00\x01\x00\x01\x00"), e)
	}
	after := heapAlloc()
	p := c.part()
	grew := int64(after) - int64(before)
	t.Logf("%d names: %d entries, weighed %d bytes (%.0f each); heap grew %d (%.0f each)",
		names, p.Entries, p.Bytes, float64(p.Bytes)/float64(p.Entries), grew, float64(grew)/float64(p.Entries))
	if p.Bytes > budget {
		t.Errorf("weighed %d bytes, above the budget %d", p.Bytes, budget)
	}
	if grew > budget+overhead {
		t.Errorf("heap grew %d bytes, above the budget plus overhead %d", grew, budget+overhead)
	}
	runtime.KeepAlive(c)
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestPEntrySize keeps a packet-cache entry at 64 bytes, a size class of
// Go's allocator: one field more and every entry costs 80.
func TestPEntrySize(t *testing.T) {
	if got := unsafe.Sizeof(pentry{}); got != 64 {
		t.Errorf("pentry is %d bytes, want 64", got)
	}
}

// TestPacketCacheKeyCheck checks that a hit needs the entry's whole key:
// the map is keyed by the key's hash, and an entry found under it that
// was kept for another question (a hash two keys share) is a miss.
func TestPacketCacheKeyCheck(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	key := func(name string, qtype uint16, flags byte) []byte {
		var q query
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		if flags&1 != 0 {
			m.SetEdns0(1232, true)
		}
		m.CheckingDisabled = flags&2 != 0
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if !parseHeader(wire, &q) || parseQuery(wire, &q) != nil {
			t.Fatalf("%s does not parse", name)
		}
		return appendPKey(nil, &q)
	}
	tests := []struct {
		name string
		// keptName and keptType are the question of the entry kept
		// (in the reply's letter case).
		keptName string
		keptType uint16
		key      []byte
		want     bool
	}{
		{"same question", "www.example.org.", dns.TypeA, key("www.example.org.", dns.TypeA, 0), true},
		{"other letter case", "www.example.org.", dns.TypeA, key("WwW.Example.ORG.", dns.TypeA, 0), true},
		{"reply in upper case", "WWW.EXAMPLE.ORG.", dns.TypeA, key("www.example.org.", dns.TypeA, 0), true},
		{"other name of the same length", "www.example.org.", dns.TypeA, key("www.example.net.", dns.TypeA, 0), false},
		{"other type", "www.example.org.", dns.TypeA, key("www.example.org.", dns.TypeAAAA, 0), false},
		{"DO set", "www.example.org.", dns.TypeA, key("www.example.org.", dns.TypeA, 1), false},
		{"CD set", "www.example.org.", dns.TypeA, key("www.example.org.", dns.TypeA, 2), false},
		{"shorter name", "www.example.org.", dns.TypeA, key("example.org.", dns.TypeA, 0), false},
		// Types whose low byte is an ASCII capital (65-90) are not
		// folded: HTTPS is 65, 'A'.
		{"HTTPS", "www.example.org.", dns.TypeHTTPS, key("www.example.org.", dns.TypeHTTPS, 0), true},
		{"HTTPS in other letter case", "WWW.example.org.", dns.TypeHTTPS, key("www.EXAMPLE.org.", dns.TypeHTTPS, 0), true},
		{"type 90 is not type 122", "www.example.org.", 90, key("www.example.org.", 122, 0), false},
		{"type 122 is not type 90", "www.example.org.", 122, key("www.example.org.", 90, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPacketCache(0, 0)
			kept := key(tt.keptName, tt.keptType, 0)
			e := newPEntry(testReplyType(t, tt.keptName, tt.keptType, 1), 0, rcodeNoError, false, now, ttlClamps{})
			c.put(kept, e)
			if got := e.matches(tt.key); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
			// The entry filed under tt.key's hash, as a shared hash
			// would file it: only a matching question hits.
			h, s := c.hash(tt.key)
			s.m[h] = e
			if got := c.get(tt.key, now.UnixNano()) != nil; got != tt.want {
				t.Errorf("get = %v, want %v", got, tt.want)
			}
		})
	}
}
