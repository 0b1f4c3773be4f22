package resolvertest

import (
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// TestConcurrentQueriesAndFaults runs queries over UDP and TCP against
// several servers while faults change, for the race detector.
func TestConcurrentQueriesAndFaults(t *testing.T) {
	lab := newFixture(t)
	const (
		clients   = 8  // concurrent clients
		perClient = 20 // queries each
	)
	servers := []string{"ns1.example.org.", "ns.org.", "multi.lab."}
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			network := []string{"udp", "tcp"}[i%2]
			c := &dns.Client{Net: network, Timeout: fixtureTimeout}
			for j := range perClient {
				s := lab.Server(servers[(i+j)%len(servers)])
				r, _, err := c.Exchange(query("www.example.org.", dns.TypeA), s.AddrPort().String())
				if err != nil {
					t.Errorf("%s over %s: %v", s.Name(), network, err)
					return
				}
				if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeServerFailure {
					t.Errorf("%s: rcode %s", s.Name(), dns.RcodeToString[r.Rcode])
				}
			}
		})
	}
	wg.Go(func() {
		s := lab.Server("multi.lab.")
		for j := range clients * perClient {
			s.UpdateFaults(func(f *Faults) {
				f.Rcode = []int{dns.RcodeSuccess, dns.RcodeServerFailure}[j%2]
			})
			_ = lab.Queries()
		}
	})
	wg.Wait()
	if n := len(lab.Queries()); n != clients*perClient {
		t.Errorf("logged %d queries, want %d", n, clients*perClient)
	}
}
