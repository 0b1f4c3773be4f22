package cli

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/ndptrace"
)

// NdpScanCmd is `addrwalk ndp scan`: IPv6 cannot be swept like arp-scan
// sweeps a /24, so it asks the all-nodes group instead.
type NdpScanCmd struct {
	Iface      string     `arg:"" optional:"" name:"iface" help:"Interface (same as -I)."`
	Interface  string     `short:"I" name:"interface" placeholder:"DEV" help:"Use network interface DEV: ff02::1 is per link, so one is needed."`
	Count      int        `short:"r" name:"retry" default:"2" placeholder:"COUNT" help:"Send N echo requests to ff02::1 (arp-scan's retry), default 2."`
	Interval   millisFlag `short:"i" name:"interval" default:"500" placeholder:"MS" help:"Wait MS milliseconds between echo requests, default 500."`
	Timeout    millisFlag `short:"t" name:"timeout" default:"1000" placeholder:"MS" help:"Wait MS milliseconds for replies after the last request, default 1000."`
	Source     string     `short:"s" name:"source" placeholder:"ADDR" help:"IPv6 source of the echoes, one of the interface's addresses (default: its link-local; nodes answer from the address they would use to reach it, so a global source shows global addresses)."`
	Quiet      bool       `short:"q" name:"quiet" help:"Only display minimal output: IP and MAC, no vendor."`
	Plain      bool       `short:"x" name:"plain" help:"Display plain output showing only responding hosts: no header, footer or cache listing."`
	IgnoreDups bool       `short:"g" name:"ignoredups" help:"Don't display duplicate packets (a second reply to a later echo is normal; one from another MAC is not)."`
	NoCache    bool       `name:"no-cache" help:"Do not list the kernel's neighbour cache after the replies."`
	OUIFile    string     `short:"O" name:"ouifile" placeholder:"FILE" help:"Use IEEE registry vendor mapping file FILE (default: arp-scan's or ieee-data's, if installed)."`
	JSON       bool       `name:"json" help:"Print JSON Lines: one object per reply as it arrives (type \"host\"), then one summary (type \"summary\") with the neighbour cache."`
}

// ndpScanHostLine is what the JSON Lines stream says about one reply.
type ndpScanHostLine struct {
	Type string `json:"type"` // "host"
	ndptrace.ScanReply
}

// ndpScanSummaryLine closes the JSON Lines stream.
type ndpScanSummaryLine struct {
	Type string `json:"type"` // "summary"
	*ndptrace.ScanResult
}

// Run scans, printing each reply as it arrives, as arp scan does.
func (c *NdpScanCmd) Run(g *Globals) error {
	iface := c.Interface
	switch {
	case c.Iface != "" && iface != "" && c.Iface != iface:
		return usageErr("ndp scan: interface given twice (%s and -I %s)", c.Iface, iface)
	case iface == "":
		iface = c.Iface
	}
	if iface == "" {
		return usageErr("ndp scan: give the interface (-I DEV): ff02::1 is per link")
	}
	if c.Count < 1 || c.Count > ndptrace.MaxScanCount {
		return usageErr("ndp scan: --retry must be 1..%d", ndptrace.MaxScanCount)
	}
	opts := ndptrace.ScanOptions{Interface: iface, Count: c.Count, Interval: c.Interval.d(), Wait: c.Timeout.d(), NoCache: c.NoCache || c.Plain}
	if c.Source != "" {
		src, err := netip.ParseAddr(c.Source)
		if err != nil || !src.Is6() || src.Is4In6() {
			return usageErr("ndp scan: invalid IPv6 source %s", c.Source)
		}
		opts.Source = src
	}
	oui, err := loadOUI(c.Quiet, c.OUIFile)
	if err != nil {
		return err
	}
	opts.Vendor = oui.Vendor
	w := g.Stdout
	enc := json.NewEncoder(w)
	if !c.JSON && !c.Plain {
		// Announced once the interface is checked and the socket open.
		opts.Ready = func() {
			fmt.Fprintf(w, "Interface: %s, type: EN10MB\n", iface)
			fmt.Fprintf(w, "Starting addrwalk ndp scan: ICMPv6 echo to ff02::1 (all nodes), %d request(s) %s apart, then %s for replies\n",
				opts.Count, arptrace.FormatMillis(opts.Interval), arptrace.FormatMillis(opts.Wait))
		}
	}
	opts.OnReply = func(r ndptrace.ScanReply) {
		switch {
		case c.JSON:
			_ = enc.Encode(ndpScanHostLine{Type: "host", ScanReply: r})
		case r.Dup > 1 && (c.IgnoreDups || !r.Conflict):
			// A later echo's reply from the same MAC is expected; only
			// another MAC for the address is worth a line.
		default:
			line := fmt.Sprintf("%v\t%v", r.IP, r.MAC)
			if !c.Quiet {
				line += "\t" + r.Vendor
				if r.Dup > 1 {
					line += fmt.Sprintf(" (DUP: %d)", r.Dup)
				}
			}
			fmt.Fprintln(w, line)
		}
	}
	res, err := ndptrace.Scan(g.Ctx, opts)
	if err != nil {
		return arpErr(err)
	}
	if c.JSON {
		if err := enc.Encode(ndpScanSummaryLine{Type: "summary", ScanResult: res}); err != nil {
			return withExit(ExitUsage, fmt.Errorf("ndp scan: write json: %w", err))
		}
		return nil
	}
	if c.Plain {
		return nil
	}
	if len(res.CacheOnly) > 0 {
		fmt.Fprintf(w, "\nNeighbour cache entries on %s that did not answer (ip -6 neigh):\n", res.Interface)
		for _, n := range res.CacheOnly {
			mac := "-"
			if n.HasMAC {
				mac = n.MAC.String()
			}
			state := n.State
			if n.Router {
				state += " router"
			}
			fmt.Fprintf(w, "%v\t%s\t%s\n", n.IP, mac, state)
		}
	}
	if res.CacheError != "" {
		fmt.Fprintf(w, "\nneighbour cache: %s\n", res.CacheError)
	}
	fmt.Fprintf(w, "\n%d echo request(s) sent from %v, %d replies received\n", res.Sent, res.Source, res.Received)
	fmt.Fprintf(w, "Ending addrwalk ndp scan: %.3f seconds. %d responded\n", time.Duration(res.Elapsed).Seconds(), res.Responded)
	if res.Cancelled {
		fmt.Fprintln(w, "interrupted")
	}
	return nil
}
