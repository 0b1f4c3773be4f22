package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
)

// ArpCmd groups the ARP subcommands; a bare `arp IP` runs the probe.
type ArpCmd struct {
	Probe ArpProbeCmd `cmd:"" default:"withargs" help:"Trace how IP becomes a MAC: route, neighbour cache, ARP on the wire, cache after, like arping (the default: 'addrwalk arp IP')."`
	Cache ArpCacheCmd `cmd:"" help:"Show the kernel neighbour (ARP) table, like 'ip -4 neigh'."`
	Scan  ArpScanCmd  `cmd:"" help:"Find the hosts of an IPv4 prefix with ARP, like arp-scan."`
	Watch ArpWatchCmd `cmd:"" help:"Watch ARP traffic and report new stations, changed MACs and conflicts, like arpwatch."`
}

// arpErr maps library errors to exit statuses: setup problems (bad
// address, interface, permission) are usage errors, as in arping.
func arpErr(err error) error {
	switch {
	case errors.Is(err, arptrace.ErrPermission), errors.Is(err, arptrace.ErrInterface),
		errors.Is(err, arptrace.ErrInvalidAddress), errors.Is(err, arptrace.ErrNotSupported),
		errors.Is(err, arptrace.ErrTooLarge):
		return withExit(ExitUsage, err)
	}
	return withExit(ExitFailure, err)
}

func arpWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("arp: write json: %w", err)
	}
	return nil
}

func arpAgo(d time.Duration) string {
	if d < 0 {
		return "?"
	}
	return d.Round(10*time.Millisecond).String() + " ago"
}

func arpDescribeNeighbour(n arptrace.Neighbour) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v dev %s", n.IP, n.Interface)
	if n.HasMAC {
		fmt.Fprintf(&b, " lladdr %v", n.MAC)
	}
	if n.Router {
		b.WriteString(" router")
	}
	fmt.Fprintf(&b, " %s", n.State)
	if n.Updated >= 0 {
		fmt.Fprintf(&b, " (updated %s, confirmed %s, used %s)", arpAgo(n.Updated), arpAgo(n.Confirmed), arpAgo(n.Used))
	}
	return b.String()
}

// arpKindLabel prefixes the unusual kinds (probe, gratuitous) to a line.
func arpKindLabel(k arptrace.Kind) string {
	if k == arptrace.KindRequest || k == arptrace.KindReply {
		return ""
	}
	return string(k) + " "
}

// ArpCacheCmd is `addrwalk arp cache`.
type ArpCacheCmd struct {
	Interface string `short:"i" help:"Only this interface."`
	JSON      bool   `name:"json" help:"Print JSON."`
}

// Run prints the kernel neighbour table.
func (c *ArpCacheCmd) Run(g *Globals) error {
	ns, err := arptrace.Neighbours(g.Ctx, c.Interface)
	if err != nil {
		return arpErr(err)
	}
	if c.JSON {
		if ns == nil {
			ns = []arptrace.Neighbour{}
		}
		return arpWriteJSON(g.Stdout, ns)
	}
	for _, n := range ns {
		fmt.Fprintln(g.Stdout, arpDescribeNeighbour(n))
	}
	return nil
}
