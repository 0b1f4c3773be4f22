package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/hostsfile"
	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/ndptrace"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/report"
)

// maxHostsAddrs bounds the addresses one name collects from a hosts file:
// glibc returns every matching line, and a name with more than a few
// addresses in /etc/hosts is a mistake, not a reason to grow without end.
const maxHostsAddrs = 32

// systemHosts is the hosts file path reads when --hosts names none.
const systemHosts = "/etc/hosts"

// PathCmd is `addrwalk path NAME`: hosts file, DNS, route, next hop, MAC.
type PathCmd struct {
	Name      string       `arg:"" help:"Host name to follow all the way to a MAC address."`
	Hosts     string       `placeholder:"FILE" help:"Hosts file to check first, as the OS does (default /etc/hosts; a file named here must exist)."`
	NoHosts   bool         `name:"no-hosts" help:"Skip the hosts file and always walk DNS."`
	Sim       bool         `help:"Resolve against the built-in simulated internet instead of the real root servers."`
	Family    string       `name:"family" enum:"any,ipv4,ipv6" default:"any" placeholder:"FAMILY" help:"Address family to follow: ipv4 (A records, then ARP), ipv6 (AAAA records, then Neighbor Discovery) or any (both, IPv6 preferred when it has a route, as getaddrinfo). (-4 and -6 choose the upstream servers' family.)"`
	Interface string       `short:"i" placeholder:"DEV" help:"Interface for the ARP or ND step (default: the one the route uses)."`
	ARPWait   durationFlag `name:"arp-timeout" default:"1" placeholder:"SECONDS" help:"Wait for the ARP reply or Neighbor Advertisement, in seconds or with a unit (1, 0.3, 300ms)."`
	JSON      bool         `name:"json" help:"Print the whole path as one JSON document (schema: internal/cli/path.schema.json; the DNS walks as resolve --json prints them)."`
	ResolverFlags
	PictureFlags
	pics *pathPictures // what --svg and --html draw
}

// pathRun is one run of `path`: where text goes and what --json prints.
type pathRun struct {
	c    *PathCmd
	g    *Globals
	w    io.Writer // the human trace; io.Discard with --json
	doc  *PathDoc
	wait time.Duration
	// literal is NAME when it is an address (no hosts file, no DNS).
	literal netip.Addr
}

// Run follows the name.
func (c *PathCmd) Run(g *Globals) (err error) {
	if err := c.PictureFlags.check(); err != nil {
		return err
	}
	var name string
	literal, lerr := netip.ParseAddr(c.Name)
	switch {
	case lerr == nil && literal.Zone() != "":
		return usageErr("path %q: give the address without its zone, and the link with -i %s", c.Name, literal.Zone())
	case lerr == nil:
		// An address is taken as it is, as getaddrinfo takes a numeric
		// host: no hosts file, no DNS.
		name = literal.String()
	default:
		if name, err = parseName(c.Name); err != nil {
			return err
		}
		// Host names compare without case; the path is shown in lower case.
		name = strings.ToLower(name)
	}
	wait := c.ARPWait.d()
	if wait <= 0 {
		return usageErr("--arp-timeout must be more than 0")
	}
	if c.Interface != "" {
		// Checked before the walk: a typo must not cost a whole DNS
		// resolution before it is reported.
		if _, err := arptrace.InterfaceByName(c.Interface); err != nil {
			return arpErr(fmt.Errorf("--interface: %w", err))
		}
	}
	if c.Hosts != "" && !c.NoHosts {
		// A hosts file named on the command line must be there: a typo
		// must not silently become an empty file and a DNS walk. The
		// system's own may be missing, as glibc allows.
		f, err := fileerr.Open("--hosts", c.Hosts)
		if err != nil {
			return withExit(ExitUsage, err)
		}
		f.Close()
	} else if c.Hosts == "" {
		c.Hosts = systemHosts
	}
	p := &pathRun{c: c, g: g, w: g.Stdout, doc: &PathDoc{Name: name}, wait: wait, literal: literal}
	if c.JSON {
		p.w = io.Discard
	}
	c.pics = newPathPictures(c.PictureFlags)
	start := time.Now()
	defer func() {
		if werr := c.pics.write(name); werr != nil && err == nil {
			err = werr
		}
		if c.JSON {
			p.doc.Duration = arptrace.Millis(time.Since(start))
			if err != nil {
				p.doc.Error = err.Error()
			}
			if jerr := arpWriteJSON(g.Stdout, p.doc); jerr != nil && err == nil {
				err = withExit(ExitUsage, jerr)
			}
		}
	}()
	return p.run(name)
}

// families are the address types asked for, preferred first.
func (c *PathCmd) families() []uint16 {
	switch c.Family {
	case "ipv4":
		return []uint16{dns.TypeA}
	case "ipv6":
		return []uint16{dns.TypeAAAA}
	}
	return []uint16{dns.TypeA, dns.TypeAAAA}
}

func (p *pathRun) run(name string) error {
	c, w := p.c, p.w
	fmt.Fprintf(w, "== 1. hosts file\n")
	var addrs []netip.Addr
	if p.literal.IsValid() {
		addrs = []netip.Addr{p.literal}
		fmt.Fprintf(w, "   not needed: %s is an address, taken as it is (as getaddrinfo takes a numeric host)\n", name)
		c.pics.stage("hosts file", "not needed", name+" is an address", "skipped")
	} else {
		addrs = p.hosts(name)
	}

	fmt.Fprintf(w, "\n== 2. DNS: iterative resolution from the root\n")
	if p.literal.IsValid() {
		fmt.Fprintf(w, "   not needed: %s is an address\n", name)
		c.pics.stage("DNS", "not asked", name+" is an address", "skipped")
	} else if len(addrs) == 0 {
		var err error
		if addrs, err = p.resolve(name); err != nil {
			return err
		}
		c.pics.stage("DNS", joinAddrs(addrs), "iterative resolution from the root", "done")
	} else {
		fmt.Fprintf(w, "   not needed: the hosts file answered\n")
		c.pics.stage("DNS", "not asked", "the hosts file answered", "skipped")
	}

	fmt.Fprintf(w, "\n== 3. address chosen\n")
	ch, route, err := chooseAddress(p.g.Ctx, addrs, c.Family != "any", arptrace.Route)
	p.doc.Chosen = ch
	if ch != nil {
		for _, r := range ch.Rejected {
			fmt.Fprintf(w, "   not %v: %s\n", r.Address, r.Reason)
		}
	}
	if err != nil {
		return withExit(ExitFailure, fmt.Errorf("path: %w", err))
	}
	ip := ch.Address
	fmt.Fprintf(w, "   %v (%s): %s\n", ip, ch.Family, ch.Reason)

	fmt.Fprintf(w, "\n== 4. route and next hop\n")
	p.doc.Route, p.doc.NextHop = &route, route.NextHop
	if route.OnLink {
		c.pics.stage("route", "on-link on "+route.Interface, "source "+route.Source.String(), "done")
		fmt.Fprintf(w, "   %v is on-link on %s (source %v): the next hop is the host itself\n", ip, route.Interface, route.Source)
	} else {
		c.pics.stage("route", "via "+route.Gateway.String()+" on "+route.Interface, "source "+route.Source.String(), "done")
		fmt.Fprintf(w, "   %v is off-link: via gateway %v on %s (source %v); the packet goes to the gateway's MAC\n",
			ip, route.Gateway, route.Interface, route.Source)
	}
	c.pics.stage("next hop", route.NextHop.String(), "the address whose MAC the packet needs", "done")

	iface := c.Interface
	if iface == "" {
		iface = route.Interface
	}
	var macs []arptrace.MAC
	if ip.Is6() {
		fmt.Fprintf(w, "\n== 5. Neighbor Discovery for the next hop %v\n", route.NextHop)
		tr, err := ndptrace.Solicit(p.g.Ctx, route.NextHop, ndptrace.Options{Interface: iface, Attempts: 1, Wait: p.wait})
		if err != nil {
			c.pics.stage("MAC", "ND failed", err.Error(), "failed")
			return arpErr(err)
		}
		p.doc.ND, p.doc.Neighbour, p.doc.Interface = tr, tr.Before, tr.Interface
		macs = tr.Summary.MACs
		c.pics.neighbour("ND on "+tr.Interface, macs)
		if c.pics != nil {
			c.pics.nd = tr
		}
		ndpPrintTrace(w, tr)
	} else {
		fmt.Fprintf(w, "\n== 5. ARP for the next hop %v\n", route.NextHop)
		tr, err := arptrace.NewTracer(arptrace.Config{Interface: iface}).Trace(p.g.Ctx, route.NextHop,
			arptrace.TraceOptions{Count: 1, Interval: p.wait, StopOnReply: true, Direct: true})
		if err != nil {
			c.pics.stage("MAC", "ARP failed", err.Error(), "failed")
			return arpErr(err)
		}
		p.doc.ARP, p.doc.Neighbour, p.doc.Interface = tr, tr.Before, tr.Interface.Name
		macs = tr.Summary.MACs
		c.pics.neighbour("ARP on "+tr.Interface.Name, macs)
		if c.pics != nil {
			c.pics.arp = tr
		}
		arpPrintTrace(w, tr)
	}
	mac := "no reply"
	if len(macs) > 0 {
		mac = macs[0].String()
		p.doc.MAC = macs[0]
	}
	fmt.Fprintf(w, "\n%s → %v → via %v (%s) on %s\n", strings.TrimSuffix(name, "."), ip, route.NextHop, mac, p.doc.Interface)
	if len(macs) == 0 {
		return withExit(ExitNoReply, nil)
	}
	return nil
}

// hosts looks name up in the hosts file, as the OS does first; the
// addresses it returns end the name's resolution.
func (p *pathRun) hosts(name string) []netip.Addr {
	c, w := p.c, p.w
	h := &PathHosts{File: c.Hosts}
	p.doc.Hosts = h
	if c.NoHosts {
		h.Skipped = true
		fmt.Fprintf(w, "   skipped (--no-hosts)\n")
		c.pics.stage("hosts file", "skipped", "--no-hosts", "skipped")
		return nil
	}
	found, err := lookupHosts(c.Hosts, name)
	var addrs []netip.Addr
	for _, e := range found {
		if (e.Address.Is4() && c.Family == "ipv6") || (e.Address.Is6() && c.Family == "ipv4") {
			continue
		}
		h.Entries = append(h.Entries, e)
		addrs = append(addrs, e.Address)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(w, "   there is no %s; the OS asks DNS next\n", c.Hosts)
		c.pics.stage("hosts file", "no file", c.Hosts, "skipped")
	case err != nil:
		h.Error = err.Error()
		fmt.Fprintf(w, "   %v; going on to DNS\n", err)
	case len(addrs) > 0:
		for _, e := range h.Entries {
			fmt.Fprintf(w, "   %s line %d: %s has %v\n", c.Hosts, e.Line, name, e.Address)
		}
		fmt.Fprintf(w, "   the OS stops here and never asks DNS (--no-hosts walks DNS)\n")
		c.pics.stage("hosts file", joinAddrs(addrs), fmt.Sprintf("%s line %d", c.Hosts, h.Entries[0].Line), "done")
	default:
		fmt.Fprintf(w, "   %s has no %s entry for %s; the OS asks DNS next\n", c.Hosts, p.familyWords(), name)
		c.pics.stage("hosts file", "no entry", c.Hosts, "skipped")
	}
	return addrs
}

func (p *pathRun) familyWords() string {
	switch p.c.Family {
	case "ipv4":
		return "IPv4"
	case "ipv6":
		return "IPv6"
	}
	return "IPv4 or IPv6"
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// resolve walks DNS for name's A and AAAA records (as getaddrinfo asks
// for both), with the trace, and returns every address found.
func (p *pathRun) resolve(name string) ([]netip.Addr, error) {
	c, g := p.c, p.g
	var r *resolver.Resolver
	if c.Sim {
		lab, err := sim.New(sim.Config{NoLatency: true})
		if err != nil {
			return nil, err
		}
		if err := lab.Start(g.Ctx); err != nil {
			return nil, fmt.Errorf("path: starting the simulated internet: %w", err)
		}
		defer lab.Close()
		if r, err = labResolver(lab, c.NoQmin, false); err != nil {
			return nil, err
		}
	} else {
		cfg, err := c.config()
		if err != nil {
			return nil, err
		}
		if r, err = resolver.New(cfg); err != nil {
			return nil, withExit(ExitUsage, err)
		}
	}
	defer r.Close()
	var addrs []netip.Addr
	var rcodes []string
	for _, qtype := range c.families() {
		fmt.Fprintf(p.w, "   -- %s %s\n", name, dns.TypeToString[qtype])
		tp := newTracePrinter(p.w)
		res, err := r.Query(g.Ctx, resolver.Request{Name: name, Type: qtype, Observer: tp, Trace: c.pics != nil || c.JSON})
		c.pics.resolution(name, qtype, res, err)
		if c.JSON {
			p.doc.DNS = append(p.doc.DNS, report.FromResult(name, qtype, res, err))
		}
		if err != nil {
			var rerr *resolver.Error
			if errors.As(err, &rerr) {
				return nil, withExit(ExitDNSNoReply, err)
			}
			return nil, withExit(ExitUsage, err)
		}
		tp.summary(res)
		rcodes = append(rcodes, dns.TypeToString[qtype]+" "+dns.RcodeToString[res.Rcode])
		for _, rr := range res.Answer {
			switch a := rr.(type) {
			case *dns.A:
				if ip, ok := netip.AddrFromSlice(a.A.To4()); ok && qtype == dns.TypeA {
					addrs = append(addrs, ip)
				}
			case *dns.AAAA:
				if ip, ok := netip.AddrFromSlice(a.AAAA); ok && qtype == dns.TypeAAAA && !ip.Is4In6() {
					addrs = append(addrs, ip)
				}
			}
		}
		if res.Rcode == dns.RcodeNameError {
			break // no such name: the other type cannot exist either (RFC 8020)
		}
	}
	if len(addrs) == 0 {
		return nil, withExit(ExitDNSNoReply, fmt.Errorf("path: %s has no %s address (%s)", name, p.familyWords(), strings.Join(rcodes, ", ")))
	}
	return addrs, nil
}

// lookupHosts finds name's addresses in a hosts file, as glibc's "files"
// source does for getaddrinfo: every matching line, in file order;
// case-insensitive, canonical name or alias.
func lookupHosts(path, name string) ([]PathHostsEntry, error) {
	f, err := fileerr.Open("hosts file", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out, err := scanHosts(f, name)
	return out, fileerr.Reading("hosts file", path, err)
}

func scanHosts(r io.Reader, name string) ([]PathHostsEntry, error) {
	want := strings.TrimSuffix(strings.ToLower(name), ".")
	var out []PathHostsEntry
	errEnough := errors.New("enough addresses")
	err := hostsfile.Scan(r, func(e hostsfile.Entry) error {
		if e.Err != nil || e.Addr.Zone() != "" || e.Addr.Is4In6() {
			return nil // glibc passes over what it cannot use
		}
		for _, h := range e.Names {
			if strings.TrimSuffix(strings.ToLower(h), ".") == want {
				out = append(out, PathHostsEntry{Address: e.Addr, Line: e.Line})
				break
			}
		}
		if len(out) == maxHostsAddrs {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}
