package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// DemoCmd is `addrwalk demo [NAME [TYPE]]`.
type DemoCmd struct {
	Name      string `arg:"" optional:"" help:"Name to resolve, or the ID of a built-in example (see --list). Default: www.example.org."`
	Type      string `arg:"" optional:"" help:"Record type (default: the example's, else A)."`
	List      bool   `help:"List the built-in examples and exit."`
	All       bool   `help:"Walk every built-in example in turn."`
	NoLatency bool   `name:"no-latency" help:"Turn off the simulated network latency."`
	JSON      bool   `name:"json" help:"Print the result and trace as JSON instead."`
	Short     bool   `help:"Print only the answer data (the CNAME chain, then the records), as dig +short."`
	NoQmin    bool   `name:"no-qmin" help:"Send the full name to every server (no QNAME minimisation)."`
	ShowInfra bool   `name:"show-infra" help:"After the walk, print the server-selection table."`
	DNSSEC    bool   `name:"dnssec" help:"Validate with the simulated root's key, print the answer's RRSIGs and the chain of trust."`
	PictureFlags
}

// Run starts the simulated internet in process and resolves against it.
func (c *DemoCmd) Run(g *Globals) error {
	if c.List {
		tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTYPE\tWHAT IT SHOWS")
		for _, ex := range sim.Examples() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ex.ID, ex.Name, dns.TypeToString[ex.Type], ex.What)
		}
		return tw.Flush()
	}
	if err := c.PictureFlags.check(); err != nil {
		return err
	}
	lab, err := sim.New(sim.Config{NoLatency: c.NoLatency})
	if err != nil {
		return err
	}
	if err := lab.Start(g.Ctx); err != nil {
		return fmt.Errorf("demo: starting the simulated internet: %w", err)
	}
	defer lab.Close()
	r, err := labResolver(lab, c.NoQmin, c.DNSSEC)
	if err != nil {
		return err
	}
	defer r.Close()

	var todo []sim.Example
	switch {
	case c.All:
		todo = sim.Examples()
	default:
		ex, err := pickExample(c.Name, c.Type)
		if err != nil {
			return err
		}
		todo = []sim.Example{ex}
	}
	quiet := c.JSON || c.Short
	if !quiet {
		fmt.Fprintf(g.Stdout, ";; simulated internet: %d servers on 127.x addresses, port %d, %s\n",
			len(lab.Servers()), lab.Port(), latencyNote(c.NoLatency))
	}
	var failed error
	pics := newPictures(c.PictureFlags)
	for i, ex := range todo {
		if !quiet {
			if i > 0 {
				fmt.Fprintln(g.Stdout)
			}
			if ex.What != "" {
				fmt.Fprintf(g.Stdout, ";; example %q: %s\n", ex.ID, ex.What)
			}
		}
		err := runResolution(g, r, ex.Name, ex.Type, OutputFlags{Trace: !quiet, JSON: c.JSON, Short: c.Short, ShowInfra: c.ShowInfra && i == len(todo)-1, DNSSEC: c.DNSSEC, pics: pics})
		if err != nil && failed == nil {
			failed = err
		}
	}
	if err := pics.write("addrwalk demo: walks on the simulated internet"); err != nil {
		return err
	}
	return failed
}

func latencyNote(off bool) string {
	if off {
		return "no simulated latency"
	}
	return "with simulated latency per server"
}

// pickExample resolves the demo's NAME argument: empty means the default
// example, an example ID means that example, anything else is a name.
func pickExample(name, typ string) (sim.Example, error) {
	exs := sim.Examples()
	ex := exs[0]
	switch {
	case name == "":
	default:
		found := false
		for _, e := range exs {
			if e.ID == name {
				ex, found = e, true
				break
			}
		}
		if !found {
			ex = sim.Example{ID: "custom", Name: name, Type: dns.TypeA}
		}
	}
	if typ != "" || ex.ID == "custom" {
		if typ == "" {
			typ = "A"
		}
		n, t, err := parseQuestion(ex.Name, typ)
		if err != nil {
			return ex, err
		}
		ex.Name, ex.Type = n, t
	}
	return ex, nil
}

// labResolver returns a resolver that starts from the lab's root servers,
// validating with the lab's root key when asked.
func labResolver(lab *resolvertest.Lab, noQmin, validate bool) (*resolver.Resolver, error) {
	cfg, err := labresolver.Config(lab)
	if err != nil {
		return nil, err
	}
	cfg.DisableQNAMEMinimisation = noQmin
	if validate {
		if cfg.TrustAnchors, err = dnssec.ParseAnchors(lab.TrustAnchor()); err != nil {
			return nil, err
		}
	}
	return resolver.New(cfg)
}

// waitDone blocks until ctx ends.
func waitDone(ctx context.Context) { <-ctx.Done() }
