package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/duration"
)

// ArpScanCmd is `addrwalk arp scan`, with arp-scan's options.
type ArpScanCmd struct {
	Targets    []string   `arg:"" optional:"" help:"Targets, as arp-scan: CIDR (192.0.2.0/24, network and broadcast included), range (192.0.2.1-192.0.2.10), network:mask (192.0.2.0:255.255.255.0), addresses or host names."`
	Interface  string     `short:"I" name:"interface" placeholder:"DEV" help:"Use network interface DEV (default: the one routing to the first target)."`
	Localnet   bool       `short:"l" name:"localnet" help:"Generate addresses from interface configuration (the interface's address and netmask, network and broadcast included)."`
	Timeout    millisFlag `short:"t" name:"timeout" default:"500" placeholder:"MS" help:"Set initial per host timeout to MS milliseconds (arp-scan's unit), default=500. This timeout is for the first packet sent to each host; subsequent timeouts are multiplied by the backoff factor. Go durations (1s) are accepted too."`
	Retry      int        `short:"r" name:"retry" default:"2" placeholder:"COUNT" help:"Set total number of attempts per host, default=2."`
	Backoff    float64    `short:"b" name:"backoff" default:"1.5" placeholder:"FACTOR" help:"Set backoff factor, default=1.50. Multiplies timeout by the factor for each pass."`
	Interval   string     `short:"i" name:"interval" placeholder:"X" help:"Set minimum packet interval: milliseconds, or microseconds if \"u\" is appended (arp-scan's units). Cannot be given with --bandwidth."`
	Bandwidth  string     `short:"B" name:"bandwidth" placeholder:"X" help:"Set outbound bandwidth in bits per second, default=256000. Append K for kilobits or M for megabits (decimal multiples)."`
	Quiet      bool       `short:"q" name:"quiet" help:"Display minimal output for each responding host: only the IP address and MAC address."`
	Plain      bool       `short:"x" name:"plain" help:"Suppress header and footer text: only display the responding host details."`
	IgnoreDups bool       `short:"g" name:"ignoredups" help:"Don't display duplicate packets. By default duplicate packets are flagged with (DUP: n)."`
	Random     bool       `short:"R" name:"random" help:"Randomise the target host list."`
	RandomSeed uint64     `name:"randomseed" placeholder:"SEED" help:"Seed the pseudo random number generator, for a reproducible --random order."`
	Numeric    bool       `short:"N" name:"numeric" help:"Targets must be IP addresses, not host names."`
	OUIFile    string     `short:"O" name:"ouifile" placeholder:"FILE" help:"Use IEEE registry vendor mapping file FILE (default: arp-scan's or ieee-data's, if installed)."`
	Force      bool       `help:"Allow more than 4096 targets (up to 65536)."`
	JSON       bool       `name:"json" help:"Print JSON Lines: one object per reply as it arrives (type \"host\"), then one summary (type \"summary\")."`
	NoProgress bool       `name:"no-progress" help:"No progress line on stderr even on a terminal."`
}

// arpParseBandwidth reads arp-scan's --bandwidth: bits/s, K or M suffix.
func arpParseBandwidth(s string) (float64, error) {
	mult, v := 1.0, s
	switch {
	case strings.HasSuffix(v, "k"), strings.HasSuffix(v, "K"):
		mult, v = 1e3, v[:len(v)-1]
	case strings.HasSuffix(v, "M"), strings.HasSuffix(v, "m"):
		mult, v = 1e6, v[:len(v)-1]
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("arp scan: bandwidth %q is not a positive number of bits/s (K or M suffix allowed)", s)
	}
	return f * mult, nil
}

// arpParseScanInterval reads arp-scan's --interval: milliseconds, or
// microseconds with a "u" suffix; Go durations ("2ms") are accepted too.
func arpParseScanInterval(s string) (time.Duration, error) {
	if v, ok := strings.CutSuffix(s, "u"); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
			return time.Duration(f * float64(time.Microsecond)), nil
		}
	}
	d, err := duration.ParseUnit(s, time.Millisecond, "milliseconds")
	if err != nil {
		return 0, fmt.Errorf("arp scan: --interval %w (or microseconds with a u suffix, like 500u)", err)
	}
	return d, nil
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

// options checks the flags and maps them to ScanOptions.
func (c *ArpScanCmd) options() (arptrace.ScanOptions, *arptrace.OUIDB, error) {
	opts := arptrace.ScanOptions{Tries: c.Retry, Timeout: c.Timeout.d(), Backoff: c.Backoff, Random: c.Random, Seed: c.RandomSeed}
	if c.Retry < 1 || c.Retry > arptrace.MaxScanTries {
		return opts, nil, usageErr("arp scan: --retry must be 1..%d", arptrace.MaxScanTries)
	}
	if c.Timeout <= 0 {
		return opts, nil, usageErr("arp scan: --timeout must be positive")
	}
	if c.Backoff < 1 || c.Backoff > 10 {
		return opts, nil, usageErr("arp scan: --backoff must be between 1 and 10")
	}
	if c.Interval != "" && c.Bandwidth != "" {
		return opts, nil, usageErr("arp scan: you cannot specify both --interval and --bandwidth")
	}
	if c.Interval != "" {
		d, err := arpParseScanInterval(c.Interval)
		if err != nil {
			return opts, nil, withExit(ExitUsage, err)
		}
		if d <= 0 {
			return opts, nil, usageErr("arp scan: --interval must be positive")
		}
		opts.Interval = d
	}
	if c.Bandwidth != "" {
		bw, err := arpParseBandwidth(c.Bandwidth)
		if err != nil {
			return opts, nil, withExit(ExitUsage, err)
		}
		opts.Bandwidth = bw
	}
	if opts.Random && opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	oui, err := loadOUI(c.Quiet, c.OUIFile)
	if err != nil {
		return opts, nil, err
	}
	opts.OUI = oui
	return opts, oui, nil
}

// loadOUI loads the vendor registry, file or the installed one; nothing
// when quiet (arp-scan -q prints no vendors). A missing default registry
// is no error: vendors are then unknown.
func loadOUI(quiet bool, file string) (*arptrace.OUIDB, error) {
	if quiet {
		return nil, nil
	}
	if file != "" {
		// A registry named on the command line must be there and be
		// one; the installed ones are optional.
		db, err := arptrace.LoadOUIFile("--ouifile", file)
		if err != nil {
			return nil, withExit(ExitUsage, err)
		}
		return db, nil
	}
	db, _ := arptrace.LoadOUI()
	return db, nil
}

// targets resolves the target arguments or --localnet.
func (c *ArpScanCmd) targets(g *Globals) ([]netip.Addr, error) {
	if c.Localnet {
		if len(c.Targets) > 0 {
			return nil, usageErr("arp scan: --localnet takes no targets")
		}
		name := c.Interface
		if name == "" {
			n, err := arpDefaultInterface()
			if err != nil {
				return nil, withExit(ExitUsage, err)
			}
			name = n
		}
		p, err := arpInterfacePrefix(name)
		if err != nil {
			return nil, withExit(ExitUsage, err)
		}
		ts, err := arptrace.ScanTargets(p, c.Force)
		if err != nil {
			return nil, withExit(ExitUsage, err)
		}
		return ts, nil
	}
	if len(c.Targets) == 0 {
		return nil, usageErr("arp scan: no targets: give a prefix, range or addresses, or --localnet")
	}
	var r arptrace.Resolver = net.DefaultResolver
	if c.Numeric {
		r = nil
	}
	ts, err := arptrace.ParseScanTargets(g.Ctx, c.Targets, r, c.Force)
	if err != nil {
		return nil, withExit(ExitUsage, fmt.Errorf("arp scan: %w", err))
	}
	return ts, nil
}

// arpInterfacePrefix is the first IPv4 prefix of interface name.
func arpInterfacePrefix(name string) (netip.Prefix, error) {
	ifi, err := arptrace.InterfaceByName(name)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("arp scan: --localnet: %w", err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("arp scan: addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() {
				ones, _ := n.Mask.Size()
				return netip.PrefixFrom(ip.Unmap(), ones).Masked(), nil
			}
		}
	}
	return netip.Prefix{}, fmt.Errorf("arp scan: --localnet: %s has no IPv4 address", name)
}

// arpScanHostLine is what the JSON Lines stream says about one reply.
type arpScanHostLine struct {
	Type string `json:"type"` // "host"
	arptrace.ScanResponse
}

// arpScanSummaryLine closes the JSON Lines stream.
type arpScanSummaryLine struct {
	Type string `json:"type"` // "summary"
	*arptrace.ScanResult
}

// Run scans, printing each reply as it arrives.
func (c *ArpScanCmd) Run(g *Globals) error {
	opts, oui, err := c.options()
	if err != nil {
		return err
	}
	targets, err := c.targets(g)
	if err != nil {
		return err
	}
	tracer := arptrace.NewTracer(arptrace.Config{Interface: c.Interface})
	plan, err := tracer.PlanScan(g.Ctx, targets, opts)
	if err != nil {
		return arpErr(err)
	}
	w := g.Stdout
	var mu sync.Mutex // the reader's replies and the sender's progress
	progressShown := false
	if !c.JSON && !c.Plain {
		fmt.Fprintf(w, "Interface: %s, type: EN10MB, MAC: %v, IPv4: %v\n", plan.Interface.Name, plan.Interface.MAC, plan.Source)
		if !c.Quiet && oui.Len() == 0 {
			fmt.Fprintln(w, "(no OUI registry found: vendors unknown; install Debian package arp-scan or ieee-data)")
		}
		fmt.Fprintf(w, "Starting addrwalk arp scan with %d hosts (interval %s, %d attempts, timeout %s, backoff %.2f)\n",
			len(targets), arptrace.FormatMillis(plan.Interval), plan.Tries, arptrace.FormatMillis(plan.Timeout), plan.Backoff)
	}
	enc := json.NewEncoder(w)
	opts.OnResponse = func(r arptrace.ScanResponse) {
		mu.Lock()
		defer mu.Unlock()
		if progressShown {
			fmt.Fprint(g.Stderr, "\r\033[K")
			progressShown = false
		}
		switch {
		case c.JSON:
			_ = enc.Encode(arpScanHostLine{Type: "host", ScanResponse: r})
		case r.Dup > 1 && c.IgnoreDups:
		default:
			line := fmt.Sprintf("%v\t%v", r.IP, r.MAC)
			if !c.Quiet { // arp-scan -q: only ${ip} and ${mac}
				line += "\t" + r.Vendor
				if r.Dup > 1 {
					line += fmt.Sprintf(" (DUP: %d)", r.Dup)
				}
			}
			fmt.Fprintln(w, line)
		}
	}
	if !c.NoProgress && !c.JSON && arpIsTerminal(g.Stderr) {
		opts.Progress = func(sent, total, responded int) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(g.Stderr, "\r%d/%d sent, %d responded", sent, total, responded)
			progressShown = true
		}
	}
	res, err := tracer.Scan(g.Ctx, targets, opts)
	if progressShown {
		fmt.Fprint(g.Stderr, "\r\033[K")
	}
	if err != nil {
		return arpErr(err)
	}
	if c.JSON {
		if res.Hosts == nil {
			res.Hosts = []arptrace.ScanHost{}
		}
		if err := enc.Encode(arpScanSummaryLine{Type: "summary", ScanResult: res}); err != nil {
			return withExit(ExitUsage, fmt.Errorf("arp scan: write json: %w", err))
		}
		return nil
	}
	if !c.Plain {
		fmt.Fprintf(w, "\n%d packets received by filter, %d packets dropped by kernel\n", res.Received, res.Dropped)
		fmt.Fprintf(w, "Ending addrwalk arp scan: %d hosts scanned in %.3f seconds (%.2f hosts/sec). %d responded\n",
			res.Scanned, time.Duration(res.Elapsed).Seconds(), res.HostsPerSec, res.Responded)
		if res.Cancelled {
			fmt.Fprintln(w, "interrupted")
		}
	}
	return nil
}
