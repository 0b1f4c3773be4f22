package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/sim"
)

// bench is one run: the cells of the table and what measures them.
type bench struct {
	o         options
	script    string // examples/fleet/fleet.sh
	bin       string // the addrwalk binary
	dir       string
	names     []question
	namesFile string
	log       io.Writer
	cells     map[cellKey]*cell
	rounds    int // rounds finished
}

type question struct {
	name  string
	qtype uint16
}

type cellKey struct {
	n      int
	shared bool
}

// cell collects one table cell's samples, one per round.
type cell struct {
	upstream  []float64 // upstream queries of the cold pass
	failed    int       // cold questions with no answer (timeouts), all rounds
	slowReads int       // shared cache lookups that timed out in the cold pass, all rounds
	qpsFront  []float64 // hot QPS through dnsdist
	qpsDirect []float64 // hot QPS from instance 1
	ratio     []float64 // qpsFront/qpsDirect, per round
	lost      int       // dnsperf queries lost, all runs
}

// labNames is the benchmark's name list, as bench/simcount writes it: the
// 100 shop names and the sim's examples but the dead server (its timeouts
// would dominate the cold pass).
func labNames() []question {
	var out []question
	for _, n := range sim.BulkNames() {
		out = append(out, question{n, dns.TypeA})
	}
	for _, e := range sim.Examples() {
		if e.ID != "dead-server" {
			out = append(out, question{e.Name, e.Type})
		}
	}
	return out
}

func writeNames(path string, names []question) error {
	var b strings.Builder
	for _, q := range names {
		fmt.Fprintf(&b, "%s %s\n", q.name, dns.TypeToString[q.qtype])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// all measures every cell in each round; odd rounds go through the cells
// in reverse (ABAB), so a drift in the machine's load hits both sides.
func (b *bench) all(ctx context.Context) error {
	var order []cellKey
	for n := 1; n <= b.o.maxN; n++ {
		order = append(order, cellKey{n, false}, cellKey{n, true})
	}
	for r := range b.o.rounds {
		seq := slices.Clone(order)
		if r%2 == 1 {
			slices.Reverse(seq)
		}
		for _, k := range seq {
			fmt.Fprintf(b.log, "round %d/%d: %d instance(s), shared cache %s\n", r+1, b.o.rounds, k.n, onOff(k.shared))
			if err := b.measure(ctx, r, k); err != nil {
				return fmt.Errorf("round %d, %d instance(s), shared %s: %w", r+1, k.n, onOff(k.shared), err)
			}
		}
		b.rounds = r + 1
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// measure starts a fresh (cold) fleet for one cell, runs the cold pass
// and the hot QPS runs, and stops it.
func (b *bench) measure(ctx context.Context, round int, k cellKey) error {
	f, err := b.startFleet(ctx, k.n, k.shared)
	if err != nil {
		return err
	}
	defer f.stop()
	c := b.cells[k]
	if c == nil {
		c = &cell{}
		b.cells[k] = c
	}
	// Cold: every instance asked every name, one instance after the other.
	for i := 1; i <= k.n; i++ {
		c.failed += b.askAll(ctx, f.instance(i))
		if k.shared {
			if err := f.drained(ctx, i); err != nil {
				return err
			}
		}
	}
	up, err := f.sum(ctx, "addrwalk_upstream_queries_total", "")
	if err != nil {
		return err
	}
	c.upstream = append(c.upstream, up)
	slow, err := f.sum(ctx, "addrwalk_cachedb_lookups_total", `result="timeout"`)
	if err != nil {
		return err
	}
	c.slowReads += int(slow)
	// Hot: every name cached on every instance (the cold pass asked them
	// all); dnsdist and instance 1 take turns going first.
	b.askAll(ctx, f.front())
	var front, direct float64
	for j := range 2 {
		viaFront := j == round%2
		server := f.instance(1)
		if viaFront {
			server = f.front()
		}
		qps, lost, err := b.dnsperf(ctx, server)
		if err != nil {
			return fmt.Errorf("%w\ndnsdist.log:\n%s", err, f.logTail("dnsdist"))
		}
		c.lost += lost
		if viaFront {
			front = qps
		} else {
			direct = qps
		}
	}
	c.qpsFront = append(c.qpsFront, front)
	c.qpsDirect = append(c.qpsDirect, direct)
	if direct > 0 {
		c.ratio = append(c.ratio, front/direct)
	}
	fmt.Fprintf(b.log, "  upstream %v, QPS dnsdist %.0f, direct %.0f\n", up, front, direct)
	return nil
}

// askAll asks server every name, concurrency at a time, and returns how
// many got no answer.
func (b *bench) askAll(ctx context.Context, server string) int {
	var mu sync.Mutex
	failed := 0
	work := make(chan question)
	var wg sync.WaitGroup
	for range b.o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Timeout: 5 * time.Second}
			for q := range work {
				m := new(dns.Msg)
				m.SetQuestion(q.name, q.qtype)
				m.SetEdns0(1232, true)
				r, _, err := c.ExchangeContext(ctx, m, server)
				if err == nil && r.Truncated {
					tc := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
					_, _, err = tc.ExchangeContext(ctx, m, server)
				}
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	for _, q := range b.names {
		select {
		case work <- q:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return failed
}
