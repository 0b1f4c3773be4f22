package resolver_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/resolver"
)

// Example resolves a name on the built-in simulated internet and prints
// the zone cuts the walk went through.
func Example() {
	ctx := context.Background()
	lab, err := sim.New(sim.Config{NoLatency: true})
	if err != nil {
		panic(err)
	}
	if err := lab.Start(ctx); err != nil {
		panic(err)
	}
	defer lab.Close()
	hints, _ := resolver.ParseHints(strings.NewReader(lab.RootHints()), "sim")
	r, err := resolver.New(resolver.Config{Hints: hints, Port: lab.Port(), AllowLoopback: true})
	if err != nil {
		panic(err)
	}
	defer r.Close()

	res, err := r.Query(ctx, resolver.Request{Name: "alias.example.org.", Type: dns.TypeA, Trace: true})
	if err != nil {
		panic(err)
	}
	for _, s := range res.Trace.Steps {
		if s.Kind == resolver.EventQuery {
			fmt.Printf("%-13s asked for %s %s: %s\n", s.Zone, s.Name, s.Type, s.Outcome)
		}
	}
	for _, rr := range res.Answer {
		fmt.Println(strings.ReplaceAll(rr.String(), "\t", " "))
	}
	// Output:
	// .             asked for org. NS: referral
	// org.          asked for example.org. NS: referral
	// example.org.  asked for alias.example.org. A: cname
	// .             asked for com. NS: referral
	// com.          asked for example.com. NS: referral
	// example.com.  asked for www.example.com. A: answer
	// alias.example.org. 3600 IN CNAME www.example.com.
	// www.example.com. 3600 IN A 198.51.100.20
}
