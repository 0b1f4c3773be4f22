package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
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

// arpErr maps library errors to exit statuses: every error is arping's
// 2 (setup problems such as a bad address, interface or permission, and
// failures such as no route), since 1 means only "no reply".
func arpErr(err error) error {
	return withExit(ExitUsage, err)
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
	if a := n.Ages; a != nil {
		fmt.Fprintf(&b, " (updated %s, confirmed %s, used %s)", arpAgo(time.Duration(a.Updated)),
			arpAgo(time.Duration(a.Confirmed)), arpAgo(time.Duration(a.Used)))
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
	Interface string `short:"i" name:"interface" placeholder:"DEV" help:"Only this interface (ip neigh's dev)."`
	All       bool   `name:"all" help:"Show every entry, as 'ip neigh show nud all': also NOARP ones (such as 0.0.0.0 dev lo) and those in state NONE."`
	JSON      bool   `name:"json" help:"Print JSON (durations in ms)."`
}

// Run prints the kernel's IPv4 neighbour table.
func (c *ArpCacheCmd) Run(g *Globals) error {
	return neighCache(g, arptrace.Neighbours, c.Interface, c.All, c.JSON)
}

// neighCache prints a neighbour table as `ip neigh` does (the entry, then
// its ages in parentheses), hiding NOARP and NONE entries unless all.
func neighCache(g *Globals, list func(context.Context, string) ([]arptrace.Neighbour, error), iface string, all, asJSON bool) error {
	ns, err := list(g.Ctx, iface)
	if err != nil {
		return arpErr(err)
	}
	if !all {
		ns = slices.DeleteFunc(ns, func(n arptrace.Neighbour) bool { return !n.Visible() })
	}
	if asJSON {
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
