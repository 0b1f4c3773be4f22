package cli

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/ndptrace"
)

// NdpCmd groups the IPv6 neighbour discovery subcommands; a bare `ndp
// IPV6` runs the solicitation trace.
type NdpCmd struct {
	Probe NdpProbeCmd `cmd:"" default:"withargs" help:"Trace how an IPv6 address becomes a MAC: route, neighbour cache (NUD state), Neighbor Solicitation to the solicited-node multicast address and the Neighbor Advertisement (R/S/O flags, target link-layer address), like ndisc6."`
	Cache NdpCacheCmd `cmd:"" help:"Show the kernel's IPv6 neighbour table, like 'ip -6 neigh'."`
	Scan  NdpScanCmd  `cmd:"" help:"List the IPv6 nodes on a link, like arp-scan: an ICMPv6 echo to ff02::1 (all nodes; a /64 cannot be swept), each answer with its MAC as it arrives, then the neighbour cache."`
}

// NdpProbeCmd is `addrwalk ndp DESTINATION [IFACE]`, with ndisc6's options.
type NdpProbeCmd struct {
	Destination string     `arg:"" help:"IPv6 address or host name (resolved with the system resolver, AAAA)."`
	Iface       string     `arg:"" optional:"" name:"iface" help:"Interface, as ndisc6's second argument (same as -I)."`
	Interface   string     `short:"I" name:"interface" placeholder:"DEV" help:"Interface to solicit on (default: the route's; required for link-local targets)."`
	Attempts    int        `short:"r" name:"retry" default:"3" placeholder:"COUNT" help:"Maximum number of attempts (ndisc6 -r), default 3."`
	Wait        millisFlag `short:"w" name:"wait" default:"1000" placeholder:"MS" help:"How long to wait for a reply to each attempt, in milliseconds (ndisc6's unit), default 1000."`
	Multiple    bool       `short:"m" name:"multiple" help:"Wait and display all advertisements, not only the first (ndisc6 -m)."`
	DAD         bool       `short:"D" name:"dad" help:"Duplicate address detection (RFC 4862): solicit from :: without a source link-layer option; exit 1 if the address is in use, 0 if free."`
	Source      string     `short:"s" name:"source" placeholder:"ADDR" help:"IPv6 source address of the solicitations (default: the route's, else the interface's link-local)."`
	Quiet       bool       `short:"q" name:"quiet" help:"Only print the link-layer address (ndisc6 -q)."`
	NoCache     bool       `name:"no-cache" help:"Skip the neighbour cache lookups."`
	JSON        bool       `name:"json" help:"Print the whole trace as one JSON document."`
	PictureFlags
}

// Run traces the address. Exit status: 0 advertised (DAD: free), 1 no
// advertisement (DAD: in use), 2 usage, interface or permission errors.
func (c *NdpProbeCmd) Run(g *Globals) error {
	if c.Iface != "" && c.Interface != "" && c.Iface != c.Interface {
		return usageErr("ndp: interface given twice (%s and -I %s)", c.Iface, c.Interface)
	}
	if c.Attempts < 1 || c.Attempts > ndptrace.MaxAttempts {
		return usageErr("ndp: -r must be 1..%d", ndptrace.MaxAttempts)
	}
	if err := c.PictureFlags.check(); err != nil {
		return err
	}
	opts := ndptrace.Options{Interface: c.Interface, Attempts: c.Attempts, Wait: c.Wait.d(), Multiple: c.Multiple,
		DAD: c.DAD, NoCache: c.NoCache}
	if opts.Interface == "" {
		opts.Interface = c.Iface
	}
	if c.Source != "" {
		src, err := netip.ParseAddr(c.Source)
		if err != nil || !src.Is6() {
			return usageErr("ndp: invalid source %s", c.Source)
		}
		opts.Source = src
	}
	ip, host, err := ndpResolveTarget(g, c.Destination)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	// A zone names the link (fe80::1%eth0, as ping takes it): it is the
	// interface, not a part of the address to drop.
	if z := ip.Zone(); z != "" {
		if opts.Interface != "" && opts.Interface != z {
			return usageErr("ndp: %s is on link %s, but the interface given is %s", c.Destination, z, opts.Interface)
		}
		opts.Interface = z
	}
	tr, err := ndptrace.Solicit(g.Ctx, ip, opts)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	tr.Host = host
	if err := c.writeNDP(tr); err != nil {
		return withExit(ExitUsage, err)
	}
	switch {
	case c.JSON:
		if err := arpWriteJSON(g.Stdout, tr); err != nil {
			return withExit(ExitUsage, err)
		}
	case c.Quiet:
		for _, m := range tr.Summary.MACs {
			fmt.Fprintln(g.Stdout, arpHex(m))
		}
	default:
		ndpPrintTrace(g.Stdout, tr)
	}
	switch {
	case tr.Mode == "dad" && tr.Summary.InUse, tr.Mode != "dad" && tr.Summary.Received == 0:
		return withExit(ExitNoReply, nil)
	}
	return nil
}

func ndpResolveTarget(g *Globals, target string) (netip.Addr, string, error) {
	if ip, err := netip.ParseAddr(target); err == nil {
		if !ip.Is6() || ip.Is4In6() {
			return netip.Addr{}, "", fmt.Errorf("ndp: %s is IPv4: use 'addrwalk arp %s'", target, target)
		}
		return ip, "", nil
	}
	if arptrace.NotAHostName(target) {
		return netip.Addr{}, "", fmt.Errorf("ndp: %q is not an IPv6 address (like 2001:db8::1) or a host name", target)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(g.Ctx, "ip6", target)
	if err != nil {
		return netip.Addr{}, "", fmt.Errorf("ndp: %w", arptrace.HostLookupError(target, err))
	}
	if len(addrs) == 0 {
		return netip.Addr{}, "", fmt.Errorf("ndp: host %q has no IPv6 address", target)
	}
	return addrs[0], target, nil
}

// ndpPrintTrace prints a trace: ndisc6's result lines verbatim, and the
// steps between them indented, as `addrwalk arp` does for arping.
func ndpPrintTrace(w io.Writer, tr *ndptrace.Trace) {
	fmt.Fprintf(w, "Soliciting %v (%v) on %s...\n", tr.Target, tr.Target, tr.Interface)
	if tr.Host != "" {
		fmt.Fprintf(w, "  name: %s is %v (system resolver, AAAA)\n", tr.Host, tr.Target)
	}
	switch r := tr.Route; {
	case r == nil && tr.RouteError != "":
		fmt.Fprintf(w, "  route: none (%s); using %s\n", tr.RouteError, tr.Interface)
	case r == nil:
	case r.OnLink:
		fmt.Fprintf(w, "  route: %v is on-link on %s (index %d), source %v\n", r.Destination, r.Interface, r.Index, r.Source)
	default:
		fmt.Fprintf(w, "  route: %v is off-link: via gateway %v on %s (index %d), source %v\n", r.Destination, r.Gateway, r.Interface, r.Index, r.Source)
	}
	for _, n := range tr.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	arpPrintCache(w, "before", tr.Target, tr.Interface, tr.Before)
	for _, p := range tr.Probes {
		s := p.Sent
		opt := "no SLLA (DAD)"
		if !s.LLAddr.IsZero() {
			opt = "SLLA " + s.LLAddr.String()
		}
		fmt.Fprintf(w, "  -> #%d NS who-has %v  [eth %v > %v; ip %v > %v (solicited-node); %s] at +%s\n",
			p.Seq, s.Target, s.EthSrc, s.EthDst, s.Src, s.Dst, opt, p.Offset)
		if len(p.Replies) == 0 {
			fmt.Fprintf(w, "  <- #%d no advertisement\n", p.Seq)
		}
		for _, r := range p.Replies {
			f := r.Frame
			tlla := "no TLLA"
			if !f.LLAddr.IsZero() {
				tlla = "TLLA " + f.LLAddr.String()
			}
			fmt.Fprintf(w, "  <- #%d NA %v is-at %v  flags %s, %s  [eth %v > %v; ip %v > %v] %s\n",
				p.Seq, f.Target, f.LLAddr, f.Flags(), tlla, f.EthSrc, f.EthDst, f.Src, f.Dst, r.RTT)
			fmt.Fprintf(w, "Target link-layer address: %s\n from %v\n", arpHex(f.LLAddr), f.Src)
		}
	}
	arpPrintCache(w, "after", tr.Target, tr.Interface, tr.After)
	if tr.AfterNote != "" {
		fmt.Fprintf(w, "  note: %s\n", tr.AfterNote)
	}
	s := tr.Summary
	if s.Received > 0 {
		fmt.Fprintf(w, "  rtt min/max = %s/%s\n", s.MinRTT, s.MaxRTT)
	}
	if len(s.MACs) > 1 {
		macs := make([]string, len(s.MACs))
		for i, m := range s.MACs {
			macs[i] = m.String()
		}
		fmt.Fprintf(w, "  CONFLICT: %v advertised by %d MACs: %s\n", tr.Target, len(s.MACs), strings.Join(macs, ", "))
	}
	switch {
	case tr.Mode == "dad" && s.InUse:
		fmt.Fprintf(w, "  DAD: %v is in use by %v\n", tr.Target, s.MACs[0])
	case tr.Mode == "dad":
		fmt.Fprintf(w, "  DAD: %v appears free\n", tr.Target)
	case s.Received == 0:
		fmt.Fprintln(w, "Timed out.\nNo response.")
	}
	fmt.Fprintf(w, "  sent %d NS, received %d NA\n", s.Sent, s.Received)
}

// NdpCacheCmd is `addrwalk ndp cache`.
type NdpCacheCmd struct {
	Interface string `short:"i" name:"interface" placeholder:"DEV" help:"Only this interface (ip neigh's dev)."`
	All       bool   `name:"all" help:"Show every entry, as 'ip -6 neigh show nud all' (NOARP and NONE too)."`
	JSON      bool   `name:"json" help:"Print JSON (durations in ms)."`
}

// Run prints the kernel's IPv6 neighbour table.
func (c *NdpCacheCmd) Run(g *Globals) error {
	return neighCache(g, arptrace.Neighbours6, c.Interface, c.All, c.JSON)
}
