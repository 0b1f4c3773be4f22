package cache

import (
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// newTestCache returns a Cache on a fake clock, closed when the test ends.
func newTestCache(t testing.TB, cfg Config) (*Cache, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg.Now = clk.Now
	c, err := New(&cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c, clk
}

// rr parses a record in zone-file syntax.
func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("dns.NewRR(%q): %v", s, err)
	}
	return r
}

// rrs parses records in zone-file syntax.
func rrs(t testing.TB, ss ...string) []dns.RR {
	t.Helper()
	out := make([]dns.RR, len(ss))
	for i, s := range ss {
		out[i] = rr(t, s)
	}
	return out
}

// strs renders records as zone-file text, for cmp.Diff.
func strs(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, r := range rrs {
		out[i] = r.String()
	}
	return out
}

// mustInsert inserts and fails the test on error.
func mustInsert(t testing.TB, c *Cache, s RRset) InsertResult {
	t.Helper()
	res, err := c.Insert(s)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	return res
}
