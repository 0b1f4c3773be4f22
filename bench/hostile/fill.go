package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// fillConfig is what the cache-filling test asks.
type fillConfig struct {
	names   int    // distinct names asked
	window  int    // queries outstanding at once
	pos     string // zone whose names are answered (a wildcard)
	neg     string // zone whose names do not exist (NXDOMAIN)
	metrics string // addrwalk's /metrics URL, to print each part's size; "" skips it
	steps   int    // RSS lines printed on the way
}

// fillTimeout is how long one query waits for its reply: longer than any
// resolver takes for one cold name on loopback, so a timeout means a lost
// or dropped query, which is counted and not retried.
const fillTimeout = 3 * time.Second

// fillTest asks cfg.names distinct names, every other one under cfg.pos
// (answered) and under cfg.neg (NXDOMAIN), from cfg.window sockets each
// waiting for its reply before the next query, so the resolver is kept busy
// without queueing. It samples the resolver's RSS before, cfg.steps times
// on the way and after, and prints the growth per name: the cost of a
// cached name, all caches and the runtime's overhead included. Goal (with
// -assert): no more than 1 % of the names unanswered.
func fillTest(ctx context.Context, o opts, cfg fillConfig) (bool, error) {
	ctx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	prefix := fmt.Sprintf("f%06x", rand.Uint32()&0xffffff) // a fresh name space per run
	before := rssKB(o.pid)
	start := time.Now()
	var next, done, noerror, nxdomain, other, lost atomic.Int64
	step := max(1, cfg.names/max(1, cfg.steps))
	var mu sync.Mutex // serialises the progress lines
	var wg sync.WaitGroup
	for range cfg.window {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(o.target))
		if err != nil {
			return false, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			buf := make([]byte, 65535)
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(cfg.names) {
					return
				}
				zone := cfg.pos
				if i%2 == 1 {
					zone = cfg.neg
				}
				switch rc := fillAsk(c, buf, fmt.Sprintf("%s-%d.%s", prefix, i, zone)); rc {
				case dns.RcodeSuccess:
					noerror.Add(1)
				case dns.RcodeNameError:
					nxdomain.Add(1)
				case -1:
					lost.Add(1)
				default:
					other.Add(1)
				}
				if n := done.Add(1); n%int64(step) == 0 {
					mu.Lock()
					fmt.Printf("%s fill: %d names, %.1f s, rss %.1f MiB\n", o.label, n, time.Since(start).Seconds(), float64(rssKB(o.pid))/1024)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	after := rssKB(o.pid)
	n := done.Load()
	perName := 0.0
	if n > 0 {
		perName = float64(after-before) * 1024 / float64(n)
	}
	fmt.Printf("%s fill: %d names in %.1f s (%.0f/s): %d NOERROR, %d NXDOMAIN, %d other, %d lost; rss %.1f -> %.1f MiB, %.0f bytes per name\n",
		o.label, n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), noerror.Load(), nxdomain.Load(), other.Load(), lost.Load(),
		float64(before)/1024, float64(after)/1024, perName)
	if cfg.metrics != "" {
		if err := printParts(ctx, o.label, cfg.metrics); err != nil {
			return false, err
		}
	}
	if ctx.Err() != nil && n < int64(cfg.names) {
		fmt.Printf("%s fill: stopped by -duration after %d of %d names\n", o.label, n, cfg.names)
	}
	return lost.Load()+other.Load() <= n/100, nil
}

// fillAsk sends one A query for name on c and returns the reply's RCODE, or
// -1 when none with the query's ID came within fillTimeout.
func fillAsk(c *net.UDPConn, buf []byte, name string) int {
	q := query(name, dns.TypeA)
	_ = c.SetDeadline(time.Now().Add(fillTimeout))
	if _, err := c.Write(q); err != nil {
		return -1
	}
	for range 8 { // late replies to earlier, lost queries: a few at most
		n, err := c.Read(buf)
		if err != nil {
			return -1
		}
		if n >= 12 && binary.BigEndian.Uint16(buf) == binary.BigEndian.Uint16(q) {
			return int(buf[3] & 0xf)
		}
	}
	return -1
}

// printParts prints the memory parts addrwalk's metrics report
// (addrwalk_cache_part_bytes and _entries) and the Go heap.
func printParts(ctx context.Context, label, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	var parts []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		for _, p := range []string{"addrwalk_cache_part_bytes{", "addrwalk_cache_part_entries{", "go_memstats_heap_inuse_bytes ", "go_gc_gogc_percent ", "go_gc_gomemlimit_bytes "} {
			if strings.HasPrefix(l, p) {
				parts = append(parts, strings.TrimPrefix(strings.TrimPrefix(l, "addrwalk_cache_"), "go_"))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	fmt.Printf("%s parts: %s\n", label, strings.Join(parts, ", "))
	return nil
}
