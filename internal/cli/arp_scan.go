package cli

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
)

// ArpScanCmd is `addrwalk arp scan`.
type ArpScanCmd struct {
	CIDR       string       `arg:"" help:"IPv4 prefix to scan, e.g. 192.0.2.0/24 (a bare address scans just it)."`
	Interface  string       `short:"i" help:"Interface (default: the one routing to the prefix)."`
	Rate       float64      `help:"Packets per second (overrides --bandwidth)."`
	Bandwidth  string       `short:"B" default:"256k" help:"Bandwidth limit in bits/s, with k/M suffix (arp-scan's default 256k)."`
	Retry      int          `short:"r" default:"2" help:"Attempts per host, as arp-scan --retry (later ones go only to hosts that did not answer)."`
	Timeout    durationFlag `short:"t" default:"0.5" help:"Time a host has to answer its first request (seconds); each retry waits --backoff times longer."`
	Backoff    float64      `short:"b" default:"1.5" help:"Timeout multiplier per retry."`
	Random     bool         `short:"R" help:"Probe hosts in random order."`
	Seed       uint64       `help:"Seed for --random (0: from the clock)."`
	Force      bool         `help:"Allow ranges larger than 4096 addresses (up to a /16)."`
	OUIFile    string       `name:"oui-file" help:"OUI vendor file (default: arp-scan's or ieee-data's if installed)."`
	JSON       bool         `name:"json" help:"Print JSON."`
	NoProgress bool         `name:"no-progress" help:"No progress bar even on a terminal."`
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
		fmt.Fprintf(w, "%-15v  %-17v  %12s  %s%s\n", h.IP, h.MAC, arptrace.FormatMillis(h.RTT), h.Vendor, flag)
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
