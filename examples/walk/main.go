// Command walk is a first program with the resolver library: it starts
// addrwalk's simulated internet in-process (no network needed), resolves
// a name iteratively from the simulated root, and prints each step as it
// happens.
//
//	go run ./examples/walk [NAME [TYPE]]
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/resolver"
)

func main() {
	name, qtype := "www.example.org.", dns.TypeA
	if len(os.Args) > 1 {
		name = dns.Fqdn(os.Args[1])
	}
	if len(os.Args) > 2 {
		t, ok := dns.StringToType[strings.ToUpper(os.Args[2])]
		if !ok {
			fmt.Fprintf(os.Stderr, "walk: unknown type %q\n", os.Args[2])
			os.Exit(2)
		}
		qtype = t
	}
	if err := run(context.Background(), name, qtype); err != nil {
		fmt.Fprintln(os.Stderr, "walk:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, name string, qtype uint16) error {
	// The simulated internet: root, TLD and leaf servers on 127.x.
	lab, err := sim.New(sim.Config{NoLatency: true})
	if err != nil {
		return err
	}
	if err := lab.Start(ctx); err != nil {
		return err
	}
	defer lab.Close()

	// A resolver that starts from the simulated root instead of the
	// real one, and may talk to loopback servers.
	hints, err := resolver.ParseHints(strings.NewReader(lab.RootHints()), "sim")
	if err != nil {
		return err
	}
	r, err := resolver.New(resolver.Config{Hints: hints, Port: lab.Port(), AllowLoopback: true})
	if err != nil {
		return err
	}
	defer r.Close()

	// Watch the walk as it happens.
	show := resolver.ObserverFunc(func(e resolver.Event) {
		indent := strings.Repeat("  ", e.Depth)
		switch e.Kind {
		case resolver.EventQuery:
			fmt.Printf("%sask %s (%s) about %s %s, as a server for %s: %s\n",
				indent, e.Server, e.Addr.Addr(), e.Name, e.Type, e.Zone, e.Detail)
		case resolver.EventSubBegin:
			fmt.Printf("%s%s\n", indent, e.Detail)
		case resolver.EventRestart:
			fmt.Printf("%s%s\n", indent, e.Detail)
		}
	})
	res, err := r.Query(ctx, resolver.Request{Name: name, Type: qtype, Observer: show})
	if err != nil {
		return err
	}
	fmt.Printf("\n%s after %d upstream queries:\n", dns.RcodeToString[res.Rcode], res.Upstream)
	for _, rr := range res.Answer {
		fmt.Println(rr)
	}
	return nil
}
