package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// benchEntries is how many sets the lookup benchmarks cycle through: more
// than CPU caches hold, as in a busy resolver.
const benchEntries = 1 << 14

// newBenchCache returns a real-clock cache holding benchEntries sets made by
// mk, and their names.
func newBenchCache(b *testing.B, mk func(int) RRset) (*Cache, []string) {
	b.Helper()
	c, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	names := make([]string, benchEntries)
	for i := range names {
		s := mk(i)
		mustInsert(b, c, s)
		names[i] = s.RRs[0].Header().Name
	}
	return c, names
}

func BenchmarkLookupHit(b *testing.B) {
	for _, bb := range []struct {
		name  string
		qtype uint16
		mk    func(int) RRset
	}{{"A", dns.TypeA, aSet}, {"NS4", dns.TypeNS, nsSet}} {
		b.Run(bb.name, func(b *testing.B) {
			c, names := newBenchCache(b, bb.mk)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := c.Lookup(names[i%benchEntries], bb.qtype, dns.ClassINET, LookupOpts{}); !ok {
					b.Fatal("miss")
				}
				i++
			}
		})
	}
}

func BenchmarkLookupHitParallel(b *testing.B) {
	c, names := newBenchCache(b, aSet)
	b.ReportAllocs()
	var seed atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		for pb.Next() {
			if _, ok := c.Lookup(names[i%benchEntries], dns.TypeA, dns.ClassINET, LookupOpts{}); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

func BenchmarkLookupMiss(b *testing.B) {
	c, names := newBenchCache(b, aSet)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.Lookup(names[i%benchEntries], dns.TypeAAAA, dns.ClassINET, LookupOpts{}); ok {
			b.Fatal("hit")
		}
		i++
	}
}

func BenchmarkLookupNegativeHit(b *testing.B) {
	c, names := newBenchCache(b, aSet)
	s := &dns.SOA{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
		Ns: "ns1.example.org.", Mbox: "hostmaster.example.org.", Serial: 1, Minttl: 3600}
	for _, n := range names {
		if _, err := c.InsertNegative(n, dns.TypeAAAA, dns.ClassINET, Negative{Kind: NoData, SOA: s, Rank: RankAnswerAuth}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.LookupNegative(names[i%benchEntries], dns.TypeAAAA, dns.ClassINET, LookupOpts{}); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkInsert(b *testing.B) {
	c, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	sets := make([]RRset, benchEntries)
	for i := range sets {
		sets[i] = aSet(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Insert(sets[i%benchEntries]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// shardedMap is the trivial hand-written alternative to otter: shards of
// maps behind RWMutexes, with no eviction, expiry or size accounting at all.
// It bounds from below what a hand-written cache could cost.
type shardedMap struct {
	seed   maphash.Seed
	shards [64]struct {
		mu sync.RWMutex
		m  map[key]*entry
	}
}

func newShardedMap() *shardedMap {
	s := &shardedMap{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[key]*entry)
	}
	return s
}

func (s *shardedMap) shard(k key) int { return int(maphash.String(s.seed, k.name) % 64) }

func (s *shardedMap) Get(k key) (*entry, bool) {
	sh := &s.shards[s.shard(k)]
	sh.mu.RLock()
	e, ok := sh.m[k]
	sh.mu.RUnlock()
	return e, ok
}

func (s *shardedMap) Set(k key, e *entry) {
	sh := &s.shards[s.shard(k)]
	sh.mu.Lock()
	sh.m[k] = e
	sh.mu.Unlock()
}

// BenchmarkStore compares the raw get of otter, as the cache configures it,
// with the sharded map, serially and in parallel: the cost the library adds
// for eviction, expiry and the byte budget.
func BenchmarkStore(b *testing.B) {
	c, names := newBenchCache(b, aSet)
	m := newShardedMap()
	keys := make([]key, len(names))
	for i, n := range names {
		keys[i] = key{name: n, qtype: dns.TypeA, class: dns.ClassINET, kind: kindRRset}
		e, _ := c.store.GetIfPresent(keys[i])
		m.Set(keys[i], e)
	}
	gets := []struct {
		name string
		get  func(key) (*entry, bool)
	}{{"otter", c.store.GetIfPresent}, {"shardedmap", m.Get}}
	for _, g := range gets {
		b.Run(g.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := g.get(keys[i%benchEntries]); !ok {
					b.Fatal("miss")
				}
				i++
			}
		})
		b.Run(g.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			var seed atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(7919))
				for pb.Next() {
					g.get(keys[i%benchEntries])
					i++
				}
			})
		})
	}
}
