package resolver

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// TestSharedExchange starts one query and joins others to it while the
// fake server holds the reply back, then checks how many queries were
// sent and what each caller got: its own copy, its own ID, and its own
// 0x20 case only when the reply echoed the sender's.
func TestSharedExchange(t *testing.T) {
	type ask struct {
		name  string
		qtype uint16
		caps  bool
	}
	type got struct {
		ID   uint16
		Name string
	}
	tests := []struct {
		name      string
		asks      []ask // the first is sent; the others join or not
		lowerEcho bool  // the server answers in lower case, not the sender's
		wantSent  int32
		want      []got
	}{
		{"same question, no 0x20", []ask{
			{"www.example.org.", dns.TypeA, false}, {"www.example.org.", dns.TypeA, false}, {"www.example.org.", dns.TypeA, false},
		}, false, 1, []got{{1, "www.example.org."}, {2, "www.example.org."}, {3, "www.example.org."}}},
		{"0x20 echoed: each its own case", []ask{
			{"wWw.ExAmple.org.", dns.TypeA, true}, {"WWW.example.ORG.", dns.TypeA, true},
		}, false, 1, []got{{1, "wWw.ExAmple.org."}, {2, "WWW.example.ORG."}}},
		{"0x20 not echoed: joiners see the mismatch too", []ask{
			{"wWw.ExAmple.org.", dns.TypeA, true}, {"WWW.example.ORG.", dns.TypeA, true},
		}, true, 1, []got{{1, "www.example.org."}, {2, "www.example.org."}}},
		{"other type, or 0x20 against none: sent apart", []ask{
			{"www.example.org.", dns.TypeA, false}, {"www.example.org.", dns.TypeAAAA, false}, {"www.example.org.", dns.TypeA, true},
		}, false, 3, []got{{1, "www.example.org."}, {2, "www.example.org."}, {3, "www.example.org."}}},
	}
	server := netip.MustParseAddrPort("127.0.0.1:53")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int32
			release := make(chan struct{})
			r := &Resolver{cfg: Config{Exchanger: ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
				sent.Add(1)
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				m := new(dns.Msg)
				m.SetReply(q)
				if tt.lowerEcho {
					m.Question[0].Name = dns.CanonicalName(m.Question[0].Name)
				}
				return m, nil
			})}}
			ctx := t.Context()
			qs := make([]*dns.Msg, len(tt.asks))
			chs := make([]<-chan singleflight.Result, len(tt.asks))
			for i, a := range tt.asks {
				qs[i] = new(dns.Msg)
				qs[i].SetQuestion(a.name, a.qtype)
				qs[i].Id = uint16(i + 1)
				chs[i] = r.startFlight(ctx, flightKey(qs[i], a.caps, "udp", server), qs[i], "udp", server, 5*time.Second)
			}
			close(release)
			var gots []got
			seen := map[*dns.Msg]bool{}
			for i, ch := range chs {
				m, err := awaitFlight(ctx, ch, qs[i])
				if err != nil {
					t.Fatalf("ask %d: %v", i, err)
				}
				if seen[m] {
					t.Errorf("ask %d got a reply another caller also holds", i)
				}
				seen[m] = true
				gots = append(gots, got{m.Id, m.Question[0].Name})
			}
			if n := sent.Load(); n != tt.wantSent {
				t.Errorf("sent %d queries, want %d", n, tt.wantSent)
			}
			if diff := cmp.Diff(tt.want, gots); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSharedExchangeCallerGivesUp: the request that sent the query
// giving up does not fail a request that joined it.
func TestSharedExchangeCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	r := &Resolver{cfg: Config{Exchanger: ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		m := new(dns.Msg)
		m.SetReply(q)
		return m, nil
	})}}
	server := netip.MustParseAddrPort("127.0.0.1:53")
	q1, q2 := new(dns.Msg), new(dns.Msg)
	q1.SetQuestion("www.example.org.", dns.TypeA)
	q2.SetQuestion("www.example.org.", dns.TypeA)
	ctx1, cancel1 := context.WithCancel(t.Context())
	ch1 := r.startFlight(ctx1, flightKey(q1, false, "udp", server), q1, "udp", server, 5*time.Second)
	ch2 := r.startFlight(t.Context(), flightKey(q2, false, "udp", server), q2, "udp", server, 5*time.Second)
	cancel1()
	if _, err := awaitFlight(ctx1, ch1, q1); err == nil {
		t.Error("the cancelled sender got a reply, want its context's error")
	}
	close(release)
	m, err := awaitFlight(t.Context(), ch2, q2)
	if err != nil {
		t.Fatalf("the joiner failed with the sender: %v", err)
	}
	if m.Id != q2.Id {
		t.Errorf("joiner's reply ID %d, want %d", m.Id, q2.Id)
	}
}

// TestSharedExchangeRetryAfterTimeout: a caller that gave up on a flight
// sends its retry afresh instead of joining the flight it gave up on.
func TestSharedExchangeRetryAfterTimeout(t *testing.T) {
	var retrySent atomic.Bool
	r := &Resolver{cfg: Config{Exchanger: ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
		if q.Id == 1 {
			<-ctx.Done() // the first query is never answered
			return nil, ctx.Err()
		}
		retrySent.Store(true)
		m := new(dns.Msg)
		m.SetReply(q)
		return m, nil
	})}}
	server := netip.MustParseAddrPort("127.0.0.1:53")
	q, retry := new(dns.Msg), new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	retry.SetQuestion("www.example.org.", dns.TypeA)
	q.Id, retry.Id = 1, 2
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.sharedExchange(gone, q, false, "udp", server, 100*time.Millisecond); err == nil {
		t.Fatal("a caller whose context ended got a reply")
	}
	if _, err := r.sharedExchange(t.Context(), retry, false, "udp", server, 5*time.Second); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !retrySent.Load() {
		t.Error("the retry joined the flight it gave up on, want it sent afresh")
	}
}
