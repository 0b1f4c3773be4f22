package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// refuseTest sends n queries over UDP from src, an address outside the
// resolver's allow list, as a spoofed flood aimed at src would, and
// measures what comes back. Goals: no reply larger than its query, and
// fewer replies than queries (refusals rate-limited).
func refuseTest(ctx context.Context, o opts, src netip.Addr, n int) (bool, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)))
	if err != nil {
		return false, err
	}
	defer c.Close()
	kinds := [][]byte{}
	for _, k := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{{"www.example.org.", dns.TypeA, false}, {"example.org.", dns.TypeANY, true},
		{strings.Repeat("a.", 60) + "example.org.", dns.TypeTXT, true}, {"www.example.org.", dns.TypeAAAA, true}} {
		m := new(dns.Msg)
		m.SetQuestion(k.name, k.qtype)
		if k.edns {
			m.SetEdns0(4096, true)
		}
		b, _ := m.Pack()
		kinds = append(kinds, b)
	}
	n = min(n, 65535) // the ID says which query a reply answers
	var qbytes, rbytes int
	replies, worst := 0, 0.0
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			m, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if m < 12 {
				continue
			}
			id := uint16(buf[0])<<8 | uint16(buf[1])
			replies++
			rbytes += m
			worst = max(worst, float64(m)/float64(len(kinds[int(id)%len(kinds)])))
		}
	}()
	// Paced at one query per 100 µs: a flood, but the reader keeps up.
	for i := 0; i < n && ctx.Err() == nil; i++ {
		q := append([]byte(nil), kinds[i%len(kinds)]...)
		id := uint16(i)
		q[0], q[1] = byte(id>>8), byte(id)
		qbytes += len(q)
		_, _ = c.WriteToUDPAddrPort(q, o.target)
		time.Sleep(100 * time.Microsecond)
	}
	<-done
	ok := worst <= 1.0
	fmt.Printf("%-9s refuse: %d queries from %v (not allowed): %d replies (%.1f%%), largest reply/query %.2fx, bytes out/in %.2f; goals met %v\n",
		o.label, n, src, replies, 100*float64(replies)/float64(n), worst, float64(rbytes)/float64(max(qbytes, 1)), ok)
	return ok, nil
}
