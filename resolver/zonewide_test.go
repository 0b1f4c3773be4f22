package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
)

// floodNames is how many random-subdomain names each case asks: enough
// that one entry per name would stand out against the none wanted.
const floodNames = 50

// TestZoneWideFailureNotKeptPerName: a failure of the whole zone (its
// servers held down after timeouts, its query budget spent, every server
// at its outstanding cap: nothing sent for the question) is not
// kept in the failure cache per name, so a random-subdomain flood under a
// dead zone leaves nothing behind; the zone's record still fails every
// name at once without a query, a name asked again included. A server
// that timed out for one question, with the zone not held down, is still
// remembered per name (RFC 9520 §3.2).
func TestZoneWideFailureNotKeptPerName(t *testing.T) {
	servers := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53")}
	tests := []struct {
		name string
		// setup returns the resolver and a count of its exchanges.
		setup   func(t *testing.T) (*resolver.Resolver, func() int64)
		names   int // different names asked
		wantErr error
		// The failure cache's entries after the flood, and whether the
		// repeat of the first name came from it.
		wantEntries int
		wantCached  bool
		// exchanges the flood and the repeat cost in all
		wantExchanges int64
	}{
		{
			name: "zone held down",
			setup: func(t *testing.T) (*resolver.Resolver, func() int64) {
				clk := newFakeClock()
				infra, err := cache.NewInfra(&cache.InfraConfig{Now: clk.Now})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(infra.Close)
				for range 9 { // nine timeouts take the RTO to MaxRTO (TestDeadZoneHoldDown)
					infra.RecordTimeout(servers[0].Addr(), "example.org.")
				}
				d := &deadExchanger{}
				return stubResolver(t, resolver.Config{Exchanger: d, Now: clk.Now, Infra: infra}, servers...), d.calls.Load
			},
			names:         floodNames,
			wantErr:       resolver.ErrHeldDown,
			wantExchanges: 1, // the first name is the zone's one probe
		},
		{
			name: "zone over its rate limit",
			setup: func(t *testing.T) (*resolver.Resolver, func() int64) {
				g := &gateExchanger{started: make(chan struct{}, 1)}
				r := stubResolver(t, resolver.Config{Exchanger: g, Now: newFakeClock().Now,
					Hardening: resolver.Hardening{ZoneRateLimit: 1}}, servers...)
				if _, err := r.Resolve(t.Context(), "spent.example.org.", dns.TypeA); err != nil {
					t.Fatalf("the question that spends the budget: %v", err)
				}
				return r, func() int64 { return g.calls.Load() - 1 }
			},
			names:   floodNames,
			wantErr: resolver.ErrRateLimited,
		},
		{
			name: "every server at its outstanding cap",
			setup: func(t *testing.T) (*resolver.Resolver, func() int64) {
				g := &gateExchanger{hold: 1, started: make(chan struct{}, 1), release: make(chan struct{})}
				r := stubResolver(t, resolver.Config{Exchanger: g, Now: newFakeClock().Now,
					Hardening: resolver.Hardening{MaxOutstandingPerServer: 1}}, servers...)
				var wg sync.WaitGroup
				wg.Go(func() {
					if _, err := r.Resolve(context.Background(), "held.example.org.", dns.TypeA); err != nil {
						t.Errorf("the question holding the slot: %v", err)
					}
				})
				t.Cleanup(func() { close(g.release); wg.Wait() })
				<-g.started
				return r, func() int64 { return g.calls.Load() - 1 }
			},
			names:   floodNames,
			wantErr: resolver.ErrNoServers,
		},
		{
			name: "server timed out, zone not held down",
			setup: func(t *testing.T) (*resolver.Resolver, func() int64) {
				d := &deadExchanger{}
				return stubResolver(t, resolver.Config{Exchanger: d, Now: newFakeClock().Now}, servers...), d.calls.Load
			},
			// Two: each costs two timeouts, and a few more hold the
			// zone down.
			names:       2,
			wantErr:     resolver.ErrNoServers,
			wantEntries: 2,
			wantCached:  true,
			// Two rounds per name (MaxServerRounds), none for the repeat.
			wantExchanges: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, exchanges := tt.setup(t)
			for i := range tt.names {
				name := fmt.Sprintf("%08x.example.org.", i)
				if _, err := r.Resolve(t.Context(), name, dns.TypeA); !errors.Is(err, tt.wantErr) {
					t.Fatalf("%s: %v, want %v", name, err, tt.wantErr)
				}
			}
			_, err := r.Resolve(t.Context(), "00000000.example.org.", dns.TypeA)
			var e *resolver.Error
			if !errors.As(err, &e) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("repeat: %v, want %v", err, tt.wantErr)
			}
			type outcome struct {
				Entries   int
				Cached    bool
				Kept      bool // RetryAfter set: a server may keep the SERVFAIL
				Exchanges int64
			}
			got := outcome{failureEntries(r), errors.Is(err, resolver.ErrCachedFailure), e.RetryAfter > 0, exchanges()}
			want := outcome{tt.wantEntries, tt.wantCached, tt.wantCached, tt.wantExchanges}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// failureEntries is the failure cache's entry count.
func failureEntries(r *resolver.Resolver) int {
	for _, p := range r.CacheStats().Parts {
		if p.Part == cache.PartFailure {
			return p.Entries
		}
	}
	return -1
}
