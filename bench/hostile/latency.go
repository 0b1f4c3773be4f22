package main

import (
	"fmt"
	"slices"
	"time"
)

// phase is what the legitimate client saw during one phase of a flood
// test: the quiet phase (no flood) or the flood.
type phase struct {
	asked, answered int64
	// servfail and lost split the failures: a SERVFAIL reply, or no
	// reply within the client's timeout.
	servfail, lost int64
	p50, p99       time.Duration
	// cpu is the CPU time the resolver's threads used during the
	// phase, cpuWait how long they waited, runnable, for a CPU; the
	// phase lasted length, 0 when both are unknown.
	cpu, cpuWait, length time.Duration
}

// answeredPct is the share of queries answered, 100 when none was asked.
func (p phase) answeredPct() float64 { return pct(p.answered, p.asked) }

// phase summarises what s recorded.
func (s *legitStats) phase() phase {
	s.mu.Lock()
	defer s.mu.Unlock()
	slices.Sort(s.rtts)
	return phase{
		asked: s.udpN.Load(), answered: s.udpOK.Load(),
		servfail: s.udpServFail.Load(), lost: s.udpLost.Load(),
		p50: quantile(s.rtts, 0.50), p99: quantile(s.rtts, 0.99),
	}
}

// quantile is the q-quantile of sorted by nearest rank (the sample below
// which a fraction q of them lie), 0 for no samples.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*q))]
}

// p99Ratio is the flood's p99 over the quiet p99 (the goal: at
// most 2); ok is false when the quiet phase measured nothing to divide
// by.
func p99Ratio(quiet, flood phase) (ratio float64, ok bool) {
	if quiet.p99 <= 0 || flood.answered == 0 {
		return 0, false
	}
	return float64(flood.p99) / float64(quiet.p99), true
}

// ms prints a duration in milliseconds, with enough digits for loopback's
// sub-millisecond answers.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// comparison is the summary line's part that sets the flood beside the
// quiet phase: answered %, p50 and p99 of each, and the p99 ratio.
func comparison(quiet, flood phase) string {
	ratio := "n/a"
	if r, ok := p99Ratio(quiet, flood); ok {
		ratio = fmt.Sprintf("%.1fx", r)
	}
	q := "not measured"
	if quiet.asked > 0 {
		q = fmt.Sprintf("%.1f%% p50 %s p99 %s ms", quiet.answeredPct(), ms(quiet.p50), ms(quiet.p99))
	}
	return fmt.Sprintf("legit cached name quiet: %s; flood: %.1f%% p50 %s p99 %s ms (of %d: %d SERVFAIL, %d no reply in 2 s); p99 flood/quiet %s",
		q, flood.answeredPct(), ms(flood.p50), ms(flood.p99), flood.asked, flood.servfail, flood.lost, ratio)
}

// cpuWaitText is the summary line's part that says, per second of each
// phase, how much CPU the resolver used and how long its threads waited
// for the machine's CPU: a flood p99 far above the quiet one with a large
// wait is the machine's share of the latency, and the CPU used is what
// the misses cost. "" when either phase is unknown (not Linux, no pid).
func cpuWaitText(quiet, flood phase) string {
	if quiet.length <= 0 || flood.length <= 0 {
		return ""
	}
	perSec := func(d, length time.Duration) float64 {
		return float64(d) / float64(time.Millisecond) / length.Seconds()
	}
	return fmt.Sprintf("; resolver's CPU %.0f ms/s quiet, %.0f ms/s in the flood; its threads waited for a CPU %.1f ms/s quiet, %.1f ms/s in the flood",
		perSec(quiet.cpu, quiet.length), perSec(flood.cpu, flood.length), perSec(quiet.cpuWait, quiet.length), perSec(flood.cpuWait, flood.length))
}

// floodGoals says whether the goals that hold on any machine were met:
// the resolver is alive and answered at least 95 % of the legitimate
// client's cached names, both without the flood and during it (a quiet
// phase that asked nothing measured nothing, and fails). Timings are
// never asserted: the p99 ratio is reported, not checked.
func floodGoals(alive bool, quiet, flood phase, quietRan bool) bool {
	if quietRan && (quiet.asked == 0 || quiet.answeredPct() < 95) {
		return false
	}
	return alive && flood.answeredPct() >= 95
}
