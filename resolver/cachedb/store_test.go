package cachedb_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/redistest"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/cachedb"
)

// logRecorder keeps the messages logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// Test timeouts are generous: a loaded CI machine running -race can take
// tens of milliseconds for a loopback round trip.
const testReadTimeout = 500 * time.Millisecond

func newStore(t *testing.T, addr string, mod func(*cachedb.Config)) (*cachedb.Store, *logRecorder) {
	t.Helper()
	logs := &logRecorder{}
	cfg := cachedb.Config{Addrs: []string{addr}, ReadTimeout: testReadTimeout, WriteTimeout: 2 * time.Second,
		DialTimeout: time.Second, Logger: slog.New(logs), KeyPrefix: "t:"}
	if mod != nil {
		mod(&cfg)
	}
	s, err := cachedb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

func waitState(t *testing.T, s *cachedb.Store, st cachedb.State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.WaitState(ctx, st); err != nil {
		t.Fatalf("store never %v (now %v): %v", st, s.State(), err)
	}
}

func flush(t *testing.T, s *cachedb.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func entry(t testing.TB, ttl time.Duration) cache.SharedEntry {
	e := sampleEntries(t)["answer"]
	e.Expires = time.Now().Add(ttl)
	return e
}

// putGet stores an entry and reads it back.
func putGet(t *testing.T, s *cachedb.Store) bool {
	t.Helper()
	s.Put(testKey, entry(t, 300*time.Second))
	flush(t, s)
	_, ok := s.Get(context.Background(), testKey)
	return ok
}

const valueKey = "t:v1:1:1:www.example.org."

// TestStoreFaults is the fault matrix: for each way Redis can fail, the
// store keeps answering (misses, never errors or stale garbage), counts
// what happened, logs once per state change and recovers by itself.
func TestStoreFaults(t *testing.T) {
	t.Run("stores with key TTL = record TTL", func(t *testing.T) {
		r := redistest.Start(t)
		s, _ := newStore(t, r.Addr(), nil)
		waitState(t, s, cachedb.StateUp)
		if !putGet(t, s) {
			t.Fatal("no hit after a write")
		}
		if ttl := r.TTL(t, valueKey); ttl <= 290*time.Second || ttl > 300*time.Second {
			t.Errorf("key TTL %v, want the entry's 300s", ttl)
		}
		if st := s.Stats(); st.Hits != 1 || st.Writes != 1 {
			t.Errorf("stats %+v, want 1 hit, 1 write", st)
		}
	})
	t.Run("down at start", func(t *testing.T) {
		r := redistest.Start(t)
		r.Kill()
		s, logs := newStore(t, r.Addr(), nil)
		waitState(t, s, cachedb.StateDown)
		if _, ok := s.Get(context.Background(), testKey); ok {
			t.Fatal("hit with Redis down")
		}
		s.Put(testKey, entry(t, time.Minute))
		if st := s.Stats(); st.Skipped != 1 || st.DroppedDown != 1 {
			t.Errorf("stats %+v, want the lookup skipped and the write dropped", st)
		}
		r.Restart(t)
		waitState(t, s, cachedb.StateUp)
		if !putGet(t, s) {
			t.Error("no hit once Redis came up")
		}
		if d, u := logs.count("down"), logs.count("up"); d != 1 || u != 1 {
			t.Errorf("logged down %d times and up %d times, want once each", d, u)
		}
	})
	t.Run("killed mid-run", func(t *testing.T) {
		r := redistest.Start(t)
		s, logs := newStore(t, r.Addr(), nil)
		waitState(t, s, cachedb.StateUp)
		if !putGet(t, s) {
			t.Fatal("no hit")
		}
		r.Kill()
		for i := 0; s.State() == cachedb.StateUp && i < 10; i++ {
			if _, ok := s.Get(context.Background(), testKey); ok {
				t.Fatal("hit from a dead Redis")
			}
		}
		waitState(t, s, cachedb.StateDown)
		st := s.Stats()
		if st.Errors+st.Timeouts == 0 {
			t.Errorf("stats %+v: failures not counted", st)
		}
		start := time.Now()
		s.Get(context.Background(), testKey)
		if s.Stats().Skipped == 0 {
			t.Errorf("lookup while down was sent (took %v)", time.Since(start))
		}
		r.Restart(t)
		waitState(t, s, cachedb.StateUp)
		if !putGet(t, s) {
			t.Error("no hit after Redis came back")
		}
		if d, u := logs.count("down"), logs.count("up"); d != 1 || u != 2 {
			t.Errorf("logged down %d times and up %d times, want 1 and 2", d, u)
		}
	})
	t.Run("slow", func(t *testing.T) {
		r := redistest.Start(t)
		s, _ := newStore(t, r.Addr(), func(c *cachedb.Config) { c.ReadTimeout = 50 * time.Millisecond; c.DialTimeout = 200 * time.Millisecond })
		waitState(t, s, cachedb.StateUp)
		s.Get(context.Background(), testKey) // a connection in the pool
		r.Do(t, "CLIENT", "PAUSE", "1500", "ALL")
		for i := 0; s.State() == cachedb.StateUp && i < 10; i++ {
			start := time.Now()
			if _, ok := s.Get(context.Background(), testKey); ok {
				t.Fatal("hit from a paused Redis")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("lookup took %v with a 50ms read timeout", d)
			}
		}
		if st := s.Stats(); st.Timeouts == 0 {
			t.Errorf("stats %+v: timeouts not counted", st)
		}
		waitState(t, s, cachedb.StateDown)
		waitState(t, s, cachedb.StateUp) // the pause ends
	})
	t.Run("garbage, wrong type, oversized, wrong key", func(t *testing.T) {
		r := redistest.Start(t)
		s, _ := newStore(t, r.Addr(), func(c *cachedb.Config) { c.MaxObjectSize = 1024 })
		waitState(t, s, cachedb.StateUp)
		good, err := cachedb.Encode(cache.SharedKey{Name: "mail.example.org.", Type: dns.TypeA, Class: dns.ClassINET}, entry(t, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		for i, set := range [][]any{
			{"SET", valueKey, "garbage"},
			{"SET", valueKey, "AWC1" + strings.Repeat("\xff", 40)},
			{"SET", valueKey, strings.Repeat("x", 2000)},
			{"SET", valueKey, string(good)},
			{"LPUSH", valueKey, "x"},
		} {
			r.Do(t, set...)
			if _, ok := s.Get(context.Background(), testKey); ok {
				t.Errorf("%v: served", set[:2])
			}
			flush(t, s)
			if keys := r.Keys(t, valueKey); len(keys) != 0 {
				t.Errorf("%v: not deleted", set[:2])
			}
			if st := s.Stats(); st.Garbage != uint64(i+1) || st.Hits != 0 {
				t.Errorf("%v: stats %+v, want %d garbage", set[:2], st, i+1)
			}
		}
		if s.State() != cachedb.StateUp {
			t.Errorf("garbage took the store %v", s.State())
		}
	})
	t.Run("flushed", func(t *testing.T) {
		r := redistest.Start(t)
		s, _ := newStore(t, r.Addr(), nil)
		waitState(t, s, cachedb.StateUp)
		if !putGet(t, s) {
			t.Fatal("no hit")
		}
		r.Do(t, "FLUSHALL")
		if _, ok := s.Get(context.Background(), testKey); ok {
			t.Error("hit after FLUSHALL")
		}
		if !putGet(t, s) {
			t.Error("no hit after writing again")
		}
		if st := s.Stats(); st.State != cachedb.StateUp || st.Misses != 1 {
			t.Errorf("stats %+v, want up with 1 miss", st)
		}
	})
	t.Run("queue full drops", func(t *testing.T) {
		r := redistest.Start(t)
		s, _ := newStore(t, r.Addr(), func(c *cachedb.Config) { c.QueueSize = 1 })
		waitState(t, s, cachedb.StateUp)
		r.Do(t, "CLIENT", "PAUSE", "1000", "WRITE")
		for range 50 {
			s.Put(testKey, entry(t, time.Minute))
		}
		if st := s.Stats(); st.DroppedFull == 0 {
			t.Errorf("stats %+v: 50 writes into a queue of 1 dropped none", st)
		}
	})
	t.Run("queue bytes bound drops", func(t *testing.T) {
		// QueueSize 8 allows 8 KiB: two entries of 2.8 KB, not three,
		// though the queue has room for eight by count.
		r := redistest.Start(t)
		s, _ := newStore(t, r.Addr(), func(c *cachedb.Config) { c.QueueSize = 8 })
		waitState(t, s, cachedb.StateUp)
		r.Do(t, "CLIENT", "PAUSE", "1000", "WRITE")
		big := entry(t, time.Minute)
		sig := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 2700))
		big.Sigs = []dns.RR{mustRR(t, "www.example.org. 300 IN RRSIG A 13 3 300 20300101000000 20200101000000 12345 example.org. "+sig)}
		const puts = 8
		for range puts {
			s.Put(testKey, big)
		}
		st := s.Stats()
		if st.Queued > 2 || st.Queued+int(st.DroppedFull) != puts {
			t.Errorf("stats %+v: want at most 2 of %d writes of 2.8 KB queued within 8 KiB, the others dropped", st, puts)
		}
	})
	t.Run("not stored: expired, too big", func(t *testing.T) {
		r := redistest.Start(t)
		s, _ := newStore(t, r.Addr(), func(c *cachedb.Config) { c.MaxObjectSize = 100 })
		waitState(t, s, cachedb.StateUp)
		s.Put(testKey, entry(t, 500*time.Millisecond))
		s.Put(testKey, entry(t, time.Minute))
		flush(t, s)
		if keys := r.Keys(t, "t:*"); len(keys) != 0 {
			t.Errorf("stored %v", keys)
		}
		if st := s.Stats(); st.TooBig != 1 {
			t.Errorf("stats %+v, want 1 too big", st)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]cachedb.Config{
		"no address":       {},
		"bad address":      {Addrs: []string{"localhost"}},
		"cluster+sentinel": {Addrs: []string{"127.0.0.1:6379"}, Cluster: true, SentinelMaster: "m"},
		"negative timeout": {Addrs: []string{"127.0.0.1:6379"}, ReadTimeout: -1},
		"queue too big":    {Addrs: []string{"127.0.0.1:6379"}, QueueSize: 1 << 30},
		"object size tiny": {Addrs: []string{"127.0.0.1:6379"}, MaxObjectSize: 3},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := cachedb.New(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}
