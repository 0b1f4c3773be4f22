package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/server"
)

// gatedRoot is an in-memory root server for one resolver: it answers
// every question authoritatively with an A record, and holds the
// questions for names under slow.org. until its gate opens, announcing
// each on arrived. No socket is involved, so only the reload, not the
// machine's load, decides what the test sees.
func gatedRoot(gate <-chan struct{}, arrived chan<- string) resolver.Exchanger {
	return resolver.ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
		name := q.Question[0].Name
		if strings.HasSuffix(strings.ToLower(name), ".slow.org.") {
			select {
			case arrived <- name:
			default:
			}
			<-gate
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if q.Question[0].Qtype == dns.TypeA {
			rr, err := dns.NewRR(name + " 300 IN A 192.0.2.7")
			if err != nil {
				return nil, err
			}
			m.Answer = append(m.Answer, rr)
		}
		return m, nil
	})
}

// TestReloadUnderLoad swaps the resolver while queries are in flight, as
// serve does on SIGHUP: Reload installs a new resolver (each with its own
// cache, so an old one closing under a query would show), and the old one
// is closed at once, draining what it still answers. Each resolver's root
// holds the questions it gets until the reload after it has begun
// closing it, so every reload finds queries in flight. Every query must
// get its answer: none lost to the swap, none answered SERVFAIL by a
// closed resolver. Resolvers here have in-memory roots: no reload ever
// falls back to the IANA root hints.
func TestReloadUnderLoad(t *testing.T) {
	hints, err := resolver.ParseHints(strings.NewReader(". 3600 IN NS a.root.test.\na.root.test. 3600 IN A 192.0.2.1\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	arrived := make(chan string, 64)
	newGated := func() (*resolver.Resolver, chan struct{}) {
		gate := make(chan struct{})
		r, err := resolver.New(resolver.Config{Hints: hints, Exchanger: gatedRoot(gate, arrived), DisableQNAMEMinimisation: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		return r, gate
	}
	first, gate := newGated()
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: first}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)

	// 4 clients x 20 distinct names: 80 cache misses, enough to overlap
	// every reload below, few enough for a second under -race.
	const clients, perClient, reloads = 4, 20, 8
	var mu sync.Mutex
	rcodes := map[string]int{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				q := pack(t, question(fmt.Sprintf("c%d-q%d.slow.org.", c, i), dns.TypeA))
				rcode := "lost"
				if resp, ok := h.Handle(t.Context(), q, netip.MustParseAddrPort("127.0.0.1:5300"), server.TransportUDP); ok {
					m := new(dns.Msg)
					if err := m.Unpack(resp); err == nil {
						rcode = dns.RcodeToString[m.Rcode]
						if e := ede(m); e != nil {
							rcode += " (" + e.ExtraText + ")"
						}
					}
				}
				mu.Lock()
				rcodes[rcode]++
				mu.Unlock()
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	var closing sync.WaitGroup
	var old []*resolver.Resolver
	swapped := 0
	for range reloads {
		// A question is held by the current resolver's root: it is in
		// flight on the resolver about to be replaced.
		<-arrived
		st := h.Settings()
		prev := st.Resolver.(*resolver.Resolver)
		next, nextGate := newGated()
		st.Resolver = next
		if err := h.Reload(st); err != nil {
			t.Fatal(err)
		}
		swapped++
		old = append(old, prev)
		closing.Add(1)
		go func() {
			defer closing.Done()
			prev.Close()
		}()
		close(gate) // the old resolver's questions go on, and drain
		gate = nextGate
	}
	close(gate)
	<-done
	closing.Wait()

	if diff := cmp.Diff(map[string]int{"NOERROR": clients * perClient}, rcodes); diff != "" {
		t.Errorf("replies during %d reloads (-want +got):\n%s", swapped, diff)
	}
	for i, r := range old {
		if _, err := r.Resolve(t.Context(), "www.example.org.", dns.TypeA); !errors.Is(err, resolver.ErrClosed) {
			t.Errorf("resolver %d after Close: %v, want ErrClosed", i, err)
		}
	}
}

// closedDuringReload is a resolver that a reload replaces between the
// moment a query picks it and the moment it asks: it installs next and
// answers ErrClosed, as a resolver closed by that reload would.
type closedDuringReload struct {
	h    *server.Handler
	next server.Settings
	asks int
}

func (c *closedDuringReload) Query(ctx context.Context, req resolver.Request) (*resolver.Result, error) {
	c.asks++
	if err := c.h.Reload(c.next); err != nil {
		return nil, err
	}
	return nil, &resolver.Error{Name: req.Name, Type: req.Type, Err: resolver.ErrClosed}
}

// TestQueryFollowsReload: a query that picked the old resolver just before
// a reload closed it is put to the new one, not answered SERVFAIL.
func TestQueryFollowsReload(t *testing.T) {
	lab := startLab(t)
	var h *server.Handler
	stale := &closedDuringReload{}
	h = newHandler(t, lab, func(c *server.HandlerConfig) {
		stale.next = c.Settings // the lab resolver newHandler made
		c.Settings.Resolver = stale
	})
	stale.h = h
	r := handle(t, h, "127.0.0.1:5300", pack(t, question("www.example.org.", dns.TypeA)))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || stale.asks != 1 {
		t.Errorf("got %s with %d answers after %d asks of the closed resolver; want NOERROR, 1 answer, 1 ask",
			dns.RcodeToString[r.Rcode], len(r.Answer), stale.asks)
	}
}
