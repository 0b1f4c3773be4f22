package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
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

// arpSeconds is a duration flag that takes arping-style arpSeconds ("5", "0.2")
// or a Go duration ("200ms").
type arpSeconds time.Duration

func (s *arpSeconds) UnmarshalText(b []byte) error {
	v := string(b)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 {
			return fmt.Errorf("negative duration %q", v)
		}
		*s = arpSeconds(time.Duration(f * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration (arpSeconds like 1.5 or Go syntax like 200ms)", v)
	}
	*s = arpSeconds(d)
	return nil
}

func (s arpSeconds) d() time.Duration { return time.Duration(s) }

// ArpProbeCmd is `addrwalk arp IP`.
type ArpProbeCmd struct {
	IP        string     `arg:"" help:"IPv4 address to resolve."`
	Interface string     `short:"i" help:"Interface to probe on (default: the one the route uses)."`
	Count     int        `short:"c" default:"3" help:"Probes to send."`
	Deadline  arpSeconds `short:"w" help:"Stop after this long in total (arpSeconds)."`
	Timeout   arpSeconds `short:"W" default:"1" help:"Wait per probe (arpSeconds)."`
	Interval  arpSeconds `short:"I" default:"1" help:"Interval between probes (arpSeconds)."`
	Unicast   bool       `short:"u" help:"Re-probe a known MAC by unicast instead of broadcasting."`
	NoCache   bool       `name:"no-cache" help:"Skip the neighbour cache lookups."`
	Direct    bool       `help:"Probe IP itself even if it is off-link (default: trace its gateway)."`
	DAD       bool       `short:"D" name:"dad" help:"Duplicate address detection (RFC 5227 probe from 0.0.0.0); exit 1 if the address is in use."`
	Announce  bool       `short:"U" name:"unsolicited" help:"Send gratuitous ARP announcements for IP."`
	JSON      bool       `name:"json" help:"Print the trace as JSON."`
}

// Run traces the address.
func (c *ArpProbeCmd) Run(g *Globals) error {
	ip, err := netip.ParseAddr(c.IP)
	if err != nil || !ip.Is4() {
		return usageErr("arp: %q is not an IPv4 address", c.IP)
	}
	if c.Count < 1 || c.Count > arptrace.MaxCount {
		return usageErr("arp: -c must be between 1 and %d", arptrace.MaxCount)
	}
	if c.DAD && c.Announce {
		return usageErr("arp: -D and -U exclude each other")
	}
	opts := arptrace.TraceOptions{
		Count: c.Count, Timeout: c.Timeout.d(), Interval: c.Interval.d(), Deadline: c.Deadline.d(),
		Direct: c.Direct, NoCache: c.NoCache, Unicast: c.Unicast, DAD: c.DAD, Announce: c.Announce,
	}
	tr, err := arptrace.NewTracer(arptrace.Config{Interface: c.Interface}).Trace(g.Ctx, ip, opts)
	if err != nil {
		return arpErr(err)
	}
	if c.JSON {
		if err := arpWriteJSON(g.Stdout, tr); err != nil {
			return err
		}
	} else {
		arpPrintTrace(g.Stdout, tr)
	}
	return arpTraceExit(tr)
}

// arpTraceExit maps a trace to arping's exit status.
func arpTraceExit(tr *arptrace.Trace) error {
	switch {
	case tr.Mode == arptrace.ModeDAD && tr.Summary.InUse:
		return withExit(ExitNoReply, nil)
	case tr.Mode == arptrace.ModeDAD, tr.Mode == arptrace.ModeAnnounce:
		return nil
	case tr.Summary.Received == 0:
		return withExit(ExitNoReply, nil)
	}
	return nil
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

func arpMicros(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Nanoseconds())/1e3, 'f', 1, 64) + " µs"
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

func arpPrintCache(w io.Writer, step int, when string, ip netip.Addr, iface string, cl *arptrace.CacheLookup) {
	switch {
	case cl == nil:
		fmt.Fprintf(w, "%d. neighbour cache %s: skipped (--no-cache)\n", step, when)
	case cl.Error != "":
		fmt.Fprintf(w, "%d. neighbour cache %s: error: %s\n", step, when, cl.Error)
	case !cl.Found:
		fmt.Fprintf(w, "%d. neighbour cache %s: no entry for %v on %s\n", step, when, ip, iface)
	default:
		fmt.Fprintf(w, "%d. neighbour cache %s: %s\n", step, when, arpDescribeNeighbour(*cl.Entry))
	}
}

// arpKindLabel prefixes the unusual kinds (probe, gratuitous) to a line.
func arpKindLabel(k arptrace.Kind) string {
	if k == arptrace.KindRequest || k == arptrace.KindReply {
		return ""
	}
	return string(k) + " "
}

func arpPrintTrace(w io.Writer, tr *arptrace.Trace) {
	fmt.Fprintf(w, "ARP trace for %v (%s)\n", tr.Target, tr.Mode)
	switch r := tr.Route; {
	case r == nil:
		fmt.Fprintf(w, "1. route: none (%s); using %s\n", tr.RouteError, tr.Interface.Name)
	case r.OnLink:
		fmt.Fprintf(w, "1. route: %v is on-link on %s (index %d), source %v\n", r.Destination, r.Interface, r.Index, r.Source)
	default:
		fmt.Fprintf(w, "1. route: %v is off-link: via gateway %v on %s (index %d), source %v\n",
			r.Destination, r.Gateway, r.Interface, r.Index, r.Source)
	}
	for _, n := range tr.Notes {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
	if tr.ViaGateway {
		fmt.Fprintf(w, "   tracing the gateway %v (use --direct to probe %v itself)\n", tr.Probed, tr.Target)
	}
	arpPrintCache(w, 2, "before", tr.Probed, tr.Interface.Name, tr.Before)
	fmt.Fprintf(w, "3. on the wire: %s %v, sender %v %v\n", tr.Interface.Name, tr.Interface.MAC, tr.Interface.MAC, tr.Source)
	for _, p := range tr.Probes {
		s := p.Sent
		fmt.Fprintf(w, "   -> #%d %swho-has %v tell %v  [eth dst %v src %v; sender %v %v]\n",
			p.Seq, arpKindLabel(s.Kind), s.TargetIP, s.SenderIP, s.EthDst, s.EthSrc, s.SenderMAC, s.SenderIP)
		if len(p.Replies) == 0 {
			fmt.Fprintf(w, "   <- #%d no reply\n", p.Seq)
		}
		for _, r := range p.Replies {
			f := r.Frame
			flag := ""
			if r.Conflict {
				flag = "  CONFLICT: another MAC"
			}
			fmt.Fprintf(w, "   <- #%d %s%v is-at %v  [eth src %v dst %v; target %v %v]  rtt %s%s\n",
				p.Seq, arpKindLabel(f.Kind), f.SenderIP, f.SenderMAC, f.EthSrc, f.EthDst, f.TargetMAC, f.TargetIP, arpMicros(r.RTT), flag)
		}
	}
	arpPrintCache(w, 4, "after", tr.Probed, tr.Interface.Name, tr.After)
	if tr.AfterNote != "" {
		fmt.Fprintf(w, "   note: %s\n", tr.AfterNote)
	}
	s := tr.Summary
	fmt.Fprintf(w, "--- %v arp statistics ---\n", tr.Probed)
	loss := 0
	if s.Sent > 0 {
		loss = 100 * (s.Sent - s.Received) / s.Sent
	}
	fmt.Fprintf(w, "%d probes sent, %d answered, %d replies (%d%% loss)", s.Sent, s.Received, s.Replies, loss)
	if s.Received > 0 {
		fmt.Fprintf(w, ", rtt min/avg/max = %s/%s/%s", arpMicros(s.MinRTT), arpMicros(s.AvgRTT), arpMicros(s.MaxRTT))
	}
	fmt.Fprintln(w)
	if s.Conflict {
		macs := make([]string, len(s.MACs))
		for i, m := range s.MACs {
			macs[i] = m.String()
		}
		fmt.Fprintf(w, "CONFLICT: %v answered by %d MACs: %s\n", tr.Probed, len(s.MACs), strings.Join(macs, ", "))
	}
	switch {
	case tr.Mode == arptrace.ModeDAD && s.InUse:
		fmt.Fprintf(w, "DAD: %v is in use by %v\n", tr.Probed, s.MACs[0])
	case tr.Mode == arptrace.ModeDAD:
		fmt.Fprintf(w, "DAD: %v appears free\n", tr.Probed)
	}
	if s.Cancelled {
		fmt.Fprintln(w, "interrupted")
	}
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

// ArpScanCmd is `addrwalk arp scan`.
type ArpScanCmd struct {
	CIDR       string     `arg:"" help:"IPv4 prefix to scan, e.g. 192.0.2.0/24 (a bare address scans just it)."`
	Interface  string     `short:"i" help:"Interface (default: the one routing to the prefix)."`
	Rate       float64    `help:"Packets per second (overrides --bandwidth)."`
	Bandwidth  string     `short:"B" default:"256k" help:"Bandwidth limit in bits/s, with k/M suffix (arp-scan's default 256k)."`
	Retry      int        `short:"r" default:"2" help:"Attempts per host, as arp-scan --retry (later ones go only to hosts that did not answer)."`
	Timeout    arpSeconds `short:"t" default:"0.5" help:"Time a host has to answer its first request (seconds); each retry waits --backoff times longer."`
	Backoff    float64    `short:"b" default:"1.5" help:"Timeout multiplier per retry."`
	Random     bool       `short:"R" help:"Probe hosts in random order."`
	Seed       uint64     `help:"Seed for --random (0: from the clock)."`
	Force      bool       `help:"Allow ranges larger than 4096 addresses (up to a /16)."`
	OUIFile    string     `name:"oui-file" help:"OUI vendor file (default: arp-scan's or ieee-data's if installed)."`
	JSON       bool       `name:"json" help:"Print JSON."`
	NoProgress bool       `name:"no-progress" help:"No progress bar even on a terminal."`
}

func arpParseBandwidth(s string) (float64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("arp scan: bandwidth %q is not a positive number of bits/s", s)
	}
	return f * mult, nil
}

// arpIsTerminal reports whether w is a character device (a terminal).
func arpIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Run scans the prefix.
func (c *ArpScanCmd) Run(g *Globals) error {
	pfx, err := netip.ParsePrefix(c.CIDR)
	if err != nil {
		a, aerr := netip.ParseAddr(c.CIDR)
		if aerr != nil {
			return usageErr("arp scan: %q is not an IPv4 prefix like 192.0.2.0/24", c.CIDR)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if !pfx.Addr().Is4() {
		return usageErr("arp scan: %q is not an IPv4 prefix", c.CIDR)
	}
	if _, err := arptrace.ScanTargets(pfx, c.Force); err != nil {
		return withExit(ExitUsage, err)
	}
	bw, err := arpParseBandwidth(c.Bandwidth)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	if c.Retry < 1 || c.Retry > arptrace.MaxScanTries {
		return usageErr("arp scan: --retry must be 1..%d", arptrace.MaxScanTries)
	}
	var paths []string
	if c.OUIFile != "" {
		paths = []string{c.OUIFile}
	}
	oui, ouiErr := arptrace.LoadOUI(paths...)
	if ouiErr != nil && c.OUIFile != "" {
		return withExit(ExitUsage, ouiErr)
	}
	seed := c.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	opts := arptrace.ScanOptions{Rate: c.Rate, Bandwidth: bw, Tries: c.Retry, Timeout: c.Timeout.d(),
		Backoff: c.Backoff, Random: c.Random, Seed: seed, Force: c.Force, OUI: oui}
	if !c.NoProgress && !c.JSON && arpIsTerminal(g.Stdout) {
		opts.Progress = func(sent, total, responded int) {
			const width = 30
			done := width * min(sent, total) / max(total, 1)
			fmt.Fprintf(g.Stderr, "\r[%s%s] %d/%d sent, %d up", strings.Repeat("#", done), strings.Repeat(".", width-done), sent, total, responded)
		}
	}
	res, err := arptrace.NewTracer(arptrace.Config{Interface: c.Interface}).Scan(g.Ctx, pfx, opts)
	if opts.Progress != nil {
		fmt.Fprint(g.Stderr, "\r\033[K")
	}
	if err != nil {
		return arpErr(err)
	}
	if c.JSON {
		if res.Hosts == nil {
			res.Hosts = []arptrace.ScanHost{}
		}
		return arpWriteJSON(g.Stdout, res)
	}
	w := g.Stdout
	fmt.Fprintf(w, "Interface: %s, MAC %v, IPv4 %v; scanning %v (%d hosts) at %.0f pkt/s, %d tries\n",
		res.Interface, res.MAC, res.Source, res.Prefix, res.Scanned, res.Rate, res.Tries)
	if ouiErr != nil {
		fmt.Fprintf(w, "(no OUI database found: vendors unknown; install Debian package arp-scan or ieee-data)\n")
	}
	fmt.Fprintf(w, "%-15s  %-17s  %12s  %s\n", "IP", "MAC", "RTT", "VENDOR")
	for _, h := range res.Hosts {
		flag := ""
		if h.Replies > 1 && !h.Conflict {
			flag = fmt.Sprintf("  (DUP: %d)", h.Replies)
		}
		fmt.Fprintf(w, "%-15v  %-17v  %12s  %s%s\n", h.IP, h.MAC, arpMicros(h.RTT), h.Vendor, flag)
		for _, m := range h.OtherMACs {
			fmt.Fprintf(w, "%-15v  %-17v  %12s  %s  CONFLICT: %v also answered by this MAC\n", h.IP, m, "", oui.Vendor(m), h.IP)
		}
	}
	fmt.Fprintf(w, "%d hosts scanned in %.3f seconds (%.2f hosts/sec). %d responded\n",
		res.Scanned, res.Elapsed.Seconds(), res.HostsPerSec, res.Responded)
	if res.Cancelled {
		fmt.Fprintln(w, "interrupted")
	}
	return nil
}

// ArpWatchCmd is `addrwalk arp watch`.
type ArpWatchCmd struct {
	Interface string     `short:"i" help:"Interface (default: the first Ethernet interface that is up)."`
	Duration  arpSeconds `short:"d" help:"Stop after this long (seconds or 1m30s); default: until interrupted."`
	Count     int        `short:"c" help:"Stop after this many ARP packets."`
	JSON      bool       `name:"json" help:"Print events as JSON lines."`
	Events    bool       `name:"events-only" help:"Print only events, not every packet."`
	State     string     `name:"state" help:"File remembering known stations across runs (JSON)."`
	NoPromisc bool       `name:"no-promisc" help:"Do not put the interface in promiscuous mode."`
}

// arpDefaultInterface picks the first up, non-loopback Ethernet interface.
func arpDefaultInterface() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("arp: list interfaces: %w", err)
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 && len(ifi.HardwareAddr) == 6 {
			return ifi.Name, nil
		}
	}
	return "", errors.New("arp: no Ethernet interface is up; name one with -i")
}

// Run watches until the duration, count or an interrupt.
func (c *ArpWatchCmd) Run(g *Globals) error {
	if c.Count < 0 {
		return usageErr("arp watch: --count must not be negative")
	}
	name := c.Interface
	if name == "" {
		n, err := arpDefaultInterface()
		if err != nil {
			return withExit(ExitUsage, err)
		}
		name = n
	}
	var known []arptrace.Station
	if c.State != "" {
		var err error
		if known, err = arptrace.LoadStations(c.State); err != nil {
			return withExit(ExitUsage, err)
		}
	}
	mon := arptrace.NewMonitor(known)
	enc := json.NewEncoder(g.Stdout)
	if !c.JSON {
		fmt.Fprintf(g.Stderr, "watching ARP on %s (%d known stations)\n", name, len(known))
	}
	emit := func(ev arptrace.Event) {
		if c.Events && ev.Kind == arptrace.EventPacket {
			return
		}
		if c.JSON {
			_ = enc.Encode(ev)
			return
		}
		fmt.Fprintln(g.Stdout, arpEventLine(ev))
	}
	ctx := g.Ctx
	stats, err := arptrace.NewTracer(arptrace.Config{Interface: name}).Watch(ctx,
		arptrace.WatchOptions{Duration: c.Duration.d(), Count: c.Count, Promiscuous: !c.NoPromisc, Monitor: mon}, emit)
	if err != nil {
		return arpErr(err)
	}
	if c.State != "" {
		if err := arptrace.SaveStations(c.State, mon.Stations()); err != nil {
			return withExit(ExitFailure, err)
		}
	}
	if !c.JSON {
		fmt.Fprintf(g.Stderr, "%d ARP packets, %d events in %.1f s\n", stats.Packets, stats.Events, stats.Elapsed.Seconds())
	}
	return nil
}

func arpEventLine(ev arptrace.Event) string {
	ts := ev.Time.Format("15:04:05.000000")
	if ev.Kind != arptrace.EventPacket {
		line := fmt.Sprintf("%s EVENT %-17s %v %v", ts, ev.Kind, ev.IP, ev.MAC)
		if !ev.OldMAC.IsZero() {
			line += fmt.Sprintf(" (was %v)", ev.OldMAC)
		}
		if ev.Note != "" {
			line += " (" + ev.Note + ")"
		}
		return line
	}
	f := ev.Frame
	switch f.Kind {
	case arptrace.KindRequest:
		return fmt.Sprintf("%s who-has %v tell %v (%v)  [eth %v > %v]", ts, f.TargetIP, f.SenderIP, f.SenderMAC, f.EthSrc, f.EthDst)
	case arptrace.KindProbe:
		return fmt.Sprintf("%s probe who-has %v from 0.0.0.0 (%v)  [eth %v > %v]", ts, f.TargetIP, f.SenderMAC, f.EthSrc, f.EthDst)
	case arptrace.KindGratuitous:
		op := "request"
		if f.Op == 2 {
			op = "reply"
		}
		return fmt.Sprintf("%s gratuitous %s %v is-at %v  [eth %v > %v]", ts, op, f.SenderIP, f.SenderMAC, f.EthSrc, f.EthDst)
	default:
		return fmt.Sprintf("%s is-at %v is %v (to %v %v)  [eth %v > %v]", ts, f.SenderIP, f.SenderMAC, f.TargetIP, f.TargetMAC, f.EthSrc, f.EthDst)
	}
}
