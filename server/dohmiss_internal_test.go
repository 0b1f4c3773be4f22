package server

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestDoHMissesUseThePool: DoH misses run on the miss pool's workers
// within the server's pending slots, as UDP's and TCP's do: while slow
// resolutions hold every slot, a packet-cache hit and a name in the
// resolver's cache are answered at once, a new miss gets the overload
// SERVFAIL, and once the resolutions end each held query gets its
// answer; Shutdown leaves no worker.
func TestDoHMissesUseThePool(t *testing.T) {
	res := &gateResolver{release: make(chan struct{}), arrived: make(chan string, 16)}
	h, err := NewHandler(HandlerConfig{Settings: Settings{Resolver: res}, MaxInflight: 16, JostleTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	// One resolution slot's worth of pending slots: pendingPerSlot.
	s, err := New(Config{Handler: h, MaxInflight: 1, MaxPendingPerClient: pendingPerSlot,
		Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDoHHandler(s, "", nil)
	ask := func(name string) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.SetEdns0(1232, false) // room for the Extended DNS Error
		b, err := q.Pack()
		if err != nil {
			t.Error(err)
			return nil
		}
		r := httptest.NewRequest(http.MethodGet, DefaultDoHPath+"?dns="+base64.RawURLEncoding.EncodeToString(b), nil)
		r.RemoteAddr = "127.0.0.1:5353"
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, r)
		m := new(dns.Msg)
		if rec.Code != http.StatusOK || m.Unpack(rec.Body.Bytes()) != nil {
			t.Errorf("%s: HTTP %d, %q", name, rec.Code, rec.Body.Bytes())
			return nil
		}
		return m
	}
	if m := ask("hit.example.org."); m == nil || m.Rcode != dns.RcodeSuccess { // warms the packet cache
		t.Fatalf("warming: %v", m)
	}

	var wg sync.WaitGroup
	held := make([]*dns.Msg, pendingPerSlot)
	for i := range held {
		wg.Go(func() { held[i] = ask(string(rune('a'+i)) + ".slow.example.") })
	}
	for range held {
		<-res.arrived // every slow query is inside a resolution on a worker
	}
	// Each holds a pending slot and a worker (the warming query's worker
	// may not be back to idle yet: at least).
	if q, busy, _ := s.misses.stats(); q != 0 || busy < pendingPerSlot || len(s.pending) != pendingPerSlot {
		t.Errorf("pool: %d queued, %d busy, %d pending slots taken; want 0, at least %d, %d", q, busy, len(s.pending), pendingPerSlot, pendingPerSlot)
	}

	tests := []struct {
		name      string
		qname     string
		wantRcode int
		wantEDE   string
	}{
		{"packet-cache hit", "hit.example.org.", dns.RcodeSuccess, ""},
		{"in the resolver's cache", "cached.example.org.", dns.RcodeSuccess, ""},
		{"a new miss", "new.example.org.", dns.RcodeServerFailure, overloadText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ask(tt.qname)
			if m == nil {
				return
			}
			e := replyEDEText(m)
			if m.Rcode != tt.wantRcode || e != tt.wantEDE {
				t.Errorf("rcode %s EDE %q, want %s %q", dns.RcodeToString[m.Rcode], e, dns.RcodeToString[tt.wantRcode], tt.wantEDE)
			}
		})
	}

	close(res.release)
	wg.Wait()
	var got []string
	for i, m := range held {
		if m == nil || m.Rcode != dns.RcodeSuccess || len(m.Question) != 1 {
			t.Errorf("held query %d: %v, want NOERROR", i, m)
			continue
		}
		got = append(got, m.Question[0].Name)
	}
	if diff := cmp.Diff([]string{"a.slow.example.", "b.slow.example.", "c.slow.example.", "d.slow.example."}, sorted(got)); diff != "" {
		t.Errorf("held misses answered (-want +got):\n%s", diff)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	s.misses.mu.Lock()
	defer s.misses.mu.Unlock()
	if s.misses.workers != 0 || len(s.misses.idle) != 0 {
		t.Errorf("after Shutdown: %d workers, %d idle; want none", s.misses.workers, len(s.misses.idle))
	}
}
