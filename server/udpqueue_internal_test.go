package server

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// queueResolver answers every name with 192.0.2.1; from its cache alone
// (CacheOnly) it has only "cached.example.org.". It records the names it
// was asked to resolve.
type queueResolver struct {
	mu       sync.Mutex // guards resolved
	resolved []string
}

func (r *queueResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	if req.CacheOnly && req.Name != "cached.example.org." {
		return nil, errors.New("not in the cache")
	}
	if !req.CacheOnly {
		r.mu.Lock()
		r.resolved = append(r.resolved, req.Name)
		r.mu.Unlock()
	}
	a, err := dns.NewRR(req.Name + " 300 IN A 192.0.2.1")
	if err != nil {
		return nil, err
	}
	return &resolver.Result{Name: req.Name, Type: req.Type, Class: req.Class, Answer: []dns.RR{a}}, nil
}

// TestLateQueries: a query that waited past maxUDPQueueDelay in the
// listener's queue is answered when no resolution is needed (packet
// cache, resolver cache) and shed otherwise, SERVFAIL "backlog", without
// starting a resolution; a query on time starts one.
func TestLateQueries(t *testing.T) {
	res := &queueResolver{}
	h, err := NewHandler(HandlerConfig{Settings: Settings{Resolver: res}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	s, err := New(Config{Handler: h, Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}})
	if err != nil {
		t.Fatal(err)
	}
	// The server's socket (the resolution's reply goes out on it) and
	// the client's, where that reply arrives.
	srv, cli, client := loopbackUDP(t)

	ask := func(name string, late bool) (rcode int, answers int, ede string) {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.SetEdns0(1232, false)
		req, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		since := now
		if late {
			since = now.Add(-2 * maxUDPQueueDelay)
		}
		out, send := s.udpQuery(srv, nil, req, client, since, now)
		if !send {
			// A resolution started: its reply comes to the client.
			_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4096)
			n, err := cli.Read(buf)
			if err != nil {
				t.Fatalf("%s: no reply from the resolution: %v", name, err)
			}
			out = buf[:n]
		}
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if opt := m.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if e, ok := o.(*dns.EDNS0_EDE); ok {
					ede = e.ExtraText
				}
			}
		}
		return m.Rcode, len(m.Answer), ede
	}
	// Warm the packet cache: on time, resolved.
	if rc, n, _ := ask("hit.example.org.", false); rc != dns.RcodeSuccess || n != 1 {
		t.Fatalf("warming: rcode %s, %d answers", dns.RcodeToString[rc], n)
	}
	tests := []struct {
		name      string
		qname     string
		late      bool
		wantRcode int
		wantEDE   string
	}{
		{"late, packet-cache hit: answered", "hit.example.org.", true, dns.RcodeSuccess, ""},
		{"late, in the resolver's cache: answered from it", "cached.example.org.", true, dns.RcodeSuccess, ""},
		{"late, a miss: shed", "miss.example.org.", true, dns.RcodeServerFailure, overloadText},
		{"on time, a miss: resolved", "fresh.example.org.", false, dns.RcodeSuccess, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, e := ask(tt.qname, tt.late)
			if rc != tt.wantRcode || e != tt.wantEDE {
				t.Errorf("rcode %s EDE %q, want %s %q", dns.RcodeToString[rc], e, dns.RcodeToString[tt.wantRcode], tt.wantEDE)
			}
		})
	}
	s.wg.Wait() // the resolutions' goroutines
	res.mu.Lock()
	defer res.mu.Unlock()
	if diff := cmp.Diff([]string{"hit.example.org.", "fresh.example.org."}, res.resolved); diff != "" {
		t.Errorf("names resolved (-want +got):\n%s", diff)
	}
}

// TestLate is the queue-delay rule: past maxUDPQueueDelay, and never
// without the kernel's stamp.
func TestLate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	tests := []struct {
		name    string
		waited  time.Duration
		stamped bool
		want    bool
	}{
		{"no wait", 0, true, false},
		{"at the bound", maxUDPQueueDelay, true, false},
		{"past the bound", maxUDPQueueDelay + time.Millisecond, true, true},
		{"no stamp", time.Hour, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rx time.Time // zero: no stamp
			if tt.stamped {
				rx = now.Add(-tt.waited)
			}
			if got := late(rx, now); got != tt.want {
				t.Errorf("late = %v, want %v", got, tt.want)
			}
		})
	}
}
