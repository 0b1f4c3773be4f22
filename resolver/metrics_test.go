package resolver_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// countingMetrics records cache lookups by result.
type countingMetrics struct {
	mu      sync.Mutex
	lookups map[string]int
}

func (m *countingMetrics) UpstreamQuery(string, time.Duration, string) {}

func (m *countingMetrics) CacheLookup(result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lookups == nil {
		m.lookups = map[string]int{}
	}
	m.lookups[result]++
}

func (m *countingMetrics) snapshot() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, v := range m.lookups {
		out[k] = v
	}
	return out
}

// TestCacheLookupCountsQuestions checks the one definition of a cache
// miss: a question asked of the cache that then goes upstream. A repeat
// is one hit and no miss.
func TestCacheLookupCountsQuestions(t *testing.T) {
	lab := startLab(t)
	m := &countingMetrics{}
	r := newResolver(t, lab, func(c *resolver.Config) { c.Metrics = m })
	req := resolver.Request{Name: "www.example.org.", Type: dns.TypeA, Class: dns.ClassINET}
	if _, err := r.Query(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	first := m.snapshot()
	if first["miss"] != 1 || first["hit"] != 0 {
		// One question (the client's): the glue is in the referrals.
		t.Errorf("first resolution: lookups %v, want one miss", first)
	}
	if _, err := r.Query(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	second := m.snapshot()
	if diff := cmp.Diff(map[string]int{"miss": first["miss"], "hit": first["hit"] + 1}, second); diff != "" {
		t.Errorf("after a repeat (-want +got):\n%s", diff)
	}
}

func TestErrorReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{resolver.ErrTimeout, "timeout"},
		{resolver.ErrDeadline, "deadline"},
		{resolver.ErrLame, "lame"},
		{resolver.ErrNoAddressFamily, "no_address_family"},
		{fmt.Errorf("%w: %w", resolver.ErrBogus, resolver.ErrMalformed), "bogus"},
		{resolver.ErrSentinel, "sentinel"},
		{fmt.Errorf("%w: %w", resolver.ErrCachedFailure, resolver.ErrNoServers), "no_servers"},
		{fmt.Errorf("%w: %w", resolver.ErrCachedFailure, fmt.Errorf("%w: x", resolver.ErrBogus)), "bogus"},
		{resolver.ErrCachedFailure, "cached_failure"},
		{errors.New("something else"), "other"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			e := &resolver.Error{Err: tt.err}
			if got := e.Reason(); got != tt.want {
				t.Errorf("Reason() of %v = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
