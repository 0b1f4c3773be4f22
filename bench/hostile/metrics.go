package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// servfailMetric is the Prometheus counter of addrwalk's SERVFAIL replies
// by reason (overload, jostled, backlog, ...).
const servfailMetric = "addrwalk_servfail_total"

// servfails reads the SERVFAIL counters by reason from a /metrics URL;
// nil without a URL or on any error (a resolver without that endpoint,
// such as Unbound).
func servfails(ctx context.Context, url string) map[string]float64 {
	if url == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() { // bounded by the body: one pass over its lines
		l := sc.Text()
		rest, ok := strings.CutPrefix(l, servfailMetric+`{reason="`)
		if !ok {
			continue
		}
		reason, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[reason] = v
		}
	}
	return out
}

// servfailDelta says how many SERVFAILs each reason gained between two
// readings, "" when there is nothing to say.
func servfailDelta(before, after map[string]float64) string {
	if after == nil {
		return ""
	}
	var parts []string
	for r, v := range after {
		if d := v - before[r]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", r, d))
		}
	}
	if len(parts) == 0 {
		return "; SERVFAIL by reason: none"
	}
	slices.Sort(parts)
	return "; SERVFAIL by reason: " + strings.Join(parts, ", ")
}
