package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/zoneerr"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/report"
)

// ResolverFlags are the resolver settings shared by resolve, demo and path.
type ResolverFlags struct {
	RootHints     string       `name:"root-hints" placeholder:"FILE" help:"Root hints file in named.root format (default: built-in IANA hints)."`
	Timeout       durationFlag `default:"${resolver_timeout}" placeholder:"SECONDS" help:"Deadline for the whole resolution, in seconds or with a unit (8, 0.5, 1500ms)."`
	QueryTimeout  durationFlag `name:"query-timeout" default:"${resolver_query_timeout}" placeholder:"SECONDS" help:"Wait for one upstream reply, in seconds or with a unit (1.2, 1200ms)."`
	IPv4Only      bool         `short:"4" name:"ipv4" help:"Query IPv4 upstreams only."`
	IPv6Only      bool         `short:"6" name:"ipv6" help:"Query IPv6 upstreams only."`
	AllowLoopback bool         `name:"allow-loopback" help:"Allow upstream servers on 127.0.0.0/8 and ::1 learned from delegations."`
	Port          uint16       `default:"${resolver_port}" placeholder:"PORT" help:"Port of the authoritative servers."`
	NoQmin        bool         `name:"no-qmin" help:"Send the full name to every server (no QNAME minimisation, RFC 9156)."`
	TrustAnchor   []string     `name:"trust-anchor" placeholder:"FILE" help:"DNSSEC trust anchors (DS or DNSKEY records, zone-file text); turns validation on. Default: IANA's root keys when the built-in root hints are used."`
	NoValidate    bool         `name:"no-validate" help:"Do not validate DNSSEC."`
}

// config turns the flags into a resolver configuration.
func (f *ResolverFlags) config() (resolver.Config, error) {
	if f.IPv4Only && f.IPv6Only {
		return resolver.Config{}, usageErr("-4 and -6 exclude each other")
	}
	if f.Timeout <= 0 {
		return resolver.Config{}, usageErr("--timeout must be more than 0")
	}
	if f.QueryTimeout <= 0 {
		return resolver.Config{}, usageErr("--query-timeout must be more than 0")
	}
	cfg := resolver.Config{
		Port:                     f.Port,
		QueryTimeout:             f.QueryTimeout.d(),
		RequestTimeout:           f.Timeout.d(),
		DisableIPv4:              f.IPv6Only,
		DisableIPv6:              f.IPv4Only,
		AllowLoopback:            f.AllowLoopback,
		DisableQNAMEMinimisation: f.NoQmin,
	}
	if f.RootHints != "" {
		b, err := fileerr.ReadFile("--root-hints", f.RootHints, fileerr.MaxSmall)
		if err != nil {
			return cfg, withExit(ExitUsage, err)
		}
		h, err := resolver.ParseHints(bytes.NewReader(b), f.RootHints)
		if err != nil {
			return cfg, withExit(ExitUsage, err)
		}
		cfg.Hints = h
	}
	switch {
	case f.NoValidate:
	case len(f.TrustAnchor) > 0:
		var text strings.Builder
		for _, file := range f.TrustAnchor {
			b, err := fileerr.ReadFile("--trust-anchor", file, fileerr.MaxSmall)
			if err != nil {
				return cfg, withExit(ExitUsage, err)
			}
			// Each file alone first, so an error names its file and line.
			if _, err := dnssec.ParseAnchors(string(b)); err != nil {
				var ze *zoneerr.Error
				if errors.As(err, &ze) {
					ze.File = file
					return cfg, withExit(ExitUsage, fmt.Errorf("--trust-anchor %w", ze))
				}
				return cfg, withExit(ExitUsage, fmt.Errorf("--trust-anchor %s: %w", file, err))
			}
			text.Write(b)
			text.WriteString("\n")
		}
		a, err := dnssec.ParseAnchors(text.String())
		if err != nil {
			return cfg, withExit(ExitUsage, fmt.Errorf("--trust-anchor: %w", err))
		}
		cfg.TrustAnchors = a
	case f.RootHints == "":
		// The real root: validate with IANA's keys, as every validating
		// resolver does. Other hints (a lab, the sim) have other keys,
		// which --trust-anchor supplies.
		cfg.TrustAnchors = dnssec.RootAnchors()
	}
	return cfg, nil
}

// OutputFlags choose how a resolution is printed.
type OutputFlags struct {
	Trace     bool `help:"Print the walk step by step: root, TLD, authoritative."`
	ShowInfra bool `name:"show-infra" help:"After the answer, print the server-selection table (RTT, RTO, timeouts, lameness per server)."`
	JSON      bool `name:"json" help:"Print the result and trace as one JSON document."`
	Short     bool `help:"Print only the answer data, one record per line."`
	DNSSEC    bool `name:"dnssec" help:"Ask for DNSSEC records (DO) and print the answer's RRSIGs as dig +dnssec does, then the chain of trust: each zone cut's DS and DNSKEY sets, the signatures and their windows, and the verdict (needs validation: trust anchors)."`
	PictureFlags
	pics *pictures // collects the resolutions --svg and --html draw

	cd bool // checking disabled, set by resolve --cd
}

// ResolveCmd is `addrwalk resolve NAME [TYPE]`.
type ResolveCmd struct {
	Name    string `arg:"" help:"Domain name to resolve (IDNs are converted to ASCII); with -x, an IP address."`
	Type    string `arg:"" optional:"" help:"Record type (A, AAAA, MX, TXT, ... or TYPEnnn; default A, PTR with -x)."`
	Reverse bool   `short:"x" name:"reverse" help:"NAME is an IPv4 or IPv6 address: look up its PTR name (as dig -x)."`
	CD      bool   `name:"cd" help:"Checking disabled (RFC 4035 §3.2.2): return the data even when DNSSEC validation fails."`
	ResolverFlags
	OutputFlags
}

// Run resolves and prints.
func (c *ResolveCmd) Run(g *Globals) error {
	if err := c.PictureFlags.check(); err != nil {
		return err
	}
	cfg, err := c.config()
	if err != nil {
		return err
	}
	name, typ := c.Name, c.Type
	if c.Reverse {
		var note string
		if name, note, err = reverseName(c.Name); err != nil {
			return err
		}
		if note != "" {
			fmt.Fprintf(g.Stderr, "addrwalk: %s\n", note)
		}
		if typ == "" {
			typ = "PTR"
		}
	}
	if typ == "" {
		typ = "A"
	}
	name, qtype, err := parseQuestion(name, typ)
	if err != nil {
		return err
	}
	r, err := resolver.New(cfg)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	defer r.Close()
	c.pics = newPictures(c.PictureFlags)
	out := c.OutputFlags
	out.cd = c.CD
	err = runResolution(g, r, name, qtype, out)
	if werr := c.pics.write("addrwalk: " + name + " " + typeName(qtype)); werr != nil {
		return werr
	}
	return err
}

// runResolution resolves and prints in the chosen format; the exit status
// follows dig: 0 when an answer came back (NXDOMAIN included), 9 when no
// usable reply did.
func runResolution(g *Globals, r *resolver.Resolver, name string, qtype uint16, out OutputFlags) error {
	req := resolver.Request{Name: name, Type: qtype, DO: out.DNSSEC, CD: out.cd}
	var tp *tracePrinter
	var chain chainCollector
	if out.JSON {
		req.Trace = true
	} else if out.Trace {
		tp = newTracePrinter(g.Stdout)
		req.Observer = tp
		fmt.Fprintf(g.Stdout, ";; walking %s %s from the root\n", name, dns.TypeToString[qtype])
	}
	if out.DNSSEC && !out.JSON {
		if tp != nil {
			req.Observer = resolver.ObserverFunc(func(e resolver.Event) { tp.Observe(e); chain.Observe(e) })
		} else {
			req.Observer = &chain
		}
	}
	if out.pics != nil {
		req.Trace = true
	}
	res, err := r.Query(g.Ctx, req)
	out.pics.add(name, qtype, res, err)
	var rerr *resolver.Error
	if err != nil && (res == nil || !errors.As(err, &rerr)) {
		// No result at all: the question itself was refused (a type
		// that cannot be resolved), not the resolution.
		return withExit(ExitUsage, err)
	}
	switch {
	case out.JSON:
		var infra []cache.InfraEntry
		if out.ShowInfra {
			infra = r.InfraSnapshot()
		}
		if werr := writeJSON(g.Stdout, res, err, infra); werr != nil {
			return werr
		}
	case out.Short:
		// As dig +short: the whole chain (CNAME and DNAME targets), then
		// the data; signatures only when asked for with --dnssec.
		for _, rr := range res.Answer {
			if rr.Header().Rrtype != dns.TypeRRSIG || out.DNSSEC {
				fmt.Fprintln(g.Stdout, rdataString(rr))
			}
		}
	default:
		if tp != nil {
			fmt.Fprintln(g.Stdout)
		}
		printAnswer(g.Stdout, res, err)
		if tp != nil {
			tp.summary(res)
		}
	}
	if out.DNSSEC && !out.JSON {
		chain.print(g.Stdout, res)
	}
	if out.ShowInfra && !out.JSON {
		printInfra(g.Stdout, r.InfraSnapshot())
	}
	if err != nil {
		if out.JSON || out.Short {
			fmt.Fprintf(g.Stderr, "addrwalk: %v\n", err)
		}
		return withExit(ExitDNSNoReply, nil)
	}
	return nil
}

// printInfra prints the infrastructure cache like Unbound's
// dump_infra: one line per server address and zone.
func printInfra(w io.Writer, entries []cache.InfraEntry) {
	fmt.Fprintf(w, "\n;; server selection (infrastructure cache): %d entries\n", len(entries))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, ";; ZONE\tSERVER\tSRTT\tRTTVAR\tRTO\tTIMEOUTS\tLAME")
	for _, e := range entries {
		lame := "-"
		if e.Lame {
			lame = "until " + e.LameUntil.Format(time.TimeOnly)
		}
		zone := e.Zone
		if zone == "" {
			zone = "(any zone)" // the address-wide record
		}
		fmt.Fprintf(tw, ";; %s\t%s\t%s\t%s\t%s\t%d\t%s\n", zone, e.Addr, fmtDur(e.SRTT), fmtDur(e.RTTVar), fmtDur(e.RTO), e.Timeouts, lame)
	}
	tw.Flush()
}

// rdataString is the record's data without owner, TTL, class and type.
func rdataString(rr dns.RR) string {
	h := rr.Header().String()
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), h))
}

// printAnswer prints the result the way dig prints its sections.
func printAnswer(w io.Writer, res *resolver.Result, err error) {
	fmt.Fprintf(w, ";; ->>HEADER<<- status: %s, answer: %d, authority: %d, dnssec: %s\n",
		dns.RcodeToString[res.Rcode], len(res.Answer), len(res.Authority), res.Security)
	var rerr *resolver.Error
	switch {
	case errors.As(err, &rerr):
		// The question is in the sections below: the reason alone.
		fmt.Fprintf(w, ";; SERVFAIL: %s\n", rerr.Why())
	case err != nil:
		fmt.Fprintf(w, ";; SERVFAIL: %v\n", err)
	}
	fmt.Fprintf(w, "\n;; QUESTION SECTION:\n;%s\t\tIN\t%s\n", res.Name, dns.TypeToString[res.Type])
	if len(res.Answer) > 0 {
		fmt.Fprintln(w, "\n;; ANSWER SECTION:")
		for _, rr := range res.Answer {
			fmt.Fprintln(w, rr.String())
		}
	}
	if len(res.Authority) > 0 {
		fmt.Fprintln(w, "\n;; AUTHORITY SECTION:")
		for _, rr := range res.Authority {
			fmt.Fprintln(w, rr.String())
		}
	}
	fmt.Fprintf(w, "\n;; upstream queries: %d, time: %s\n", res.Upstream, fmtDur(res.Duration))
}

// writeJSON prints the resolution in the one JSON form of package report
// (its schema is resolver/report/resolution.schema.json).
func writeJSON(w io.Writer, res *resolver.Result, err error, infra []cache.InfraEntry) error {
	doc := report.FromResult(res.Name, res.Type, res, err)
	if infra != nil {
		doc.Infra = report.InfraEntries(infra)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}
