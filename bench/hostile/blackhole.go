package main

import (
	"context"
	"fmt"
	"net"
	"time"
)

// blackhole is a dead authoritative server for the dead-zone flood: it
// binds addr, reads every query and never answers, for the duration, then
// prints how many queries reached it (the figure Unbound's ratelimit and
// addrwalk's hold-down bound).
func blackhole(ctx context.Context, o opts) (bool, error) {
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(o.target))
	if err != nil {
		return false, fmt.Errorf("blackhole: %w", err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 65535)
	n := 0
	for ctx.Err() == nil { // ends with the duration: the deadline above breaks the read
		if _, _, err := pc.ReadFrom(buf); err == nil {
			n++
		}
	}
	fmt.Printf("%-9s dead zone: %d queries reached its silent server in %.0fs (%.0f/s)\n",
		o.label, n, o.duration.Seconds(), float64(n)/o.duration.Seconds())
	return true, nil
}
