package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestQuantile: nearest rank over the sorted samples, 0 without samples.
func TestQuantile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name     string
		sorted   []time.Duration
		p50, p99 time.Duration
	}{
		{"none", nil, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{"four", ms(1, 2, 3, 40), 3 * time.Millisecond, 40 * time.Millisecond},
		{"a hundred: the 99th is the 100th sample", ms(hundred...), 51 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []time.Duration{quantile(tt.sorted, 0.50), quantile(tt.sorted, 0.99)}
			if diff := cmp.Diff([]time.Duration{tt.p50, tt.p99}, got); diff != "" {
				t.Errorf("p50, p99 (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLegitPhase: a legitimate client's record becomes the phase the
// flood line prints.
func TestLegitPhase(t *testing.T) {
	var s legitStats
	s.udpN.Store(5)
	s.udpOK.Store(3)
	s.udpServFail.Store(1)
	s.udpLost.Store(1)
	s.rtts = []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond} // unsorted, as recorded
	want := phase{asked: 5, answered: 3, servfail: 1, lost: 1, p50: 2 * time.Millisecond, p99: 3 * time.Millisecond}
	if diff := cmp.Diff(want, s.phase(), cmp.AllowUnexported(phase{})); diff != "" {
		t.Errorf("phase (-want +got):\n%s", diff)
	}
}

// TestFloodComparison: the summary line's quiet and flood figures, the
// p99 ratio, and the goals asserted in CI (never a timing).
func TestFloodComparison(t *testing.T) {
	quiet := phase{asked: 60, answered: 60, p50: 200 * time.Microsecond, p99: 500 * time.Microsecond}
	tests := []struct {
		name     string
		quiet    phase
		quietRan bool
		flood    phase
		alive    bool
		ratio    float64
		ratioOK  bool
		line     string
		goalsMet bool
	}{
		{
			name: "within 2x", quiet: quiet, quietRan: true, alive: true,
			flood: phase{asked: 60, answered: 60, p50: 300 * time.Microsecond, p99: 900 * time.Microsecond},
			ratio: 1.8, ratioOK: true, goalsMet: true,
			line: "legit cached name quiet: 100.0% p50 0.20 p99 0.50 ms; flood: 100.0% p50 0.30 p99 0.90 ms (of 60: 0 SERVFAIL, 0 no reply in 2 s); p99 flood/quiet 1.8x",
		},
		{
			name: "far slower under the flood: reported, not a failed goal", quiet: quiet, quietRan: true, alive: true,
			flood: phase{asked: 60, answered: 59, lost: 1, p50: 2 * time.Millisecond, p99: 25 * time.Millisecond},
			ratio: 50, ratioOK: true, goalsMet: true,
			line: "legit cached name quiet: 100.0% p50 0.20 p99 0.50 ms; flood: 98.3% p50 2.00 p99 25.0 ms (of 60: 0 SERVFAIL, 1 no reply in 2 s); p99 flood/quiet 50.0x",
		},
		{
			name: "too few answered under the flood", quiet: quiet, quietRan: true, alive: true,
			flood: phase{asked: 100, answered: 90, servfail: 10, p50: time.Millisecond, p99: time.Millisecond},
			ratio: 2, ratioOK: true, goalsMet: false,
			line: "legit cached name quiet: 100.0% p50 0.20 p99 0.50 ms; flood: 90.0% p50 1.00 p99 1.00 ms (of 100: 10 SERVFAIL, 0 no reply in 2 s); p99 flood/quiet 2.0x",
		},
		{
			name: "too few answered while quiet", quietRan: true, alive: true,
			quiet: phase{asked: 60, answered: 50, lost: 10, p50: time.Millisecond, p99: time.Millisecond},
			flood: phase{asked: 60, answered: 60, p50: time.Millisecond, p99: time.Millisecond},
			ratio: 1, ratioOK: true, goalsMet: false,
			line: "legit cached name quiet: 83.3% p50 1.00 p99 1.00 ms; flood: 100.0% p50 1.00 p99 1.00 ms (of 60: 0 SERVFAIL, 0 no reply in 2 s); p99 flood/quiet 1.0x",
		},
		{
			name: "quiet phase ran but asked nothing", quietRan: true, alive: true,
			flood:    phase{asked: 60, answered: 60, p50: time.Millisecond, p99: time.Millisecond},
			goalsMet: false,
			line:     "legit cached name quiet: not measured; flood: 100.0% p50 1.00 p99 1.00 ms (of 60: 0 SERVFAIL, 0 no reply in 2 s); p99 flood/quiet n/a",
		},
		{
			name: "no quiet phase (-quiet=false)", alive: true,
			flood:    phase{asked: 60, answered: 60, p50: time.Millisecond, p99: time.Millisecond},
			goalsMet: true,
			line:     "legit cached name quiet: not measured; flood: 100.0% p50 1.00 p99 1.00 ms (of 60: 0 SERVFAIL, 0 no reply in 2 s); p99 flood/quiet n/a",
		},
		{
			name: "nothing answered under the flood: no ratio", quiet: quiet, quietRan: true, alive: true,
			flood:    phase{asked: 60, lost: 60},
			goalsMet: false,
			line:     "legit cached name quiet: 100.0% p50 0.20 p99 0.50 ms; flood: 0.0% p50 0.00 p99 0.00 ms (of 60: 0 SERVFAIL, 60 no reply in 2 s); p99 flood/quiet n/a",
		},
		{
			name: "resolver died", quiet: quiet, quietRan: true, alive: false,
			flood: phase{asked: 60, answered: 60, p50: 300 * time.Microsecond, p99: 900 * time.Microsecond},
			ratio: 1.8, ratioOK: true, goalsMet: false,
			line: "legit cached name quiet: 100.0% p50 0.20 p99 0.50 ms; flood: 100.0% p50 0.30 p99 0.90 ms (of 60: 0 SERVFAIL, 0 no reply in 2 s); p99 flood/quiet 1.8x",
		},
	}
	type result struct {
		Ratio    float64
		RatioOK  bool
		Line     string
		GoalsMet bool
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := p99Ratio(tt.quiet, tt.flood)
			got := result{r, ok, comparison(tt.quiet, tt.flood), floodGoals(tt.alive, tt.quiet, tt.flood, tt.quietRan)}
			want := result{tt.ratio, tt.ratioOK, tt.line, tt.goalsMet}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMetricPeaks: the highest goroutines, heap and resolutions in
// flight over several scrapes; failed scrapes count for nothing.
func TestMetricPeaks(t *testing.T) {
	sample := func(g, heap, inflight float64) map[string]float64 {
		return map[string]float64{goroutinesMetric: g, heapInuseMetric: heap, inflightMetric: inflight}
	}
	tests := []struct {
		name    string
		scrapes []map[string]float64
		want    string
	}{
		{"no endpoint", nil, ""},
		{"every scrape failed", []map[string]float64{nil, nil}, ""},
		{"peaks of each, from different scrapes", []map[string]float64{
			sample(40, 20e6, 0), nil, sample(1200, 35.5e6, 300), sample(900, 41e6, 120),
		}, ", goroutines 1200, heap in use 41.0 MB, resolutions in flight 300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p metricPeaks
			for _, m := range tt.scrapes {
				p.observe(m)
			}
			if diff := cmp.Diff(tt.want, p.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCPUWaitText: the resolver's run-queue wait per second of each
// phase, or nothing when either is unknown.
func TestCPUWaitText(t *testing.T) {
	known := phase{cpu: 200 * time.Millisecond, cpuWait: 60 * time.Millisecond, length: 20 * time.Second}
	tests := []struct {
		name         string
		quiet, flood phase
		want         string
	}{
		{"both known", known, phase{cpu: 12 * time.Second, cpuWait: 4 * time.Second, length: 20 * time.Second},
			"; resolver's CPU 10 ms/s quiet, 600 ms/s in the flood; its threads waited for a CPU 3.0 ms/s quiet, 200.0 ms/s in the flood"},
		{"no quiet phase", phase{}, known, ""},
		{"no pid or not Linux", known, phase{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, cpuWaitText(tt.quiet, tt.flood)); diff != "" {
				t.Errorf("cpuWaitText (-want +got):\n%s", diff)
			}
		})
	}
}
