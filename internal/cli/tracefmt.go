package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/addrwalk/addrwalk/resolver"
)

// tracePrinter prints trace events as they happen, one line per upstream
// query, sub-resolutions indented under the NS name they resolve.
type tracePrinter struct {
	w       io.Writer
	n       int
	servers map[string]bool
}

func newTracePrinter(w io.Writer) *tracePrinter {
	return &tracePrinter{w: w, servers: map[string]bool{}}
}

// Observe implements resolver.Observer.
func (p *tracePrinter) Observe(e resolver.Event) {
	ind := strings.Repeat("    ", e.Depth)
	switch e.Kind {
	case resolver.EventQuery:
		p.n++
		p.servers[e.Addr.String()] = true
		fmt.Fprintf(p.w, "%s%2d. [%s] %s %s -> %s (%s) %s %s\n", ind, p.n, e.Zone, e.Name, e.Type,
			e.Server, e.Addr.Addr(), e.Transport, fmtDur(e.RTT))
		fmt.Fprintf(p.w, "%s      why: %s\n", ind, e.Why)
		head := outcomeHead(e)
		fmt.Fprintf(p.w, "%s      got: %s: %s\n", ind, head, e.Detail)
		if r := e.Referral; r != nil {
			fmt.Fprintf(p.w, "%s           NS %s\n", ind, strings.Join(r.NS, " "))
			for _, g := range r.Glue {
				fmt.Fprintf(p.w, "%s           glue %s\n", ind, g)
			}
			for _, g := range r.IgnoredGlue {
				fmt.Fprintf(p.w, "%s           ignored glue %s\n", ind, g)
			}
		}
		for _, a := range e.Answer {
			fmt.Fprintf(p.w, "%s           %s\n", ind, a)
		}
		for _, a := range e.Negative {
			fmt.Fprintf(p.w, "%s           %s\n", ind, a)
		}
	case resolver.EventSubBegin:
		fmt.Fprintf(p.w, "%s  >> %s\n", ind, e.Detail)
	case resolver.EventSubEnd:
		if e.Err != "" {
			fmt.Fprintf(p.w, "%s  << %s: %s\n", ind, e.Name, e.Err)
		} else {
			fmt.Fprintf(p.w, "%s  << %s\n", ind, e.Detail)
		}
	case resolver.EventRestart:
		fmt.Fprintf(p.w, "%s  => %s: %s\n", ind, e.Name, e.Detail)
	case resolver.EventCache:
		fmt.Fprintf(p.w, "%s  cache: %s\n", ind, e.Detail)
	case resolver.EventFail:
		fmt.Fprintf(p.w, "%s  !! %s %s: %s\n", ind, e.Name, e.Type, e.Err)
	}
}

func (p *tracePrinter) summary(res *resolver.Result) {
	fmt.Fprintf(p.w, ";; walk: %d upstream queries to %d servers in %s\n", res.Upstream, len(p.servers), fmtDur(res.Duration))
}

// outcomeHead is what a query step got, before its detail: the outcome,
// the RCODE and flags; an outcome that is the RCODE ("nxdomain") is not
// said twice.
func outcomeHead(e resolver.Event) string {
	switch {
	case e.Rcode == "":
		return e.Outcome
	case strings.EqualFold(e.Outcome, e.Rcode):
		return fmt.Sprintf("%s (%s)", e.Rcode, e.Flags)
	}
	return fmt.Sprintf("%s (%s; %s)", e.Outcome, e.Rcode, e.Flags)
}
