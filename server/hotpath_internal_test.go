package server

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/udpbatch"
)

// BenchmarkHotPath measures the pieces of a packet-cache hit one by one,
// with -benchmem (none may allocate): parse (the header, question and
// OPT of a query), pcache-lookup (the key and the table lookup among
// 10,000 entries), pcache-reply (copy the kept reply, patch ID, flags,
// question case and TTLs, append the OPT) and the UDP write of the reply
// over loopback, one datagram per call (write/plain) and 32 per sendmmsg
// (write/batch32, reported per reply). BenchmarkHandleCacheHit measures
// them together in process; BenchmarkUDPPath the whole UDP path on one
// goroutine (batch read, answers, batch write), BenchmarkUDPCacheHit the
// same through a running server's reader.
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
			// An entry of its own: put records the key's flags in it.
			pc.put(appendPKey(nil, &oq), newPEntry(wire, 0, rcodeNoError, true, now, ttlClamps{}))
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
		bc, err := udpbatch.New(src, udpBatch)
		if err != nil {
			b.Fatal(err)
		}
		ms := make([]udpbatch.Message, udpBatch)
		for i := range ms {
			ms[i].Buf = reply
			ms[i].Addr = to.AddrPort()
		}
		b.ReportAllocs()
		for b.Loop() {
			for sent := 0; sent < len(ms); {
				n, err := bc.WriteBatch(ms[sent:])
				if err != nil || n <= 0 {
					b.Fatal(err)
				}
				sent += n
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*udpBatch), "ns/reply")
	})
}

// udpPath is the whole UDP path of a packet-cache hit with no goroutine of
// its own: a client socket, a listener socket with the reader's buffers
// (udpIO), and a server whose packet cache holds www.example.org. A. Each
// step (run) writes burst queries, answers them with answerBatch as the
// reader does, and reads the replies.
type udpPath struct {
	s     *Server
	io    *udpIO
	cli   *net.UDPConn
	req   []byte
	reply []byte
}

func newUDPPath(tb testing.TB) *udpPath {
	tb.Helper()
	h, err := NewHandler(HandlerConfig{Settings: Settings{Resolver: &queueResolver{}}, Metrics: NewMetrics()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(h.Close)
	s, err := New(Config{Handler: h, Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	tuneUDP(srv) // receive stamps: the queue-wait metric is on the path
	cli, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cli.Close() })
	io, err := newUDPIO(srv, srv)
	if err != nil {
		tb.Fatal(err)
	}
	q := new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	req, err := q.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	// A resolution fills the packet cache; from here on every query hits.
	if _, ok := h.Handle(tb.Context(), req, cli.LocalAddr().(*net.UDPAddr).AddrPort(), TransportUDP); !ok {
		tb.Fatal("priming query dropped")
	}
	_ = srv.SetReadDeadline(time.Now().Add(time.Minute))
	_ = cli.SetReadDeadline(time.Now().Add(time.Minute))
	return &udpPath{s: s, io: io, cli: cli, req: req, reply: make([]byte, 1500)}
}

// run sends burst queries (at most udpBatch, so one read may take them
// all) and answers and reads them all.
func (p *udpPath) run(tb testing.TB, burst int) {
	for range burst {
		if _, err := p.cli.Write(p.req); err != nil {
			tb.Fatal(err)
		}
	}
	for answered := 0; answered < burst; { // bounded: each batch reads at least one
		n, err := p.s.answerBatch(p.io)
		if err != nil {
			tb.Fatal(err)
		}
		answered += n
	}
	for range burst {
		n, err := p.cli.Read(p.reply)
		if err != nil {
			tb.Fatal(err)
		}
		if n < 12 || p.reply[3]&0x0f != dns.RcodeSuccess {
			tb.Fatalf("reply of %d bytes, rcode %d", n, p.reply[3]&0x0f)
		}
	}
}

// TestUDPPathAllocs: the whole UDP path of a packet-cache hit allocates
// nothing: the batch read (recvmmsg, source addresses, receive stamps),
// the queue-wait metric, the handler's fast path and the batch write
// (sendmmsg), for one query and for a batch.
func TestUDPPathAllocs(t *testing.T) {
	for _, burst := range []int{1, 8, udpBatch} {
		t.Run(strconv.Itoa(burst), func(t *testing.T) {
			p := newUDPPath(t)
			if allocs := testing.AllocsPerRun(50, func() { p.run(t, burst) }); allocs != 0 {
				t.Errorf("%d cache hits over UDP allocate %v times, want 0", burst, allocs)
			}
		})
	}
}

// BenchmarkUDPPath measures the whole UDP path of a packet-cache hit on
// one goroutine, with -benchmem: the client's writes, the reader's batch
// read, answers and batch write, the client's reads. serial sends one
// query per batch, burst32 a full batch (what batching amortises).
func BenchmarkUDPPath(b *testing.B) {
	for _, burst := range []int{1, udpBatch} {
		name := "serial"
		if burst > 1 {
			name = "burst" + strconv.Itoa(burst)
		}
		b.Run(name, func(b *testing.B) {
			p := newUDPPath(b)
			b.ReportAllocs()
			for b.Loop() {
				p.run(b, burst)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/query")
		})
	}
}
