package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// spread is min/median/max of samples.
type spread struct{ min, med, max float64 }

func spreadOf(xs []float64) (spread, bool) {
	if len(xs) == 0 {
		return spread{}, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{s[0], med, s[len(s)-1]}, true
}

// format prints a spread with verb for each number, "–" for no samples.
func format(xs []float64, verb string) string {
	s, ok := spreadOf(xs)
	if !ok {
		return "–"
	}
	return fmt.Sprintf(verb+" / "+verb+" / "+verb, s.min, s.med, s.max)
}

// table prints the results as Markdown, ratios against the single
// instance without a shared cache.
func (b *bench) table(w io.Writer, took time.Duration) {
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(w, "Fleet benchmark: %d names (go run ./bench/fleetbench %s), %d of %d rounds in %v, load average now %s\n\n",
		len(b.names), strings.Join(os.Args[1:], " "), b.rounds, b.o.rounds, took.Round(time.Second), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	fmt.Fprintln(w, "Cold: every instance asked every name, one after the other; upstream queries summed over the instances (min / median / max over rounds).")
	fmt.Fprintf(w, "Hot: dnsperf -c %d -q %d for %v, every name cached; QPS through dnsdist and directly from instance 1.\n\n", b.o.clients, b.o.outstanding, b.o.duration)
	fmt.Fprintln(w, "| instances | shared cache | cold upstream queries | × 1 instance, no shared cache | per instance | hot QPS via dnsdist | hot QPS direct | dnsdist / direct |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	base, haveBase := spreadOf(b.cellOr(cellKey{1, false}).upstream)
	for n := 1; n <= b.o.maxN; n++ {
		for _, shared := range []bool{false, true} {
			c := b.cellOr(cellKey{n, shared})
			ratio, perInstance := "–", "–"
			if s, ok := spreadOf(c.upstream); ok {
				perInstance = fmt.Sprintf("%.0f", s.med/float64(n))
				if haveBase && base.med > 0 {
					ratio = fmt.Sprintf("%.2f×", s.med/base.med)
				}
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", n, onOff(shared), format(c.upstream, "%.0f"), ratio, perInstance,
				format(c.qpsFront, "%.0f"), format(c.qpsDirect, "%.0f"), format(c.ratio, "%.2f"))
		}
	}
	failed, lost, slow := 0, 0, 0
	for _, c := range b.cells {
		failed, lost, slow = failed+c.failed, lost+c.lost, slow+c.slowReads
	}
	fmt.Fprintf(w, "\nCold questions unanswered: %d. Shared cache lookups that timed out (read-timeout %v; each may cost upstream queries): %d. dnsperf queries lost: %d.\n",
		failed, b.o.readTimeout, slow, lost)
}

func (b *bench) cellOr(k cellKey) *cell {
	if c := b.cells[k]; c != nil {
		return c
	}
	return &cell{}
}
