package main

import (
	"context"
	"fmt"
	"net"
	"time"
)

// blackhole is a dead authoritative server for the dead-zone flood: it
// binds addr, reads every query and never answers, for after and then the
// duration, and prints how many queries reached it in the duration (the
// figure Unbound's ratelimit and addrwalk's hold-down bound). after is the
// flood test's quiet phase: the server is bound, so nothing is refused,
// but that time is not counted.
func blackhole(ctx context.Context, o opts, after time.Duration) (bool, error) {
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(o.target))
	if err != nil {
		return false, fmt.Errorf("blackhole: %w", err)
	}
	defer pc.Close()
	from := time.Now().Add(after)
	ctx, cancel := context.WithDeadline(ctx, from.Add(o.duration))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 65535)
	n := 0
	for ctx.Err() == nil { // ends with the duration: the deadline above breaks the read
		if _, _, err := pc.ReadFrom(buf); err == nil && !time.Now().Before(from) {
			n++
		}
	}
	fmt.Printf("%-9s dead zone: %d queries reached its silent server in %.0fs (%.0f/s)\n",
		o.label, n, o.duration.Seconds(), float64(n)/o.duration.Seconds())
	return true, nil
}
