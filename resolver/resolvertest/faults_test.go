package resolvertest

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"
)

// clientAddr is where the fault tests' raw client socket lives.
var clientAddr = netip.MustParseAddrPort("127.53.1.1:0")

// dropWait is how long a test waits to conclude that no reply comes; a
// loopback reply takes microseconds.
const dropWait = 250 * time.Millisecond

// maxPackets bounds the packets read for one query: a fault sends at most
// three forged replies plus the genuine one.
const maxPackets = 8

// packet is one datagram the raw client received, summarised.
type packet struct {
	From      string // "server", "forger" or the address
	IDOK      bool
	Malformed bool
	QName     string
	Rcode     string
	AA, TC    bool
	Answer    int
	Ns        []string
}

// rawUDP sends q to server from an unconnected socket, so datagrams from
// any source are seen, and returns every datagram up to and including the
// first that comes from the server with the query's ID and question (or is
// malformed), or until wait passes.
func rawUDP(t *testing.T, lab *Lab, server string, q *dns.Msg, wait time.Duration) []packet {
	t.Helper()
	srv := lab.Server(server).AddrPort()
	forger := netip.AddrPortFrom(lab.ForgerAddr(), lab.Port())
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(clientAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteToUDPAddrPort(b, srv); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	var out []packet
	buf := make([]byte, dns.MaxMsgSize)
	for range maxPackets {
		n, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			break // deadline
		}
		p := packet{From: from.String()}
		switch from {
		case srv:
			p.From = "server"
		case forger:
			p.From = "forger"
		}
		p.IDOK = n >= 2 && binary.BigEndian.Uint16(buf) == q.Id
		m := new(dns.Msg)
		if err := m.Unpack(buf[:n]); err != nil {
			p.Malformed = true
		} else {
			if len(m.Question) > 0 {
				p.QName = m.Question[0].Name
			}
			p.Rcode = dns.RcodeToString[m.Rcode]
			p.AA, p.TC, p.Answer = m.Authoritative, m.Truncated, len(m.Answer)
			p.Ns = rrStrings(m.Ns)
		}
		out = append(out, p)
		if p.From == "server" && p.IDOK && (p.Malformed || p.QName == q.Question[0].Name) {
			break
		}
	}
	return out
}

func TestFaults(t *testing.T) {
	lab := newFixture(t)
	const server = "ns1.example.org."
	const qname = "www.example.org."
	genuine := packet{From: "server", IDOK: true, QName: qname, Rcode: "NOERROR", AA: true, Answer: 1}
	forgedNX := packet{IDOK: true, QName: qname, Rcode: "NXDOMAIN", AA: true}
	withFrom := func(p packet, from string) packet { p.From = from; return p }
	tests := []struct {
		name   string
		faults Faults
		wait   time.Duration
		want   []packet
	}{
		{name: "healthy", want: []packet{genuine}},
		{name: "drop", faults: Faults{Drop: true}, wait: dropWait, want: nil},
		{name: "refused", faults: Faults{Rcode: dns.RcodeRefused},
			want: []packet{{From: "server", IDOK: true, QName: qname, Rcode: "REFUSED"}}},
		{name: "servfail", faults: Faults{Rcode: dns.RcodeServerFailure},
			want: []packet{{From: "server", IDOK: true, QName: qname, Rcode: "SERVFAIL"}}},
		{name: "lame non-authoritative", faults: Faults{Lame: LameNonAuth},
			want: []packet{{From: "server", IDOK: true, QName: qname, Rcode: "NOERROR"}}},
		{name: "lame upward referral", faults: Faults{Lame: LameUpward},
			want: []packet{{From: "server", IDOK: true, QName: qname, Rcode: "NOERROR",
				Ns: rrs(t, ". 518400 IN NS a.root-servers.lab.")}}},
		{name: "truncate", faults: Faults{Truncate: true},
			want: []packet{{From: "server", IDOK: true, QName: qname, Rcode: "NOERROR", AA: true, TC: true}}},
		{name: "malformed", faults: Faults{Malformed: true},
			want: []packet{{From: "server", IDOK: true, Malformed: true}}},
		{name: "forged id first", faults: Faults{ForgeID: true},
			want: []packet{{From: "server", QName: qname, Rcode: "NXDOMAIN", AA: true}, genuine}},
		{name: "forged question first", faults: Faults{ForgeQuestion: true},
			want: []packet{{From: "server", IDOK: true, QName: "forged." + qname, Rcode: "NXDOMAIN", AA: true}, genuine}},
		{name: "forged source first", faults: Faults{ForgeSource: true},
			want: []packet{withFrom(forgedNX, "forger"), genuine}},
		{name: "all forgeries", faults: Faults{ForgeID: true, ForgeQuestion: true, ForgeSource: true},
			want: []packet{
				{From: "server", QName: qname, Rcode: "NXDOMAIN", AA: true},
				{From: "server", IDOK: true, QName: "forged." + qname, Rcode: "NXDOMAIN", AA: true},
				withFrom(forgedNX, "forger"),
				genuine,
			}},
		{name: "mutate adds poison", faults: Faults{Mutate: func(_, resp *dns.Msg) {
			rr, _ := dns.NewRR("www.example.com. 86400 IN NS ns.evil.example.")
			resp.Ns = append(resp.Ns, rr)
		}}, want: []packet{{From: "server", IDOK: true, QName: qname, Rcode: "NOERROR", AA: true, Answer: 1,
			Ns: rrs(t, "www.example.com. 86400 IN NS ns.evil.example.")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := lab.Server(server)
			s.SetFaults(tt.faults)
			t.Cleanup(func() { s.SetFaults(Faults{}) })
			wait := tt.wait
			if wait == 0 {
				wait = fixtureTimeout
			}
			got := rawUDP(t, lab, server, query(qname, dns.TypeA), wait)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packets mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTruncateFaultTCPFallback(t *testing.T) {
	lab := newFixture(t)
	s := lab.Server("ns1.example.org.")
	s.UpdateFaults(func(f *Faults) { f.Truncate = true })
	udp := exchange(t, lab, s.Name(), "udp", query("www.example.org.", dns.TypeA))
	tcp := exchange(t, lab, s.Name(), "tcp", query("www.example.org.", dns.TypeA))
	got := []view{viewOf(udp), viewOf(tcp)}
	want := []view{
		{Rcode: "NOERROR", AA: true, TC: true},
		{Rcode: "NOERROR", AA: true, Answer: rrs(t, "www.example.org. 300 IN A 192.0.2.10")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("udp, tcp replies mismatch (-want +got):\n%s", diff)
	}
}

func TestLatencyDoesNotBlock(t *testing.T) {
	lab := newFixture(t)
	const latency = 400 * time.Millisecond
	slow := lab.Server("ns1.example.org.")
	slow.SetFaults(Faults{Latency: latency})

	// Two concurrent queries to the slow server and one to a fast one.
	type result struct {
		server  string
		elapsed time.Duration
		err     error
	}
	servers := []string{"ns1.example.org.", "ns1.example.org.", "ns.org."}
	results := make([]result, len(servers))
	var wg sync.WaitGroup
	start := time.Now()
	for i, name := range servers {
		wg.Go(func() {
			c := &dns.Client{Net: "udp", Timeout: fixtureTimeout}
			_, _, err := c.Exchange(query("www.example.org.", dns.TypeA), lab.Server(name).AddrPort().String())
			results[i] = result{name, time.Since(start), err}
		})
	}
	wg.Wait()
	total := time.Since(start)
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.server, r.err)
		}
	}
	if results[0].elapsed < latency || results[1].elapsed < latency {
		t.Errorf("slow server answered in %v and %v, want at least %v", results[0].elapsed, results[1].elapsed, latency)
	}
	if results[2].elapsed >= latency {
		t.Errorf("fast server answered in %v, held up by the slow one", results[2].elapsed)
	}
	if total >= 2*latency {
		t.Errorf("two delayed queries took %v together: served one after the other", total)
	}
}

func TestCloseAbortsLatency(t *testing.T) {
	received := make(chan Query, 1)
	lab := newFixtureWith(t, Config{OnQuery: func(q Query) { received <- q }})
	lab.Server("ns1.example.org.").SetFaults(Faults{Latency: time.Hour})
	done := make(chan error, 1)
	go func() {
		c := &dns.Client{Net: "tcp", Timeout: fixtureTimeout}
		_, _, err := c.Exchange(query("www.example.org.", dns.TypeA), lab.Server("ns1.example.org.").AddrPort().String())
		done <- err
	}()
	// Once the server has the query, close: Close must not wait an hour
	// for the delayed reply.
	<-received
	start := time.Now()
	if err := lab.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > closeTimeout {
		t.Errorf("Close took %v", d)
	}
	if err := <-done; err == nil {
		t.Error("client got a reply from a closed lab")
	}
}

func TestQueryLog(t *testing.T) {
	lab := newFixture(t)
	lab.ResetQueries()
	q := query("WWW.example.org.", dns.TypeAAAA)
	q.RecursionDesired = true
	q.SetEdns0(1232, true)
	exchange(t, lab, "ns1.example.org.", "tcp", q)
	exchange(t, lab, "ns.org.", "udp", query("example.org.", dns.TypeNS))
	got := lab.Queries()
	for i := range got {
		if !got[i].Client.Addr().IsLoopback() {
			t.Errorf("query %d from %v", i, got[i].Client)
		}
		got[i].Client = netip.AddrPort{}
		got[i].ID = 0
	}
	want := []Query{
		{Server: "ns1.example.org.", ServerIP: exAddr, Transport: "tcp", Name: "WWW.example.org.", Type: dns.TypeAAAA,
			RD: true, EDNS: true, DO: true, UDPSize: 1232},
		{Server: "ns.org.", ServerIP: orgAddr, Transport: "udp", Name: "example.org.", Type: dns.TypeNS},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})); diff != "" {
		t.Errorf("query log mismatch (-want +got):\n%s", diff)
	}
	lab.ResetQueries()
	if n := len(lab.Queries()); n != 0 {
		t.Errorf("after reset: %d queries", n)
	}
}
