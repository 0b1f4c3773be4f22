package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// defaultLegitRate is how many times a second the legitimate client asks
// its cached name unless -legit-rate says otherwise: 20 a second gives
// 400 samples in a long run's 20 s, the 4th slowest being the p99. That
// p99 moves with the machine's own stalls (a 3 ms stall about once a
// second here hit 0 or 4 of 400 samples, so one quiet phase measured 0.6
// ms and the next 3.3 ms); long mode asks 200 a second, 4,000 samples,
// still nothing beside the flood.
const defaultLegitRate = 20

// maxLegitRate bounds -legit-rate: every query is a goroutine and a
// socket of its own, and past a few thousand a second the client would be
// a flood itself.
const maxLegitRate = 2000

// floodTest sends random subdomains of zone ("water torture") at rate
// queries per second for the duration, while a legitimate client asks a
// cached name o.legitRate times a second. With quiet set, the same client
// first asks the same name for the same duration without the flood, so
// the line sets the flood's p99 beside the quiet one (the goal:
// at most 2x). Goals asserted: alive, legitimate answered >= 95 % in both
// phases. The queries reaching the zone's servers are counted by the
// caller (the simulated servers' counter).
func floodTest(ctx context.Context, o opts, zone string, rate int, quiet bool) (bool, error) {
	legitInterval := time.Second / time.Duration(max(1, min(o.legitRate, maxLegitRate)))
	// Warm the cache with the legitimate name.
	for range 3 {
		if _, _, ok := askUDP(o.target, o.name, 2*time.Second); ok {
			break
		}
	}
	var quietStats legitStats
	var quietRSS rssSampler
	var quietWait phaseWait
	if quiet {
		qctx, stop := context.WithTimeout(ctx, o.duration)
		go quietRSS.run(qctx, o.pid)
		quietWait.start(o.pid)
		quietStats.run(qctx, o.target, []string{o.name}, legitInterval, false)
		quietWait.stop()
		stop()
	}
	var floodWait phaseWait
	floodWait.start(o.pid)
	drops0 := udpDrops(o.target)
	m0 := scrape(ctx, o.metrics)
	var rss rssSampler
	var peaks metricPeaks
	actx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	go rss.run(actx, o.pid)
	go peaks.run(actx, o.metrics)
	var legit legitStats
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		legit.run(actx, o.target, []string{o.name}, legitInterval, false)
	}()

	// Four sockets send; each paces itself in 10 ms batches.
	const senders = 4
	var sent, replies atomic.Int64
	for s := range senders {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(o.target))
		if err != nil {
			return false, err
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			buf := make([]byte, 65535)
			for {
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := c.Read(buf); err != nil {
					if actx.Err() != nil {
						return
					}
					continue
				}
				replies.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(rand.Uint64(), uint64(s)))
			batch := max(1, rate/senders/100)
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-actx.Done():
					return
				case <-t.C:
				}
				for range batch {
					name := fmt.Sprintf("%08x.%s", r.Uint32(), zone)
					_, _ = c.Write(query(name, dns.TypeA))
					sent.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	floodWait.stop()
	drops := udpDrops(o.target) - drops0
	m1 := scrape(ctx, o.metrics)
	sf := servfailDelta(m0, m1) + queueWaitDelta(m0, m1)
	secs := o.duration.Seconds()
	qp, fp := quietStats.phase(), legit.phase()
	qp.cpu, qp.cpuWait, qp.length = quietWait.result()
	fp.cpu, fp.cpuWait, fp.length = floodWait.result()
	ok := floodGoals(alive(o.pid), qp, fp, quiet)
	quietMem := ""
	if quiet && quietRSS.peak.Load() > 0 {
		quietMem = fmt.Sprintf(" (quiet %d MB)", quietRSS.peak.Load()/1024)
	}
	fmt.Printf("%-9s flood: %.0f random-subdomain q/s under %s for %.0fs (%d replied); %s%s; listener receive-buffer drops %d%s; peak RSS %d MB%s%s; alive %v; goals met %v\n",
		o.label, float64(sent.Load())/secs, zone, secs, replies.Load(), comparison(qp, fp), cpuWaitText(qp, fp),
		drops, sf, rss.peak.Load()/1024, quietMem, peaks.String(), alive(o.pid), ok)
	return ok, nil
}

// phaseWait measures the resolver's CPU time and run-queue wait over one
// phase.
type phaseWait struct {
	pid      int
	t0       time.Time
	r0, w0   time.Duration
	r1, w1   time.Duration
	ok0, ok1 bool
	length   time.Duration
}

func (p *phaseWait) start(pid int) {
	p.pid, p.t0 = pid, time.Now()
	p.r0, p.w0, p.ok0 = schedTimes(pid)
}

func (p *phaseWait) stop() {
	p.r1, p.w1, p.ok1 = schedTimes(p.pid)
	p.length = time.Since(p.t0)
}

// result is the CPU time, the wait and the phase's length; length 0 when
// unknown.
func (p *phaseWait) result() (cpu, wait, length time.Duration) {
	if !p.ok0 || !p.ok1 || p.length <= 0 {
		return 0, 0, 0
	}
	return max(p.r1-p.r0, 0), max(p.w1-p.w0, 0), p.length
}
