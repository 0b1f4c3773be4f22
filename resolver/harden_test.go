package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
)

// maxBindAttempts bounds the search for a random 127.x.y.z whose port is
// free for both UDP and TCP; a collision is rare, 16 in a row is a fault.
const maxBindAttempts = 16

// authServer runs an in-process authoritative server on UDP and TCP at a
// random loopback address; handle answers each query. It records the
// queries it got, with their transport.
type authServer struct {
	addr netip.AddrPort
	mu   sync.Mutex // guards got
	got  []received
}

// received is one query an authServer got, and over which network.
type received struct {
	network string
	q       *dns.Msg
}

func (a *authServer) queries() []received {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]received(nil), a.got...)
}

func startAuth(t *testing.T, handle func(w dns.ResponseWriter, q *dns.Msg)) *authServer {
	t.Helper()
	return startAuthTCP(t, handle, true)
}

// startAuthTCP is startAuth with TCP served or refused: without tcp the
// port is bound for TCP only while an address is chosen, then closed, so
// connections to it are refused.
func startAuthTCP(t *testing.T, handle func(w dns.ResponseWriter, q *dns.Msg), tcp bool) *authServer {
	t.Helper()
	a := &authServer{}
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		if i == maxBindAttempts {
			t.Fatalf("no free UDP+TCP port on a random loopback address after %d attempts", maxBindAttempts)
		}
		ip := netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(250))})
		var err error
		if pc, err = net.ListenPacket("udp", netip.AddrPortFrom(ip, 0).String()); err != nil {
			continue
		}
		a.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		if ln, err = net.Listen("tcp", a.addr.String()); err != nil {
			pc.Close()
			continue
		}
		break
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		a.mu.Lock()
		a.got = append(a.got, received{w.RemoteAddr().Network(), q.Copy()})
		a.mu.Unlock()
		handle(w, q)
	})
	servers := []*dns.Server{{PacketConn: pc, Handler: h}}
	if tcp {
		servers = append(servers, &dns.Server{Listener: ln, Handler: h})
	} else {
		ln.Close()
	}
	for _, s := range servers {
		go s.ActivateAndServe()
		t.Cleanup(func() { s.Shutdown() })
	}
	return a
}

// answerA answers with an A record owned by the question name as sent.
func answerA(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	rr, _ := dns.NewRR(q.Question[0].Name + " 300 IN A 192.0.2.1")
	m.Answer = []dns.RR{rr}
	return m
}

// stubResolver makes a resolver whose zone example.org. is served by the
// given servers, without QNAME minimisation (one query per question).
func stubResolver(t *testing.T, cfg resolver.Config, servers ...netip.AddrPort) *resolver.Resolver {
	t.Helper()
	cfg.Stub = []resolver.ZoneConfig{{Zone: "example.org.", Servers: servers}}
	cfg.DisableQNAMEMinimisation = true
	if cfg.QueryTimeout == 0 {
		cfg.QueryTimeout = 2 * time.Second
	}
	if cfg.Infra == nil {
		// A server never heard from gets a 376 ms timeout, which a
		// loaded machine running -race can exceed: start each with a
		// slow RTT on record, so the query timeout applies.
		in, err := cache.NewInfra(nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(in.Close)
		for _, s := range servers {
			in.RecordRTT(s.Addr(), "example.org.", time.Second)
		}
		cfg.Infra = in
	}
	r, err := resolver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestCaseRandomisation(t *testing.T) {
	lower := func(w dns.ResponseWriter, q *dns.Msg) {
		q.Question[0].Name = strings.ToLower(q.Question[0].Name)
		w.WriteMsg(answerA(q))
	}
	echo := func(w dns.ResponseWriter, q *dns.Msg) { w.WriteMsg(answerA(q)) }
	var firstLowered atomic.Bool
	lowerFirst := func(w dns.ResponseWriter, q *dns.Msg) { // one mismatch, as a forger's lucky guess
		if firstLowered.CompareAndSwap(false, true) {
			lower(w, q)
			return
		}
		echo(w, q)
	}
	const name = "www.abcdefghijklmnopqrstuvwxyz.example.org."
	tests := []struct {
		name   string
		on     bool
		handle func(dns.ResponseWriter, *dns.Msg)
		noTCP  bool // the server refuses TCP connections
		// want is, per query the server got, whether its name was in
		// mixed case (false: all lower case), over two questions.
		want []bool
	}{
		{"off", false, echo, false, []bool{false, false}},
		{"server echoes case", true, echo, false, []bool{true, true}},
		// A mismatch over UDP, asked again over TCP in mixed case; the
		// TCP reply lower-cases too, so the server is remembered and the
		// second question goes in lower case.
		{"server lower-cases", true, lower, false, []bool{true, true, false}},
		// A mismatch over UDP, TCP refused (not recorded), a second
		// mismatch over UDP in a new case: the server is remembered
		// and asked in lower case, at once and for the next question.
		{"server lower-cases and refuses TCP", true, lower, true, []bool{true, true, false, false}},
		// One mismatch, TCP refused, then the case comes back: the
		// reply is used and 0x20 stays on for the server.
		{"one mismatch, TCP refused, then echoed", true, lowerFirst, true, []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startAuthTCP(t, tt.handle, !tt.noTCP)
			r := stubResolver(t, resolver.Config{Hardening: resolver.Hardening{CaseRandomisation: tt.on}}, srv.addr)
			for _, qname := range []string{name, "mail." + name} {
				res, err := r.Resolve(t.Context(), qname, dns.TypeA)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", qname, err)
				}
				// The random case never reaches the answer.
				if got := res.Answer[0].Header().Name; got != qname {
					t.Errorf("answer owner %q, want %q", got, qname)
				}
			}
			var got []bool
			for _, rc := range srv.queries() {
				n := rc.q.Question[0].Name
				got = append(got, n != strings.ToLower(n))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mixed-case queries (-want +got):\n%s", diff)
			}
		})
	}
}

// cookieOf returns the hex of a message's COOKIE option, "" if none.
func cookieOf(m *dns.Msg) string {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if c, ok := o.(*dns.EDNS0_COOKIE); ok {
				return c.Cookie
			}
		}
	}
	return ""
}

// withCookie adds a COOKIE option: the query's client cookie and server.
func withCookie(m, q *dns.Msg, server string) *dns.Msg {
	m.SetEdns0(1232, false)
	c := cookieOf(q)
	if len(c) >= 16 {
		c = c[:16]
	}
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: c + server})
	return m
}

func TestClientCookies(t *testing.T) {
	const sc1, sc2 = "1111111111111111", "2222222222222222"
	tests := []struct {
		name string
		// handle answers the n-th query (0-based) over network.
		handle func(n int, network string, q *dns.Msg) *dns.Msg
		// want lists, per query the server got, its transport and the
		// server cookie it carried ("-" for none).
		want []string
	}{
		{"server without cookies", func(_ int, _ string, q *dns.Msg) *dns.Msg { return answerA(q) },
			[]string{"udp -", "udp -"}},
		{"server cookie kept and sent back", func(_ int, _ string, q *dns.Msg) *dns.Msg {
			return withCookie(answerA(q), q, sc1)
		}, []string{"udp -", "udp " + sc1}},
		{"BADCOOKIE retried once with the new cookie", func(n int, _ string, q *dns.Msg) *dns.Msg {
			if n == 0 {
				m := new(dns.Msg)
				m.SetRcode(q, dns.RcodeBadCookie)
				return withCookie(m, q, sc2)
			}
			return withCookie(answerA(q), q, sc2)
		}, []string{"udp -", "udp " + sc2, "udp " + sc2}},
		{"BADCOOKIE twice: TCP", func(n int, network string, q *dns.Msg) *dns.Msg {
			if network == "udp" && n < 2 {
				m := new(dns.Msg)
				m.SetRcode(q, dns.RcodeBadCookie)
				return withCookie(m, q, sc2)
			}
			return withCookie(answerA(q), q, sc2)
		}, []string{"udp -", "udp " + sc2, "tcp " + sc2, "udp " + sc2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv := startAuth(t, func(w dns.ResponseWriter, q *dns.Msg) {
				w.WriteMsg(tt.handle(int(n.Add(1)-1), w.RemoteAddr().Network(), q))
			})
			r := stubResolver(t, resolver.Config{Hardening: resolver.Hardening{Cookies: true}}, srv.addr)
			for _, qname := range []string{"a.example.org.", "b.example.org."} {
				if _, err := r.Resolve(t.Context(), qname, dns.TypeA); err != nil {
					t.Fatalf("Resolve(%s): %v", qname, err)
				}
			}
			var got []string
			client := ""
			for _, rc := range srv.queries() {
				c := cookieOf(rc.q)
				if len(c) < 16 {
					t.Fatalf("query without a client cookie: %q", c)
				}
				if client == "" {
					client = c[:16]
				} else if c[:16] != client {
					t.Errorf("client cookie changed: %s, then %s", client, c[:16])
				}
				s := c[16:]
				if s == "" {
					s = "-"
				}
				got = append(got, rc.network+" "+s)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCookieForgeriesIgnored: replies from the server's own address with
// the right ID and question but a wrong or missing cookie are ignored and
// counted, and the real reply that follows is taken.
func TestCookieForgeriesIgnored(t *testing.T) {
	const client, server = "0102030405060708", "aaaaaaaaaaaaaaaa"
	tests := []struct {
		name        string
		queryCookie string
		forged      string // the forged reply's cookie; "" means none
		wantIgnored int64
	}{
		{"wrong client cookie", client, "ffffffffffffffff" + server, 1},
		{"client cookie only (malformed)", client, client, 1},
		{"no cookie from a server known to send one", client + server, "", 1},
		{"no cookie from a server not known to", client, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pc.Close() })
			go func() {
				buf := make([]byte, 65535)
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				q := new(dns.Msg)
				if q.Unpack(buf[:n]) != nil {
					return
				}
				forged := answerA(q)
				forged.Answer[0].(*dns.A).A = net.IPv4(203, 0, 113, 66)
				if tt.forged != "" {
					forged.SetEdns0(1232, false)
					forged.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: tt.forged}}
				}
				real := withCookie(answerA(q), q, server)
				for _, m := range []*dns.Msg{forged, real} {
					b, _ := m.Pack()
					pc.WriteTo(b, from)
				}
			}()
			var ignored atomic.Int64
			x := &resolver.NetExchanger{Timeout: 2 * time.Second, OnUnwanted: func(netip.AddrPort) { ignored.Add(1) }}
			q := new(dns.Msg)
			q.SetQuestion("www.example.org.", dns.TypeA)
			q.SetEdns0(1232, false)
			q.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: tt.queryCookie}}
			m, err := x.Exchange(t.Context(), q, "udp", pc.LocalAddr().(*net.UDPAddr).AddrPort())
			if err != nil {
				t.Fatal(err)
			}
			wantAddr := "192.0.2.1"
			if tt.wantIgnored == 0 {
				wantAddr = "203.0.113.66" // accepted: nothing tells it apart
			}
			if got := m.Answer[0].(*dns.A).A.String(); got != wantAddr {
				t.Errorf("answer %s, want %s", got, wantAddr)
			}
			if got := ignored.Load(); got != tt.wantIgnored {
				t.Errorf("ignored %d, want %d", got, tt.wantIgnored)
			}
		})
	}
}

// gateExchanger answers at once, except that the first hold calls block
// until release is closed; started gets a value as each call begins.
type gateExchanger struct {
	hold    int64
	calls   atomic.Int64
	started chan struct{}
	release chan struct{}
}

func (g *gateExchanger) Exchange(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
	n := g.calls.Add(1)
	g.started <- struct{}{}
	if n <= g.hold {
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return answerA(q), nil
}

func TestOutstandingCaps(t *testing.T) {
	servers := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53"), netip.MustParseAddrPort("192.0.2.54:53")}
	tests := []struct {
		name      string
		h         resolver.Hardening
		hold      int64
		wantErr   error // for the question asked while hold are in flight
		wantCalls int64 // exchanges in all
	}{
		{"zone cap reached", resolver.Hardening{MaxOutstandingPerZone: 2, MaxOutstandingPerServer: -1}, 2, resolver.ErrRateLimited, 2},
		{"zone cap not reached", resolver.Hardening{MaxOutstandingPerZone: 3, MaxOutstandingPerServer: -1}, 2, nil, 3},
		{"every server at its cap", resolver.Hardening{MaxOutstandingPerServer: 1}, 2, resolver.ErrNoServers, 2},
		{"one server free", resolver.Hardening{MaxOutstandingPerServer: 1}, 1, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gateExchanger{hold: tt.hold, started: make(chan struct{}, 16), release: make(chan struct{})}
			r := stubResolver(t, resolver.Config{Exchanger: g, Hardening: tt.h}, servers...)
			var wg sync.WaitGroup
			for i := range tt.hold {
				wg.Go(func() {
					if _, err := r.Resolve(context.Background(), fmt.Sprintf("held%d.example.org.", i), dns.TypeA); err != nil {
						t.Errorf("held question: %v", err)
					}
				})
			}
			for range tt.hold {
				<-g.started
			}
			_, err := r.Resolve(t.Context(), "new.example.org.", dns.TypeA)
			close(g.release)
			wg.Wait()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("question while %d in flight: %v, want %v", tt.hold, err, tt.wantErr)
			}
			if got := g.calls.Load(); got != tt.wantCalls {
				t.Errorf("exchanges: %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestZoneRateLimit(t *testing.T) {
	clk := newFakeClock()
	g := &gateExchanger{started: make(chan struct{}, 64)}
	r := stubResolver(t, resolver.Config{Exchanger: g, Now: clk.Now,
		Hardening: resolver.Hardening{ZoneRateLimit: 3}}, netip.MustParseAddrPort("192.0.2.53:53"))
	steps := []struct {
		advance time.Duration
		wantErr error
	}{
		{0, nil}, {0, nil}, {0, nil}, // the bucket holds one second's worth
		{0, resolver.ErrRateLimited},
		{100 * time.Millisecond, resolver.ErrRateLimited}, // 0.3 of a token
		{250 * time.Millisecond, nil},                     // 1.05 tokens
		{0, resolver.ErrRateLimited},
	}
	var got, want []string
	for i, s := range steps {
		clk.Advance(s.advance)
		_, err := r.Resolve(t.Context(), fmt.Sprintf("n%d.example.org.", i), dns.TypeA)
		got = append(got, fmt.Sprintf("%d: limited %t", i, errors.Is(err, resolver.ErrRateLimited)))
		want = append(want, fmt.Sprintf("%d: limited %t", i, s.wantErr != nil))
		if err != nil && !errors.Is(err, resolver.ErrRateLimited) {
			t.Errorf("step %d: %v", i, err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := g.calls.Load(); n != 4 {
		t.Errorf("exchanges: %d, want 4 (limited questions send nothing)", n)
	}
}

// deadExchanger times out at once until alive is set.
type deadExchanger struct {
	alive atomic.Bool
	calls atomic.Int64
}

func (d *deadExchanger) Exchange(_ context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
	d.calls.Add(1)
	if !d.alive.Load() {
		return nil, fmt.Errorf("%w: no reply", resolver.ErrTimeout)
	}
	return answerA(q), nil
}

// TestDeadZoneHoldDown: once every server of a zone is at the maximum
// RTO, questions fail at once with ErrHeldDown and only one probe is sent
// per interval, the interval doubling; an answer ends the hold-down.
func TestDeadZoneHoldDown(t *testing.T) {
	clk := newFakeClock()
	infra, err := cache.NewInfra(&cache.InfraConfig{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(infra.Close)
	servers := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53"), netip.MustParseAddrPort("192.0.2.54:53")}
	// Nine timeouts take an RTO from 376 ms to the 120 s cap: down.
	for _, s := range servers {
		for range 9 {
			infra.RecordTimeout(s.Addr(), "example.org.")
		}
	}
	d := &deadExchanger{}
	r := stubResolver(t, resolver.Config{Exchanger: d, Now: clk.Now, Infra: infra}, servers...)
	steps := []struct {
		name    string
		advance time.Duration
		alive   bool
		want    string // the outcome and the exchanges it caused
	}{
		{"first question probes once", 0, false, "held_down 1"},
		{"then fails at once", 0, false, "held_down 0"},
		{"and again", 0, false, "held_down 0"},
		{"before the 2 s interval", 1900 * time.Millisecond, false, "held_down 0"},
		{"at 2 s: one probe", 100 * time.Millisecond, false, "held_down 1"},
		{"the interval doubled to 4 s", 2 * time.Second, false, "held_down 0"},
		{"a probe is answered", 2 * time.Second, true, "ok 1"},
		{"the zone is usable again", 0, true, "ok 1"},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Advance(s.advance)
			d.alive.Store(s.alive)
			before := d.calls.Load()
			_, err := r.Resolve(t.Context(), fmt.Sprintf("r%d.example.org.", i), dns.TypeA)
			outcome := "ok"
			if e := (*resolver.Error)(nil); errors.As(err, &e) {
				outcome = e.Reason()
			} else if err != nil {
				outcome = err.Error()
			}
			if got := fmt.Sprintf("%s %d", outcome, d.calls.Load()-before); got != s.want {
				t.Errorf("got %q, want %q (%v)", got, s.want, err)
			}
		})
	}
}
