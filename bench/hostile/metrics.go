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
	"sync"
	"time"
)

// servfailMetric is the Prometheus counter of addrwalk's SERVFAIL replies
// by reason (overload, jostled, backlog, ...); queueWaitMetric the
// histogram of how long UDP queries waited in the listener's socket queue.
const (
	servfailMetric  = "addrwalk_servfail_total"
	queueWaitMetric = "addrwalk_udp_queue_wait_seconds"
)

// scrape reads addrwalk's samples (and the Go runtime's) from a /metrics URL, by name with
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
		if !strings.HasPrefix(l, "addrwalk_") && !strings.HasPrefix(l, "go_") {
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

// The samples metricPeaks follows: the Go runtime's goroutines and heap
// in use (client_golang's Go collector) and addrwalk's resolutions
// running.
const (
	goroutinesMetric = "go_goroutines"
	heapInuseMetric  = "go_memstats_heap_inuse_bytes"
	inflightMetric   = "addrwalk_resolutions_in_flight"
)

// peakInterval is how often metricPeaks scrapes: a scrape costs the
// resolver a millisecond or so, and a flood's in-flight work rises and
// falls over seconds.
const peakInterval = 500 * time.Millisecond

// metricPeaks records the highest goroutine count, heap in use and
// resolutions in flight seen while it runs.
type metricPeaks struct {
	mu                         sync.Mutex // guards the following
	scrapes                    int
	goroutines, heap, inflight float64
}

// run scrapes url every peakInterval until ctx ends; nothing without a
// URL (Unbound).
func (p *metricPeaks) run(ctx context.Context, url string) {
	if url == "" {
		return
	}
	t := time.NewTicker(peakInterval)
	defer t.Stop()
	for { // until ctx ends: the flood's duration
		p.observe(scrape(ctx, url))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observe takes the peaks of one scrape (nil: the scrape failed).
func (p *metricPeaks) observe(m map[string]float64) {
	if m == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scrapes++
	p.goroutines = max(p.goroutines, m[goroutinesMetric])
	p.heap = max(p.heap, m[heapInuseMetric])
	p.inflight = max(p.inflight, m[inflightMetric])
}

// String is the flood line's part for the peaks, "" when nothing was
// scraped.
func (p *metricPeaks) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scrapes == 0 {
		return ""
	}
	return fmt.Sprintf(", goroutines %.0f, heap in use %.1f MB, resolutions in flight %.0f", p.goroutines, p.heap/1e6, p.inflight)
}
