package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/server"
)

// TestReloadUnderLoad swaps the resolver while queries are in flight, as
// serve does on SIGHUP: Reload installs a new resolver (each with its own
// cache, so an old one closing under a query would show), and the old one
// is closed at once, draining what it still answers. Every query must get
// its NXDOMAIN: none lost to the swap, none answered SERVFAIL by a closed
// resolver. The lab is the test's own; no reload here ever falls back to
// the IANA root hints.
func TestReloadUnderLoad(t *testing.T) {
	lab := startLab(t)
	// Slow enough that queries are in flight when a reload comes.
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(20 * time.Millisecond))
	h := newHandler(t, lab, nil)
	addr := startServer(t, h, nil).Addrs()[0]

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
			cl := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
			for i := range perClient {
				r, _, err := cl.Exchange(question(fmt.Sprintf("c%d-q%d.slow.org.", c, i), dns.TypeA), addr.String())
				rcode := "lost"
				if err == nil {
					rcode = dns.RcodeToString[r.Rcode]
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
reload:
	for range reloads {
		// Reload right after a query reached the slow server: it is in
		// flight on the resolver about to be replaced.
		select {
		case <-lab.arrived:
		case <-done:
			break reload
		}
		st := h.Settings()
		prev := st.Resolver.(*resolver.Resolver)
		st.Resolver = newResolver(t, lab, nil)
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
	}
	<-done
	closing.Wait()

	if diff := cmp.Diff(map[string]int{"NXDOMAIN": clients * perClient}, rcodes); diff != "" {
		t.Errorf("replies during %d reloads (-want +got):\n%s", swapped, diff)
	}
	if swapped == 0 {
		t.Errorf("no reload happened while queries were in flight")
	}
	for i, r := range old {
		if _, err := r.Resolve(t.Context(), "www.example.org.", dns.TypeA); err == nil {
			t.Errorf("resolver %d answers after Close", i)
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
