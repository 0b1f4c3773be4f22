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

// floodTest sends random subdomains of zone ("water torture") at rate
// queries per second for the duration, while a legitimate client asks a
// cached name 20 times a second. Goals: alive, legitimate answered >= 95 %.
// The queries reaching the zone's servers are counted by the caller (the
// simulated servers' counter).
func floodTest(ctx context.Context, o opts, zone string, rate int) (bool, error) {
	// Warm the cache with the legitimate name.
	for range 3 {
		if _, _, ok := askUDP(o.target, o.name, 2*time.Second); ok {
			break
		}
	}
	drops0 := udpDrops(o.target)
	m0 := scrape(ctx, o.metrics)
	var rss rssSampler
	actx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	go rss.run(actx, o.pid)
	var legit legitStats
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		legit.run(actx, o.target, []string{o.name}, 50*time.Millisecond, false)
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
	drops := udpDrops(o.target) - drops0
	m1 := scrape(ctx, o.metrics)
	sf := servfailDelta(m0, m1) + queueWaitDelta(m0, m1)
	secs := o.duration.Seconds()
	lpct := pct(legit.udpOK.Load(), legit.udpN.Load())
	ok := alive(o.pid) && lpct >= 95
	fmt.Printf("%-9s flood: %.0f random-subdomain q/s under %s for %.0fs (%d replied); legit cached name answered %.1f%% p99 %.1f ms (of %d: %d SERVFAIL, %d no reply in 2 s); listener receive-buffer drops %d%s; peak RSS %d MB; alive %v; goals met %v\n",
		o.label, float64(sent.Load())/secs, zone, secs, replies.Load(), lpct, float64(legit.p99().Microseconds())/1000,
		legit.udpN.Load(), legit.udpServFail.Load(), legit.udpLost.Load(), drops, sf, rss.peak.Load()/1024, alive(o.pid), ok)
	return ok, nil
}
