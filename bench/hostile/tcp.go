package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// tcpTest opens conns attacking connections from 127.0.1.x addresses,
// a third of each kind: idle, an empty frame (00 00) every second, and a
// slowloris trickling one byte a second. Meanwhile a legitimate client asks
// over UDP and TCP. Goals: every attacking connection is closed by the
// resolver within idleMax of opening, legitimate UDP >= 99 % and TCP >= 90 %.
func tcpTest(ctx context.Context, o opts, conns int, idleMax time.Duration) (bool, error) {
	raiseFDLimit(conns + 1024)
	var rss rssSampler
	actx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	go rss.run(actx, o.pid)
	var legit legitStats
	var lwg sync.WaitGroup
	lwg.Add(1)
	go func() {
		defer lwg.Done()
		legit.run(actx, o.target, []string{o.name}, 50*time.Millisecond, true)
	}()

	var mu sync.Mutex
	var closedAfter []time.Duration
	refused := 0
	var wg sync.WaitGroup
	// The attackers' connections stay open at most idleMax past the attack:
	// past that the test records them as never closed and ends.
	hard := time.Now().Add(o.duration + idleMax)
	for i := range conns {
		src := netip.AddrFrom4([4]byte{127, 0, 1, byte(1 + i%200)})
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
		c, err := d.DialContext(ctx, "tcp", o.target.String())
		if err != nil {
			mu.Lock()
			refused++
			mu.Unlock()
			continue
		}
		opened := time.Now()
		wg.Add(2)
		done := make(chan struct{})
		go func() { // the reader notices the close
			defer wg.Done()
			defer close(done)
			_ = c.SetReadDeadline(hard)
			buf := make([]byte, 512)
			for {
				if _, err := c.Read(buf); err != nil {
					if time.Now().Before(hard) {
						mu.Lock()
						closedAfter = append(closedAfter, time.Since(opened))
						mu.Unlock()
					}
					_ = c.Close()
					return
				}
			}
		}()
		go func() { // the writer misbehaves during the attack
			defer wg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			slow := []byte{0, 40}
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				case <-actx.Done():
					return
				case <-t.C:
				}
				switch i % 3 {
				case 1:
					_, _ = c.Write([]byte{0, 0})
				case 2:
					_, _ = c.Write([]byte{slow[k%2]})
				}
			}
		}()
	}
	<-actx.Done()
	lwg.Wait()
	wg.Wait()
	closed := len(closedAfter)
	slices.Sort(closedAfter)
	med, worst := time.Duration(0), time.Duration(0)
	if closed > 0 {
		med, worst = closedAfter[closed/2], closedAfter[closed-1]
	}
	open := conns - refused - closed
	ok := open == 0 && worst <= idleMax && pct(legit.udpOK.Load(), legit.udpN.Load()) >= 99 &&
		pct(legit.tcpOK.Load(), legit.tcpN.Load()) >= 90 && alive(o.pid)
	fmt.Printf("%-9s tcp: %d attacking conns (idle/empty frames/slowloris from 200 addresses): %d refused at connect, %d closed by the resolver (median %.1fs, max %.1fs after opening), %d never closed; legit UDP %.1f%% TCP %.1f%% answered; peak RSS %d MB; alive %v; goals met %v\n",
		o.label, conns, refused, closed, med.Seconds(), worst.Seconds(), open,
		pct(legit.udpOK.Load(), legit.udpN.Load()), pct(legit.tcpOK.Load(), legit.tcpN.Load()), rss.peak.Load()/1024, alive(o.pid), ok)
	return ok, nil
}
