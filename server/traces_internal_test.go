package server

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTraceGate checks the rate at which resolutions are traced for the
// TraceSink: a burst of traceBurst at once, then traceRate a second, the
// burst again after a long pause and never more.
func TestTraceGate(t *testing.T) {
	start := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	tick := time.Second / traceRate
	tests := []struct {
		name string
		// at is when each resolution starts, after start.
		at   []time.Duration
		want int // how many are traced
	}{
		{name: "burst", at: repeat(0, traceBurst), want: traceBurst},
		{name: "past the burst", at: repeat(0, traceBurst+10), want: traceBurst},
		{name: "one more per tick", at: append(repeat(0, traceBurst+1), tick, tick, 2*tick), want: traceBurst + 2},
		{name: "a long pause refills only the burst", at: append(repeat(0, traceBurst), repeat(time.Hour, traceBurst+5)...), want: 2 * traceBurst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g traceGate
			got := 0
			for _, d := range tt.at {
				if g.take(start.Add(d)) {
					got++
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("traced (-want +got):\n%s", diff)
			}
		})
	}
}

// repeat returns n copies of d.
func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}
