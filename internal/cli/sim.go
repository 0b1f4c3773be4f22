package cli

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/sim"
)

// SimCmd is `addrwalk sim`: the simulated hierarchy as a standalone
// process, for other resolvers and dig.
type SimCmd struct {
	Port      uint16  `default:"53" placeholder:"PORT" help:"Port every simulated server listens on (53 needs root or CAP_NET_BIND_SERVICE)."`
	Hints     string  `default:"sim-root.hints" placeholder:"FILE" help:"Where to write the root hints file for other resolvers."`
	Anchor    string  `default:"sim-root.ds" placeholder:"FILE" help:"Where to write the trust anchor (the signed root's DS) for validating resolvers."`
	NoLatency bool    `name:"no-latency" help:"Turn off the simulated network latency."`
	Latency   float64 `name:"latency-scale" default:"1" placeholder:"FACTOR" help:"Multiply every server's simulated latency."`
	Quiet     bool    `help:"Do not print the server table."`
}

// Run serves until interrupted.
func (c *SimCmd) Run(g *Globals) error {
	// Written once the servers listen: checked before they start.
	if err := checkOutput("--hints", c.Hints); err != nil {
		return err
	}
	if err := checkOutput("--anchor", c.Anchor); err != nil {
		return err
	}
	lab, err := sim.New(sim.Config{Port: c.Port, NoLatency: c.NoLatency, LatencyScale: c.Latency})
	if err != nil {
		return err
	}
	if err := lab.Start(g.Ctx); err != nil {
		return listenErr(fmt.Errorf("sim: %w", err))
	}
	defer lab.Close()
	if err := os.WriteFile(c.Hints, []byte(lab.RootHints()), 0o644); err != nil {
		return fileerr.Write("--hints", c.Hints, err)
	}
	if err := os.WriteFile(c.Anchor, []byte(lab.TrustAnchor()), 0o644); err != nil {
		return fileerr.Write("--anchor", c.Anchor, err)
	}
	if !c.Quiet {
		addrs := lab.Addrs()
		names := make([]string, 0, len(addrs))
		for n := range addrs {
			names = append(names, n)
		}
		sort.Strings(names)
		tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVER\tADDRESS\tZONES")
		for _, n := range names {
			fmt.Fprintf(tw, "%s\t%s\t%v\n", n, addrs[n], lab.Server(n).Zones())
		}
		tw.Flush()
	}
	fmt.Fprintf(g.Stdout, "serving %d servers on port %d; root hints in %s, trust anchor in %s; Ctrl-C stops\n", len(lab.Servers()), lab.Port(), c.Hints, c.Anchor)
	fmt.Fprintf(g.Stdout, "try: dig @%s -p %d www.example.org A +norec\n", firstRoot(lab.RootHints()), lab.Port())
	waitDone(g.Ctx)
	return nil
}

// firstRoot returns the first A address in a hints file.
func firstRoot(hints string) string {
	for _, line := range strings.Split(hints, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[len(f)-2] == "A" {
			return f[len(f)-1]
		}
	}
	return "127.0.0.1"
}
