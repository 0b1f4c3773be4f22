package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"

	"github.com/addrwalk/addrwalk/resolver/cache"
)

// errUnavailable is returned by commands whose part of the server is not
// configured.
var errUnavailable = errors.New("not available in this server")

// run executes req, reading any upload from in and writing the output to
// out.
func (s *Server) run(ctx context.Context, req Request, in io.Reader, out io.Writer) error {
	b := &s.b
	switch req.Cmd {
	case "status":
		return s.status(req, out)
	case "stats":
		return s.stats(req, out)
	case "reload":
		if b.Reload == nil {
			return fmt.Errorf("reload: %w", errUnavailable)
		}
		if err := b.Reload(ctx); err != nil {
			return fmt.Errorf("reload failed, the running configuration is kept: %w", err)
		}
		fmt.Fprintln(out, "reloaded")
		return nil
	case "flush":
		sel := cache.Selector{Name: req.Args[0]}
		if err := checkName(sel.Name); err != nil {
			return err
		}
		if len(req.Args) == 2 {
			t, ok := dns.StringToType[strings.ToUpper(req.Args[1])]
			if !ok {
				return usagef("flush: unknown type %q", req.Args[1])
			}
			sel.Type = t
		}
		return s.flush(sel, out)
	case "flush-zone":
		if err := checkName(req.Args[0]); err != nil {
			return err
		}
		return s.flush(cache.Selector{Name: req.Args[0], Below: true}, out)
	case "flush-negative":
		return s.flush(cache.Selector{Negative: true}, out)
	case "flush-bogus":
		return s.flush(cache.Selector{Bogus: true}, out)
	case "flush-infra":
		if b.Infra == nil {
			return fmt.Errorf("flush-infra: %w", errUnavailable)
		}
		var addr netip.Addr
		if req.Args[0] != "all" {
			a, err := netip.ParseAddr(req.Args[0])
			if err != nil {
				return usagef("flush-infra: %q is neither an IP address nor \"all\"", req.Args[0])
			}
			addr = a
		}
		fmt.Fprintf(out, "flushed %d infra entries\n", b.Infra.Forget(addr))
		return nil
	case "dump-cache":
		if b.Cache == nil {
			return fmt.Errorf("dump-cache: %w", errUnavailable)
		}
		_, err := b.Cache.Dump(out)
		return err
	case "load-cache":
		if b.Cache == nil {
			return fmt.Errorf("load-cache: %w", errUnavailable)
		}
		st, err := b.Cache.Load(in)
		if err != nil {
			// The client shows it after "ctl load-cache:"; the chain
			// ends at the wire (Response.Error) anyway.
			return errors.New(strings.TrimPrefix(err.Error(), "cache: load: "))
		}
		if b.Handler != nil {
			b.Handler.FlushPacketCache()
		}
		fmt.Fprintf(out, "loaded %d entries (%d stored)\n", st.Entries, st.Stored)
		return nil
	case "lookup":
		if err := checkName(req.Args[0]); err != nil {
			return err
		}
		return s.lookup(dns.Fqdn(req.Args[0]), out)
	case "list-forwards":
		if b.Forwards == nil {
			return nil
		}
		for _, z := range b.Forwards() {
			fmt.Fprintf(out, "%s %s %s\n", z.Kind, z.Zone, strings.Join(z.Servers, " "))
		}
		return nil
	case "list-local-data":
		if b.Handler == nil {
			return fmt.Errorf("list-local-data: %w", errUnavailable)
		}
		for _, rr := range b.Handler.Settings().Local.Records() {
			fmt.Fprintln(out, strings.Join(strings.Fields(rr.String()), " "))
		}
		return nil
	case "trace-on":
		return s.traceOn(req, out)
	case "trace-off":
		return s.traceOff(req, out)
	case "trace-dump":
		return s.traceDump(req, out)
	case "anchors":
		if b.Anchors == nil {
			fmt.Fprintln(out, "no trust anchors: validation is off")
			return nil
		}
		for _, l := range b.Anchors() {
			fmt.Fprintln(out, l)
		}
		return nil
	}
	return usagef("unknown command %q", req.Cmd)
}

func checkName(name string) error {
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return usagef("%q is not a domain name", name)
	}
	return nil
}

// flush removes what sel selects from the resolver's cache, and empties
// the packet cache so no copy of it survives there.
func (s *Server) flush(sel cache.Selector, out io.Writer) error {
	if s.b.Cache == nil {
		return fmt.Errorf("flush: %w", errUnavailable)
	}
	n := s.b.Cache.Flush(sel)
	if s.b.Handler != nil {
		s.b.Handler.FlushPacketCache()
	}
	fmt.Fprintf(out, "flushed %d entries\n", n)
	return nil
}

// Status is what status reports.
type Status struct {
	Version    string        `json:"version"`
	Uptime     time.Duration `json:"uptime_ns"`
	ConfigFile string        `json:"config_file,omitempty"`
	Listeners  []Listener    `json:"listeners"`
	// SharedCache is the [cachedb] shared cache's state, if configured.
	SharedCache string `json:"shared_cache,omitempty"`
}

func (s *Server) status(req Request, out io.Writer) error {
	st := Status{Version: s.b.Version, Uptime: s.b.Now().Sub(s.b.Started).Truncate(time.Second), ConfigFile: s.b.ConfigFile}
	if s.b.Listeners != nil {
		st.Listeners = s.b.Listeners()
	}
	if s.b.SharedCache != nil {
		st.SharedCache = s.b.SharedCache()
	}
	if req.JSON {
		return json.NewEncoder(out).Encode(st)
	}
	fmt.Fprintf(out, "version: %s\nuptime: %s\n", st.Version, st.Uptime)
	if st.ConfigFile != "" {
		fmt.Fprintf(out, "config: %s\n", st.ConfigFile)
	}
	for _, l := range st.Listeners {
		fmt.Fprintf(out, "listener: %s %s\n", l.Transport, l.Addr)
	}
	if st.SharedCache != "" {
		fmt.Fprintf(out, "shared cache: %s\n", st.SharedCache)
	}
	return nil
}

// stats prints every sample of the metrics registry: "name{labels} value"
// lines (histograms as _count and _sum), or a JSON object of the same.
func (s *Server) stats(req Request, out io.Writer) error {
	if s.b.Metrics == nil {
		return fmt.Errorf("stats: %w", errUnavailable)
	}
	fams, err := s.b.Metrics.Registry().Gather()
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	type sample struct {
		key string
		v   float64
	}
	var samples []sample
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := labelString(m.GetLabel())
			name := f.GetName()
			switch {
			case m.Counter != nil:
				samples = append(samples, sample{name + labels, m.Counter.GetValue()})
			case m.Gauge != nil:
				samples = append(samples, sample{name + labels, m.Gauge.GetValue()})
			case m.Histogram != nil:
				samples = append(samples, sample{name + "_count" + labels, float64(m.Histogram.GetSampleCount())},
					sample{name + "_sum" + labels, m.Histogram.GetSampleSum()})
			case m.Summary != nil:
				samples = append(samples, sample{name + "_count" + labels, float64(m.Summary.GetSampleCount())},
					sample{name + "_sum" + labels, m.Summary.GetSampleSum()})
			case m.Untyped != nil:
				samples = append(samples, sample{name + labels, m.Untyped.GetValue()})
			}
		}
	}
	slices.SortFunc(samples, func(a, b sample) int { return strings.Compare(a.key, b.key) })
	if req.JSON {
		obj := make(map[string]float64, len(samples))
		for _, s := range samples {
			if !math.IsNaN(s.v) && !math.IsInf(s.v, 0) {
				obj[s.key] = s.v
			}
		}
		return json.NewEncoder(out).Encode(obj)
	}
	for _, s := range samples {
		fmt.Fprintf(out, "%s %g\n", s.key, s.v)
	}
	return nil
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// lookup explains where the resolver would send a question for name: a
// configured forward or stub zone, else the closest delegation cached,
// its servers' cached addresses and what the infrastructure cache knows
// of each.
func (s *Server) lookup(name string, out io.Writer) error {
	b := &s.b
	fmt.Fprintf(out, "name: %s\n", dns.CanonicalName(name))
	if b.Forwards != nil {
		best := Zone{}
		for _, z := range b.Forwards() {
			if dns.IsSubDomain(z.Zone, name) && (best.Zone == "" || dns.CountLabel(z.Zone) > dns.CountLabel(best.Zone)) {
				best = z
			}
		}
		if best.Zone != "" {
			fmt.Fprintf(out, "%s zone %s (configured): servers %s\n", best.Kind, best.Zone, strings.Join(best.Servers, " "))
			if best.Kind == "forward" {
				return nil
			}
		}
	}
	if b.Cache == nil {
		return fmt.Errorf("lookup: %w", errUnavailable)
	}
	d, ok := b.Cache.ClosestDelegation(name, dns.ClassINET)
	if !ok {
		fmt.Fprintln(out, "no delegation cached: the resolver starts at the root hints")
		return nil
	}
	fmt.Fprintf(out, "delegation: %s (cached NS set, %d s left)\n", d.Zone, d.TTL)
	var addrs []netip.Addr
	for _, ns := range d.NS {
		as := d.Addrs[ns]
		if len(as) == 0 {
			fmt.Fprintf(out, "  %s: no address cached (would be resolved first)\n", ns)
			continue
		}
		for _, a := range as {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				continue
			}
			addrs = append(addrs, ip)
			line := fmt.Sprintf("  %s %s:", ns, a)
			if b.Infra != nil {
				if e, ok := b.Infra.Lookup(ip, d.Zone); ok {
					line += fmt.Sprintf(" srtt %v rto %v timeouts %d", e.SRTT.Round(time.Microsecond), e.RTO, e.Timeouts)
					if e.Lame {
						line += " lame"
					}
				} else {
					line += " not yet queried"
				}
			}
			fmt.Fprintln(out, line)
		}
	}
	if b.Infra != nil && len(addrs) > 0 {
		if sel, err := b.Infra.Select(d.Zone, addrs); err == nil {
			fmt.Fprintf(out, "would ask: %s (%s, timeout %v)\n", sel.Addr, sel.Reason(), sel.RTO)
		} else {
			fmt.Fprintf(out, "would ask: none usable (%v)\n", err)
		}
	}
	return nil
}
