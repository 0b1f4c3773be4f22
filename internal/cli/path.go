package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/resolver"
)

// maxHostsLines bounds how much of a hosts file is read: real ones have a
// few dozen lines; a runaway file must not stall the walk.
const maxHostsLines = 100000

// PathCmd is `addrwalk path NAME`: hosts file, DNS, route, next hop, MAC.
type PathCmd struct {
	Name      string       `arg:"" help:"Host name to follow all the way to a MAC address."`
	Hosts     string       `default:"/etc/hosts" placeholder:"FILE" help:"Hosts file to check first, as the OS does."`
	NoHosts   bool         `name:"no-hosts" help:"Skip the hosts file and always walk DNS."`
	Sim       bool         `help:"Resolve against the built-in simulated internet instead of the real root servers."`
	Interface string       `short:"i" help:"Interface for the ARP step (default: the one the route uses)."`
	ARPWait   durationFlag `name:"arp-timeout" default:"1" placeholder:"SECONDS" help:"Wait for the ARP reply, in seconds or with a unit (1, 0.3, 300ms)."`
	ResolverFlags
	PictureFlags
	pics *pathPictures // what --svg and --html draw
}

// Run follows the name.
func (c *PathCmd) Run(g *Globals) (err error) {
	w := g.Stdout
	name, err := parseName(c.Name)
	if err != nil {
		return err
	}
	// Host names compare without case; the path is shown in lower case.
	name = strings.ToLower(name)
	wait := c.ARPWait.d()
	if wait <= 0 {
		return usageErr("--arp-timeout must be more than 0")
	}

	c.pics = newPathPictures(c.PictureFlags)
	defer func() {
		if werr := c.pics.write(name); werr != nil && err == nil {
			err = werr
		}
	}()
	fmt.Fprintf(w, "== 1. hosts file\n")
	var ip netip.Addr
	if c.NoHosts {
		fmt.Fprintf(w, "   skipped (--no-hosts)\n")
		c.pics.stage("hosts file", "skipped", "--no-hosts", "skipped")
	} else {
		a, line, herr := lookupHosts(c.Hosts, name)
		switch {
		case herr != nil:
			fmt.Fprintf(w, "   %s: %v; going on to DNS\n", c.Hosts, herr)
		case a.IsValid():
			fmt.Fprintf(w, "   %s line %d: %s has %v; the OS stops here and never asks DNS (--no-hosts walks DNS)\n", c.Hosts, line, name, a)
			c.pics.stage("hosts file", a.String(), fmt.Sprintf("%s line %d", c.Hosts, line), "done")
			ip = a
		default:
			fmt.Fprintf(w, "   %s has no IPv4 entry for %s; the OS asks DNS next\n", c.Hosts, name)
			c.pics.stage("hosts file", "no entry", c.Hosts, "skipped")
		}
	}

	fmt.Fprintf(w, "\n== 2. DNS: iterative resolution from the root\n")
	if !ip.IsValid() {
		ip, err = c.resolve(g, name)
		if err != nil {
			return err
		}
		c.pics.stage("DNS", ip.String(), "iterative resolution from the root", "done")
	} else {
		fmt.Fprintf(w, "   not needed: the hosts file answered\n")
		c.pics.stage("DNS", "not asked", "the hosts file answered", "skipped")
	}

	fmt.Fprintf(w, "\n== 3. address chosen\n   %v\n", ip)

	fmt.Fprintf(w, "\n== 4. route and next hop\n")
	route, err := arptrace.Route(g.Ctx, ip)
	if err != nil {
		return withExit(ExitFailure, fmt.Errorf("path: route to %v: %w", ip, err))
	}
	if route.OnLink {
		c.pics.stage("route", "on-link on "+route.Interface, "source "+route.Source.String(), "done")
	} else {
		c.pics.stage("route", "via "+route.Gateway.String()+" on "+route.Interface, "source "+route.Source.String(), "done")
	}
	c.pics.stage("next hop", route.NextHop.String(), "the address whose MAC the packet needs", "done")
	if route.OnLink {
		fmt.Fprintf(w, "   %v is on-link on %s (source %v): the next hop is the host itself\n", ip, route.Interface, route.Source)
	} else {
		fmt.Fprintf(w, "   %v is off-link: via gateway %v on %s (source %v); the packet goes to the gateway's MAC\n",
			ip, route.Gateway, route.Interface, route.Source)
	}

	fmt.Fprintf(w, "\n== 5. ARP for the next hop %v\n", route.NextHop)
	iface := c.Interface
	if iface == "" {
		iface = route.Interface
	}
	tr, err := arptrace.NewTracer(arptrace.Config{Interface: iface}).Trace(g.Ctx, route.NextHop,
		arptrace.TraceOptions{Count: 1, Interval: wait, StopOnReply: true, Direct: true})
	if err != nil {
		c.pics.stage("MAC", "ARP failed", err.Error(), "failed")
		return arpErr(err)
	}
	if c.pics != nil {
		c.pics.arp = tr
		if len(tr.Summary.MACs) > 0 {
			c.pics.stage("MAC", tr.Summary.MACs[0].String(), "ARP on "+tr.Interface.Name, "done")
		} else {
			c.pics.stage("MAC", "no reply", "ARP on "+tr.Interface.Name, "failed")
		}
	}
	arpPrintTrace(w, tr)
	mac := "no reply"
	if len(tr.Summary.MACs) > 0 {
		mac = tr.Summary.MACs[0].String()
	}
	fmt.Fprintf(w, "\n%s → %v → via %v (%s) on %s\n", strings.TrimSuffix(name, "."), ip, route.NextHop, mac, tr.Interface.Name)
	if len(tr.Summary.MACs) == 0 {
		return withExit(ExitNoReply, nil)
	}
	return nil
}

// resolve walks DNS for name's A records, with the trace, and picks the
// first address.
func (c *PathCmd) resolve(g *Globals, name string) (netip.Addr, error) {
	var r *resolver.Resolver
	if c.Sim {
		lab, err := sim.New(sim.Config{NoLatency: true})
		if err != nil {
			return netip.Addr{}, err
		}
		if err := lab.Start(g.Ctx); err != nil {
			return netip.Addr{}, fmt.Errorf("path: starting the simulated internet: %w", err)
		}
		defer lab.Close()
		if r, err = labResolver(lab, c.NoQmin, false); err != nil {
			return netip.Addr{}, err
		}
	} else {
		cfg, err := c.config()
		if err != nil {
			return netip.Addr{}, err
		}
		if r, err = resolver.New(cfg); err != nil {
			return netip.Addr{}, withExit(ExitUsage, err)
		}
	}
	defer r.Close()
	tp := newTracePrinter(g.Stdout)
	res, err := r.Query(g.Ctx, resolver.Request{Name: name, Type: dns.TypeA, Observer: tp, Trace: c.pics != nil})
	c.pics.resolution(name, dns.TypeA, res, err)
	if err != nil {
		var rerr *resolver.Error
		if errors.As(err, &rerr) {
			return netip.Addr{}, withExit(ExitDNSNoReply, err)
		}
		return netip.Addr{}, withExit(ExitUsage, err)
	}
	tp.summary(res)
	for _, rr := range res.Answer {
		if a, ok := rr.(*dns.A); ok {
			ip, _ := netip.AddrFromSlice(a.A.To4())
			return ip, nil
		}
	}
	return netip.Addr{}, withExit(ExitDNSNoReply, fmt.Errorf("path: %s has no IPv4 address (%s)", name, dns.RcodeToString[res.Rcode]))
}

// lookupHosts finds name's first IPv4 address in a hosts file, as glibc's
// "files" source does: case-insensitive, canonical name or alias.
func lookupHosts(path, name string) (netip.Addr, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	defer f.Close()
	return scanHosts(f, name)
}

func scanHosts(r io.Reader, name string) (netip.Addr, int, error) {
	want := strings.TrimSuffix(strings.ToLower(name), ".")
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		if line > maxHostsLines {
			return netip.Addr{}, 0, fmt.Errorf("more than %d lines", maxHostsLines)
		}
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || !a.Is4() {
			continue
		}
		for _, h := range f[1:] {
			if strings.TrimSuffix(strings.ToLower(h), ".") == want {
				return a, line, nil
			}
		}
	}
	return netip.Addr{}, 0, sc.Err()
}
