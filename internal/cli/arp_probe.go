package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/alecthomas/kong"
)

// intervalFlag is arping's -i: a durationFlag whose error, when given an
// interface name, says that the interface is -I now.
type intervalFlag time.Duration

func (d *intervalFlag) Decode(ctx *kong.DecodeContext) error {
	v, err := popDuration(ctx, time.Second, "seconds")
	if err != nil {
		return fmt.Errorf("-i is the interval between packets, as in arping: %w; the interface is -I", err)
	}
	*d = intervalFlag(v)
	return nil
}

// ArpProbeCmd is `addrwalk arp DESTINATION`, with iputils arping's options.
type ArpProbeCmd struct {
	Destination string       `arg:"" help:"IPv4 address or host name (a name is resolved with the system resolver, as arping does). For IPv6 use 'addrwalk ndp'."`
	Interface   string       `short:"I" name:"interface" placeholder:"DEV" help:"Name of network device where to send ARP REQUEST packets (default: the one the route to the destination uses)."`
	Count       *int         `short:"c" name:"count" placeholder:"COUNT" help:"Stop after sending COUNT ARP REQUEST packets (default: until interrupted or the deadline). With -w, instead stop once COUNT replies came, or at the deadline."`
	Deadline    durationFlag `short:"w" name:"deadline" placeholder:"SECONDS" help:"Specify a timeout, in seconds, before arp exits regardless of how many packets have been sent or received (fractions or Go durations allowed; 0: none)."`
	Interval    intervalFlag `short:"i" name:"interval" default:"1" placeholder:"SECONDS" help:"Specify an interval, in seconds, between packets (fractions or Go durations allowed; at least 1ms)."`
	QuitOnReply bool         `short:"f" name:"quit-on-reply" help:"Finish after the first reply confirming that target is alive."`
	Quiet       bool         `short:"q" name:"quiet" help:"Quiet output. Nothing is displayed."`
	Broadcast   bool         `short:"b" name:"broadcast-only" help:"Send only MAC level broadcasts. Normally arp starts from sending broadcast, and switches to unicast after reply received."`
	DAD         bool         `short:"D" name:"dad" help:"Duplicate address detection mode (DAD, RFC 5227 probe from 0.0.0.0). Returns 0 if DAD succeeded, i.e. no replies are received; 1 if the address is in use."`
	Unsolicited bool         `short:"U" name:"unsolicited" help:"Unsolicited ARP mode to update neighbours' ARP caches (gratuitous request, sender = destination). No replies are expected."`
	Answer      bool         `short:"A" name:"answer" help:"The same as -U, but ARP REPLY packets used instead of ARP REQUEST."`
	Source      string       `short:"s" name:"source" placeholder:"SOURCE" help:"IP source address to use in ARP packets (must be this host's). Default: 0.0.0.0 with -D, the destination with -U or -A, otherwise from the routing table."`
	NoCache     bool         `name:"no-cache" help:"Skip the neighbour cache lookups before and after."`
	Direct      bool         `help:"Probe the destination itself even if it is off-link (default: trace its gateway)."`
	JSON        bool         `name:"json" help:"Print the whole trace as one JSON document at the end."`
	PictureFlags
}

// Run traces the address. Exit statuses are arping's: 0 replies came (or
// DAD found the address free, or -U/-A sent), 1 no reply (or DAD found
// the address in use), 2 anything wrong before or while sending.
func (c *ArpProbeCmd) Run(g *Globals) error {
	opts, err := c.options()
	if err != nil {
		return err
	}
	if err := c.PictureFlags.check(); err != nil {
		return err
	}
	ip, host, err := arpResolveTarget(g.Ctx, c.Destination)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	var pr *arpProbePrinter
	if !c.JSON && !c.Quiet {
		pr = &arpProbePrinter{w: g.Stdout}
		if host != "" {
			pr.resolved = fmt.Sprintf("%s is %v (system resolver: hosts file, then DNS, as arping's getaddrinfo)", host, ip)
		}
		opts.Observer = pr
	}
	tr, err := arptrace.NewTracer(arptrace.Config{Interface: c.Interface}).Trace(g.Ctx, ip, opts)
	if c.Count == nil {
		opts.Count = 0 // for the exit status: no -c
	}
	if err != nil {
		return withExit(ExitUsage, err)
	}
	tr.Host = host
	if err := c.writeARP(tr); err != nil {
		return withExit(ExitUsage, err)
	}
	switch {
	case c.JSON:
		if err := arpWriteJSON(g.Stdout, tr); err != nil {
			return withExit(ExitUsage, err)
		}
	case pr != nil:
		pr.finish(tr)
	}
	return withExit(arpProbeStatus(tr, opts.Count), nil)
}

// options checks the flags and maps them to TraceOptions.
func (c *ArpProbeCmd) options() (arptrace.TraceOptions, error) {
	opts := arptrace.TraceOptions{Count: arptrace.Unlimited, Interval: time.Duration(c.Interval), Deadline: c.Deadline.d(),
		Direct: c.Direct, NoCache: c.NoCache, BroadcastOnly: c.Broadcast, StopOnReply: c.QuitOnReply}
	if c.Count != nil {
		if *c.Count < 1 || *c.Count > arptrace.MaxCount {
			return opts, usageErr("arp: -c must be between 1 and %d", arptrace.MaxCount)
		}
		opts.Count = *c.Count
	}
	if opts.Interval < arptrace.MinInterval {
		return opts, usageErr("arp: -i must be at least %v", arptrace.MinInterval)
	}
	modes := 0
	for _, m := range []struct {
		on   bool
		mode arptrace.Mode
	}{{c.DAD, arptrace.ModeDAD}, {c.Unsolicited, arptrace.ModeAnnounce}, {c.Answer, arptrace.ModeAnswer}} {
		if m.on {
			modes++
			opts.Mode = m.mode
		}
	}
	if c.Unsolicited && c.Answer {
		modes-- // arping: -A is -U with replies
	}
	if modes > 1 {
		return opts, usageErr("arp: -D excludes -U and -A")
	}
	if c.Source != "" {
		src, err := netip.ParseAddr(c.Source)
		if err != nil || !src.Is4() {
			return opts, usageErr("arp: invalid source %s", c.Source)
		}
		if !arpIsLocalAddr(src) {
			return opts, usageErr("arp: source %v: cannot assign requested address (not an address of this host)", src)
		}
		opts.Source = src
	}
	return opts, nil
}

// arpProbeStatus is arping's exit status for a finished trace; count is
// -c (0 when not given). The rules are those of the iputils arping that
// Debian 12 ships (20221126), measured side by side (see
// TestArpSideBySideArping): DAD fails (1) on any reply; -U and -A always
// succeed; with -c the status is 0 only when replies equal frames sent
// (so a duplicate answer, or a lost one, gives 1); otherwise 0 when any
// reply came.
func arpProbeStatus(tr *arptrace.Trace, count int) int {
	s := tr.Summary
	switch {
	case tr.Mode == arptrace.ModeDAD:
		if s.Received > 0 {
			return ExitNoReply
		}
		return ExitOK
	case tr.Mode == arptrace.ModeAnnounce, tr.Mode == arptrace.ModeAnswer:
		return ExitOK
	case count > 0:
		if s.Received != s.Sent {
			return ExitNoReply
		}
		return ExitOK
	case s.Received == 0:
		return ExitNoReply
	}
	return ExitOK
}

// arpPrintTrace prints a finished trace as the streaming printer would.
func arpPrintTrace(w io.Writer, tr *arptrace.Trace) {
	p := &arpProbePrinter{w: w}
	p.Ready(tr)
	for _, pr := range tr.Probes {
		p.Sent(tr, pr)
		for _, r := range pr.Replies {
			p.Received(tr, pr, r)
		}
	}
	p.finish(tr)
}

// arpResolveTarget parses an IPv4 address or resolves a host name with
// the system resolver (IPv4 only, as arping's getaddrinfo with AF_INET).
func arpResolveTarget(ctx context.Context, target string) (netip.Addr, string, error) {
	if ip, err := netip.ParseAddr(target); err == nil {
		if !ip.Is4() {
			return netip.Addr{}, "", fmt.Errorf("arp: %s is an IPv6 address: ARP is IPv4 only; use 'addrwalk ndp %s'", target, target)
		}
		return ip, "", nil
	}
	if a, zone, ok := strings.Cut(target, "%"); ok {
		if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() {
			// Not a name for the system resolver: an IPv4 address has
			// no zone; the link is -I's.
			return netip.Addr{}, "", fmt.Errorf("arp: %q: an IPv4 address has no zone; give the interface with -I %s", target, zone)
		}
	}
	if arptrace.NotAHostName(target) {
		return netip.Addr{}, "", fmt.Errorf("arp: %q is not an IPv4 address (like 192.0.2.1) or a host name", target)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", target)
	if err != nil {
		return netip.Addr{}, "", fmt.Errorf("arp: %w", arptrace.HostLookupError(target, err))
	}
	if len(addrs) == 0 {
		return netip.Addr{}, "", fmt.Errorf("arp: host %q has no IPv4 address", target)
	}
	return addrs[0].Unmap(), target, nil
}

// arpIsLocalAddr reports whether ip is assigned to an interface here.
func arpIsLocalAddr(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == ip {
				return true
			}
		}
	}
	return false
}

// arpHex prints a MAC the way arping does: upper-case hex pairs.
func arpHex(m arptrace.MAC) string { return strings.ToUpper(m.String()) }

// arpReplyLine is arping's line for a frame that answered the trace.
func arpReplyLine(tr *arptrace.Trace, r arptrace.Reply) string {
	f := r.Frame
	var b strings.Builder
	if r.Unicast {
		b.WriteString("Unicast ")
	} else {
		b.WriteString("Broadcast ")
	}
	if f.Op == 2 {
		b.WriteString("reply from ")
	} else {
		b.WriteString("request from ")
	}
	fmt.Fprintf(&b, "%v [%s] ", f.SenderIP, arpHex(f.SenderMAC))
	forPrinted := false
	if f.TargetIP != tr.Source {
		fmt.Fprintf(&b, "for %v ", f.TargetIP)
		forPrinted = true
	}
	if f.TargetMAC != tr.Interface.MAC {
		if !forPrinted {
			b.WriteString("for ")
		}
		fmt.Fprintf(&b, "[%s]", arpHex(f.TargetMAC))
	}
	b.WriteString(" " + r.RTT.String())
	return b.String()
}

// arpProbePrinter streams a trace as text: arping's lines verbatim
// (ARPING, the reply lines, Sent/Received) and addrwalk's steps between
// them, indented, so that a reader (or a diff against arping) tells them
// apart.
type arpProbePrinter struct {
	w        io.Writer
	resolved string
}

func (p *arpProbePrinter) Ready(tr *arptrace.Trace) {
	w := p.w
	fmt.Fprintf(w, "ARPING %v from %v %s\n", tr.Probed, tr.Source, tr.Interface.Name)
	if p.resolved != "" {
		fmt.Fprintf(w, "  name: %s\n", p.resolved)
	}
	switch r := tr.Route; {
	case r == nil:
		fmt.Fprintf(w, "  route: none (%s); using %s\n", tr.RouteError, tr.Interface.Name)
	case r.OnLink:
		fmt.Fprintf(w, "  route: %v is on-link on %s (index %d), source %v\n", r.Destination, r.Interface, r.Index, r.Source)
	default:
		fmt.Fprintf(w, "  route: %v is off-link: via gateway %v on %s (index %d), source %v\n",
			r.Destination, r.Gateway, r.Interface, r.Index, r.Source)
	}
	for _, n := range tr.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if tr.ViaGateway {
		fmt.Fprintf(w, "  tracing the gateway %v (use --direct to probe %v itself)\n", tr.Probed, tr.Target)
	}
	arpPrintCache(w, "before", tr.Probed, tr.Interface.Name, tr.Before)
}

func (p *arpProbePrinter) Sent(tr *arptrace.Trace, pr arptrace.Probe) {
	s := pr.Sent
	how := "broadcast"
	if pr.Unicast {
		how = "unicast"
	}
	what := fmt.Sprintf("who-has %v tell %v", s.TargetIP, s.SenderIP)
	if s.Op == 2 {
		what = fmt.Sprintf("%v is-at %v", s.SenderIP, s.SenderMAC)
	}
	fmt.Fprintf(p.w, "  -> #%d %s%s  [%s to %v from %v] at +%s\n", pr.Seq, arpKindLabel(s.Kind), what, how, s.EthDst, s.EthSrc, pr.Offset)
}

func (p *arpProbePrinter) Received(tr *arptrace.Trace, _ arptrace.Probe, r arptrace.Reply) {
	fmt.Fprintln(p.w, arpReplyLine(tr, r))
	if r.Conflict {
		fmt.Fprintf(p.w, "  CONFLICT: %v also answered by %v\n", r.Frame.SenderIP, r.Frame.SenderMAC)
	}
}

// finish prints the cache after, addrwalk's verdicts and arping's totals.
func (p *arpProbePrinter) finish(tr *arptrace.Trace) {
	w, s := p.w, tr.Summary
	arpPrintCache(w, "after", tr.Probed, tr.Interface.Name, tr.After)
	if tr.AfterNote != "" {
		fmt.Fprintf(w, "  note: %s\n", tr.AfterNote)
	}
	if s.Answered > 0 {
		fmt.Fprintf(w, "  rtt min/avg/max = %s/%s/%s\n", s.MinRTT, s.AvgRTT, s.MaxRTT)
	}
	if s.Conflict {
		macs := make([]string, len(s.MACs))
		for i, m := range s.MACs {
			macs[i] = m.String()
		}
		fmt.Fprintf(w, "  CONFLICT: %v answered by %d MACs: %s\n", tr.Probed, len(s.MACs), strings.Join(macs, ", "))
	}
	switch {
	case tr.Mode == arptrace.ModeDAD && s.InUse:
		fmt.Fprintf(w, "  DAD: %v is in use by %v\n", tr.Probed, s.MACs[0])
	case tr.Mode == arptrace.ModeDAD:
		fmt.Fprintf(w, "  DAD: %v appears free\n", tr.Probed)
	}
	if s.Cancelled {
		fmt.Fprintln(w, "  interrupted")
	}
	fmt.Fprintf(w, "Sent %d probes (%d broadcast(s))\n", s.Sent, s.Broadcasts)
	fmt.Fprintf(w, "Received %d response(s)", s.Received)
	if s.Requests > 0 || s.BroadcastReplies > 0 {
		var parts []string
		if s.Requests > 0 {
			parts = append(parts, fmt.Sprintf("%d request(s)", s.Requests))
		}
		if s.BroadcastReplies > 0 {
			parts = append(parts, fmt.Sprintf("%d broadcast(s)", s.BroadcastReplies))
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
}

func arpPrintCache(w io.Writer, when string, ip netip.Addr, iface string, cl *arptrace.CacheLookup) {
	switch {
	case cl == nil:
		fmt.Fprintf(w, "  neighbour cache %s: skipped (--no-cache)\n", when)
	case cl.Error != "":
		fmt.Fprintf(w, "  neighbour cache %s: error: %s\n", when, cl.Error)
	case !cl.Found:
		fmt.Fprintf(w, "  neighbour cache %s: no entry for %v on %s\n", when, ip, iface)
	default:
		fmt.Fprintf(w, "  neighbour cache %s: %s\n", when, arpDescribeNeighbour(*cl.Entry))
	}
}
