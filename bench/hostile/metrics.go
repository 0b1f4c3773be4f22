package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// servfailMetric is the Prometheus counter of addrwalk's SERVFAIL replies
// by reason (overload, jostled, backlog, ...); queueWaitMetric the
// histogram of how long UDP queries waited in the listener's socket queue.
const (
	servfailMetric  = "addrwalk_servfail_total"
	queueWaitMetric = "addrwalk_udp_queue_wait_seconds"
)

// scrape reads addrwalk's samples from a /metrics URL, by name with
// labels as printed; nil without a URL or on any error (a resolver
// without that endpoint, such as Unbound).
func scrape(ctx context.Context, url string) map[string]float64 {
	if url == "" {
		return nil
	}
	// 5 s: a scrape takes milliseconds; a resolver too busy to answer
	// its metrics listener in 5 s reports nothing rather than stall the
	// test.
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
	// 1 MiB per line: the longest line is a metric's help text, far
	// shorter; a longer one ends the scrape.
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() { // bounded by the body: one pass over its lines
		l := sc.Text()
		if !strings.HasPrefix(l, "addrwalk_") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(l[i+1:], 64); err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

// servfailDelta says how many SERVFAILs each reason gained between two
// scrapes, "" when there is nothing to say.
func servfailDelta(before, after map[string]float64) string {
	if after == nil {
		return ""
	}
	var parts []string
	for k, v := range after {
		rest, ok := strings.CutPrefix(k, servfailMetric+`{reason="`)
		if !ok {
			continue
		}
		if d := v - before[k]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", strings.TrimSuffix(rest, `"}`), d))
		}
	}
	if len(parts) == 0 {
		return "; SERVFAIL by reason: none"
	}
	slices.Sort(parts)
	return "; SERVFAIL by reason: " + strings.Join(parts, ", ")
}

// queueWaitDelta gives the 50th and 99th percentiles, as histogram bucket
// bounds, of the socket-queue waits of the queries read between two
// scrapes: how much of a client's latency the server's reader added.
func queueWaitDelta(before, after map[string]float64) string {
	type bucket struct{ le, n float64 }
	var bs []bucket
	for k, v := range after {
		rest, ok := strings.CutPrefix(k, queueWaitMetric+`_bucket{le="`)
		if !ok {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(rest, `"}`), 64) // "+Inf" parses too
		if err != nil {
			continue
		}
		bs = append(bs, bucket{le, v - before[k]})
	}
	if len(bs) == 0 {
		return ""
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	total := bs[len(bs)-1].n // cumulative: +Inf holds them all
	if total <= 0 {
		return ""
	}
	at := func(q float64) string {
		for _, b := range bs {
			if b.n >= q*total {
				return fmt.Sprintf("<= %g ms", b.le*1000)
			}
		}
		return "?"
	}
	return fmt.Sprintf("; socket queue wait p50 %s, p99 %s (%.0f queries)", at(0.50), at(0.99), total)
}
