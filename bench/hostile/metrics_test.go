package main

import "testing"

// TestMetricDeltas: the flood line's SERVFAIL reasons and queue-wait
// percentiles come from the difference of two scrapes.
func TestMetricDeltas(t *testing.T) {
	const b = queueWaitMetric + `_bucket{le="`
	before := map[string]float64{
		servfailMetric + `{reason="backlog"}`: 5,
		b + `0.001"}`:                         10, b + `0.01"}`: 10, b + `0.1"}`: 10, b + `+Inf"}`: 10,
	}
	tests := []struct {
		name         string
		after        map[string]float64
		sf, waitLine string
	}{
		{"no endpoint", nil, "", ""},
		{"nothing new", before, "; SERVFAIL by reason: none", ""},
		{
			name: "most fast, a tail",
			after: map[string]float64{
				servfailMetric + `{reason="backlog"}`:  9,
				servfailMetric + `{reason="overload"}`: 2,
				b + `0.001"}`:                          10 + 90, b + `0.01"}`: 10 + 98, b + `0.1"}`: 10 + 100, b + `+Inf"}`: 10 + 100,
			},
			sf:       "; SERVFAIL by reason: backlog 4, overload 2",
			waitLine: "; socket queue wait p50 <= 1 ms, p99 <= 100 ms (100 queries)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := servfailDelta(before, tt.after); got != tt.sf {
				t.Errorf("servfailDelta = %q, want %q", got, tt.sf)
			}
			if got := queueWaitDelta(before, tt.after); got != tt.waitLine {
				t.Errorf("queueWaitDelta = %q, want %q", got, tt.waitLine)
			}
		})
	}
}
