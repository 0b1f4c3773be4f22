package server

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// BenchmarkHotPath measures the pieces of a packet-cache hit one by one,
// with -benchmem (none may allocate): parse (the header, question and
// OPT of a query), pcache-lookup (the key and the table lookup among
// 10,000 entries), pcache-reply (copy the kept reply, patch ID, flags,
// question case and TTLs, append the OPT) and the UDP write of the reply
// over loopback, one datagram per call (write/plain) and 32 per sendmmsg
// (write/batch32, reported per reply). BenchmarkHandleCacheHit measures
// them together in process, BenchmarkUDPCacheHit with the sockets.
func BenchmarkHotPath(b *testing.B) {
	qm := new(dns.Msg)
	qm.SetQuestion("WWW.Example.org.", dns.TypeA)
	qm.SetEdns0(1232, true)
	req, err := qm.Pack()
	if err != nil {
		b.Fatal(err)
	}
	rm := new(dns.Msg)
	rm.SetQuestion("www.example.org.", dns.TypeA)
	rm.Response, rm.RecursionAvailable = true, true
	for i := range 2 {
		rr, err := dns.NewRR(fmt.Sprintf("www.example.org. 3600 IN A 192.0.2.%d", i+1))
		if err != nil {
			b.Fatal(err)
		}
		rm.Answer = append(rm.Answer, rr)
	}
	wire, err := rm.Pack()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	e := newPEntry(wire, 0, rcodeNoError, true, now, ttlClamps{})
	if e == nil {
		b.Fatal("reply not kept")
	}
	var q query
	if !parseHeader(req, &q) || parseQuery(req, &q) != nil {
		b.Fatal("query does not parse")
	}
	// 10,000 entries: a busy server's working set, well past the shards'
	// first buckets.
	const entries = 10_000
	pc := newPacketCache(2*entries, 1<<30)
	key := appendPKey(nil, &q)
	pc.put(key, e)
	for i := range entries {
		var oq query
		n := new(dns.Msg)
		n.SetQuestion(dns.Fqdn("h"+strconv.Itoa(i)+".example.org"), dns.TypeA)
		b2, _ := n.Pack()
		if parseHeader(b2, &oq) && parseQuery(b2, &oq) == nil {
			pc.put(appendPKey(nil, &oq), e)
		}
	}
	nowNano := now.Add(time.Second).UnixNano()

	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q query
			if !parseHeader(req, &q) || parseQuery(req, &q) != nil {
				b.Fatal("parse failed")
			}
		}
	})
	b.Run("pcache-lookup", func(b *testing.B) {
		kb := make([]byte, 0, 300)
		b.ReportAllocs()
		for b.Loop() {
			kb = appendPKey(kb[:0], &q)
			if pc.get(kb, nowNano) == nil {
				b.Fatal("miss")
			}
		}
	})
	b.Run("pcache-reply", func(b *testing.B) {
		out := make([]byte, 0, 1500)
		b.ReportAllocs()
		for b.Loop() {
			out = e.appendReply(out[:0], &q, nowNano)
			out = appendOPT(out, 1232, 0, q.do, nil)
		}
	})
	reply := appendOPT(e.appendReply(nil, &q, nowNano), 1232, 0, q.do, nil)
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sink.Close() })
	// The sink is never read: the kernel drops what overflows its
	// buffer, after the write has been paid for.
	to := sink.LocalAddr().(*net.UDPAddr)
	src, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = src.Close() })
	b.Run("write/plain", func(b *testing.B) {
		ap := to.AddrPort()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := src.WriteToUDPAddrPort(reply, ap); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write/batch32", func(b *testing.B) {
		bc := newBatchConn(src)
		ms := make([]ipv4.Message, udpBatch)
		for i := range ms {
			ms[i].Buffers = [][]byte{reply}
			ms[i].Addr = to
		}
		b.ReportAllocs()
		for b.Loop() {
			for sent := 0; sent < len(ms); {
				n, err := bc.WriteBatch(ms[sent:], 0)
				if err != nil || n <= 0 {
					b.Fatal(err)
				}
				sent += n
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*udpBatch), "ns/reply")
	})
}
