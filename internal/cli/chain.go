package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/addrwalk/addrwalk/resolver"
)

// chainCollector keeps the validation events of a resolution, to print
// the chain of trust afterwards.
type chainCollector struct {
	steps []*resolver.DNSSECInfo
}

// Observe implements resolver.Observer.
func (c *chainCollector) Observe(e resolver.Event) {
	if e.Kind == resolver.EventValidate && e.DNSSEC != nil {
		c.steps = append(c.steps, e.DNSSEC)
	}
}

// print shows the chain as a tree: each zone's link from the anchor
// down, then the verdict on each RRset or proof of the answer.
func (c *chainCollector) print(w io.Writer, res *resolver.Result) {
	fmt.Fprintf(w, "\n;; DNSSEC: %s\n", res.Security)
	if len(c.steps) == 0 {
		fmt.Fprintln(w, ";;   no validation happened: no trust anchor covers this name (use --trust-anchor), or --no-validate")
		return
	}
	depth := map[string]int{}
	for _, s := range c.steps {
		if s.RRset != "" {
			continue
		}
		d := 0
		if !s.Anchor {
			if pd, ok := depth[s.Parent]; ok {
				d = pd + 1
			}
		}
		depth[s.Zone] = d
		ind := ";;   " + strings.Repeat("   ", d)
		head := s.Zone
		switch {
		case s.Anchor:
			head += "  (trust anchor)"
		case s.Parent != "":
			head += "  (DS in " + s.Parent + ")"
		}
		if s.Cached {
			head += "  (validated earlier, from the cache)"
		}
		fmt.Fprintf(w, "%s%s  %s\n", ind, head, s.Status)
		for _, d := range s.DS {
			fmt.Fprintf(w, "%s    DS %s\n", ind, d)
		}
		if len(s.DNSKEY) > 0 {
			fmt.Fprintf(w, "%s    DNSKEY %s\n", ind, strings.Join(s.DNSKEY, ", "))
		}
		for _, sig := range s.Signatures {
			fmt.Fprintf(w, "%s    %s\n", ind, sig)
		}
		if len(s.RejectedDNSKEY) > 0 {
			fmt.Fprintf(w, "%s    DNSKEY %s  (sent, not trusted)\n", ind, strings.Join(s.RejectedDNSKEY, ", "))
		}
		for _, sig := range s.RejectedSignatures {
			fmt.Fprintf(w, "%s    %s  (did not verify)\n", ind, sig)
		}
		if s.Reason != "" {
			fmt.Fprintf(w, "%s    why: %s\n", ind, s.Reason)
		}
	}
	for _, s := range c.steps {
		if s.RRset == "" {
			continue
		}
		ind := ";;   " + strings.Repeat("   ", depth[s.Zone]+1)
		fmt.Fprintf(w, "%s%s  %s\n", ind, s.RRset, s.Status)
		for _, sig := range s.Signatures {
			fmt.Fprintf(w, "%s    %s\n", ind, sig)
		}
		if s.Reason != "" {
			fmt.Fprintf(w, "%s    why: %s\n", ind, s.Reason)
		}
	}
}
