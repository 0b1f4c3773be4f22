package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// flightZone is the zone cut the in-flight tests ask: example.org. with
// two servers (documentation addresses: the fake transport sends nothing).
func flightZone(zone string, addrs ...string) *zoneServers {
	zs := &zoneServers{zone: zone}
	for i, a := range addrs {
		zs.ns = append(zs.ns, &nsEntry{name: "ns" + string(rune('1'+i)) + ".example.org.",
			addrs: []netip.Addr{netip.MustParseAddr(a)}, resolved: true})
	}
	return zs
}

// newFlightResolver returns a resolver whose transport is x.
func newFlightResolver(t *testing.T, x Exchanger, h Hardening) *Resolver {
	t.Helper()
	r, err := New(Config{Exchanger: x, Hardening: h, Hints: StubHints("a.root.example.", netip.MustParseAddr("192.0.2.53"))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// maxWait bounds how long a test waits for a readiness signal (a query
// reaching the fake server, a caller joining a flight) before failing:
// each takes microseconds, so 10 s only trips on a hang.
const maxWait = 10 * time.Second

// TestSharedExchange asks questions one after another while the fake
// server holds every reply back, each ask waiting until its query reached
// the server or it joined a flight; then checks how many queries were
// sent and what each caller got: its own copy, its own ID, the server the
// reply came from, and its own 0x20 case only when the reply echoed the
// sender's. Every ask is a request of its own.
func TestSharedExchange(t *testing.T) {
	const ns1, ns2, ns3 = "192.0.2.1", "192.0.2.2", "192.0.2.3"
	type ask struct {
		server string // the server the request chose
		name   string
		qtype  uint16
		caps   bool
		do     bool
		zone   string   // default example.org.
		cut    []string // the request's zone cut's addresses; default ns1, ns2
		bad    string   // a server the request found failing for the zone
	}
	type got struct {
		ID     uint16
		Name   string
		From   string
		Joined bool
	}
	www := func(server string) ask { return ask{server: server, name: "www.example.org.", qtype: dns.TypeA} }
	tests := []struct {
		name      string
		cookies   bool
		asks      []ask // in this order
		lowerEcho bool  // the server answers in lower case, not the sender's
		wantSent  int32
		want      []got
	}{
		{"same question, same server", false, []ask{www(ns1), www(ns1), www(ns1)}, false, 1,
			[]got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns1, true}, {3, "www.example.org.", ns1, true}}},
		{"same question, another server of the zone: joins", false, []ask{www(ns1), www(ns2), www(ns2)}, false, 1,
			[]got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns1, true}, {3, "www.example.org.", ns1, true}}},
		{"0x20 echoed: each its own case", false, []ask{
			{server: ns1, name: "wWw.ExAmple.org.", qtype: dns.TypeA, caps: true},
			{server: ns2, name: "WWW.example.ORG.", qtype: dns.TypeA, caps: true},
		}, false, 1, []got{{1, "wWw.ExAmple.org.", ns1, false}, {2, "WWW.example.ORG.", ns1, true}}},
		{"0x20 not echoed: joiners see the mismatch too", false, []ask{
			{server: ns1, name: "wWw.ExAmple.org.", qtype: dns.TypeA, caps: true},
			{server: ns1, name: "WWW.example.ORG.", qtype: dns.TypeA, caps: true},
		}, true, 1, []got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns1, true}}},
		{"other type, DO, or 0x20 against none: sent apart", false, []ask{
			www(ns1),
			{server: ns1, name: "www.example.org.", qtype: dns.TypeAAAA},
			{server: ns2, name: "www.example.org.", qtype: dns.TypeA, do: true},
			{server: ns1, name: "www.example.org.", qtype: dns.TypeA, caps: true},
		}, false, 4, []got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns1, false},
			{3, "www.example.org.", ns2, false}, {4, "www.example.org.", ns1, false}}},
		{"same question to another zone: sent apart", false, []ask{
			www(ns1), {server: ns1, name: "www.example.org.", qtype: dns.TypeA, zone: "org."},
		}, false, 2, []got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns1, false}}},
		{"a server the joiner found failing: sent apart", false, []ask{
			www(ns1), {server: ns2, name: "www.example.org.", qtype: dns.TypeA, bad: ns1},
		}, false, 2, []got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns2, false}}},
		{"a server outside the joiner's zone cut: sent apart", false, []ask{
			www(ns1), {server: ns3, name: "www.example.org.", qtype: dns.TypeA, cut: []string{ns2, ns3}},
		}, false, 2, []got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns3, false}}},
		{"cookies: shared per server only", true, []ask{www(ns1), www(ns2), www(ns1)}, false, 2,
			[]got{{1, "www.example.org.", ns1, false}, {2, "www.example.org.", ns2, false}, {3, "www.example.org.", ns1, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int32
			entered := make(chan struct{}, len(tt.asks))
			release := make(chan struct{})
			r := newFlightResolver(t, ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
				sent.Add(1)
				entered <- struct{}{}
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				m := new(dns.Msg)
				m.SetReply(q)
				if tt.lowerEcho {
					m.Question[0].Name = dns.CanonicalName(m.Question[0].Name)
				}
				return m, nil
			}), Hardening{Cookies: tt.cookies})
			joined := make(chan struct{}, len(tt.asks))
			r.upFlights.onJoin = func(string) { joined <- struct{}{} }
			ctx := t.Context()
			gots := make([]got, len(tt.asks))
			replies := make([]*dns.Msg, len(tt.asks))
			errs := make([]error, len(tt.asks))
			var wg sync.WaitGroup
			for i, a := range tt.asks {
				zone, cut := a.zone, a.cut
				if zone == "" {
					zone = "example.org."
				}
				if cut == nil {
					cut = []string{ns1, ns2}
				}
				rq := &request{r: r, class: dns.ClassINET}
				if a.bad != "" {
					rq.setBad(badKey(zone, netip.MustParseAddr(a.bad)), "lame")
				}
				q := rq.newQuery(a.name, a.qtype, true)
				q.Id = uint16(i + 1)
				q.SetEdns0(EDNSBufferSize, a.do)
				server := netip.AddrPortFrom(netip.MustParseAddr(a.server), 53)
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, busy, err := rq.ask(ctx, flightZone(zone, cut...), server, nil, q, a.caps, "udp", 5*time.Second)
					if busy != nil {
						err = busy
					}
					errs[i], replies[i] = err, s.m
					if s.m != nil {
						gots[i] = got{s.m.Id, s.m.Question[0].Name, s.from.Addr().String(), s.joined}
					}
				}()
				select {
				case <-entered:
				case <-joined:
				case <-time.After(maxWait):
					t.Fatalf("ask %d neither sent a query nor joined one", i)
				}
			}
			close(release)
			wg.Wait()
			seen := map[*dns.Msg]bool{}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("ask %d: %v", i, err)
				}
				if seen[replies[i]] {
					t.Errorf("ask %d got a reply another caller also holds", i)
				}
				seen[replies[i]] = true
			}
			if n := sent.Load(); n != tt.wantSent {
				t.Errorf("sent %d queries, want %d", n, tt.wantSent)
			}
			if diff := cmp.Diff(tt.want, gots); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSharedExchangeCallerGivesUp: the request that sent the query
// giving up does not fail a request that joined it: the query ran on the
// sender's goroutine and ends with it, and the joiner sends its own.
func TestSharedExchangeCallerGivesUp(t *testing.T) {
	entered := make(chan struct{}, 2)
	release := make(chan struct{})
	var sent atomic.Int32
	r := newFlightResolver(t, ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
		sent.Add(1)
		entered <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		m := new(dns.Msg)
		m.SetReply(q)
		return m, nil
	}), Hardening{})
	joined := make(chan struct{}, 1)
	r.upFlights.onJoin = func(string) { joined <- struct{}{} }
	zs := flightZone("example.org.", "192.0.2.1", "192.0.2.2")
	q1, q2 := new(dns.Msg), new(dns.Msg)
	q1.SetQuestion("www.example.org.", dns.TypeA)
	q2.SetQuestion("www.example.org.", dns.TypeA)
	q1.Id, q2.Id = 1, 2
	ctx1, cancel1 := context.WithCancel(t.Context())
	err1 := make(chan error, 1)
	go func() {
		rq := &request{r: r, class: dns.ClassINET}
		_, _, err := rq.ask(ctx1, zs, netip.MustParseAddrPort("192.0.2.1:53"), nil, q1, false, "udp", 5*time.Second)
		err1 <- err
	}()
	<-entered
	type result struct {
		s   asked
		err error
	}
	res2 := make(chan result, 1)
	go func() {
		rq := &request{r: r, class: dns.ClassINET}
		s, _, err := rq.ask(t.Context(), zs, netip.MustParseAddrPort("192.0.2.2:53"), nil, q2, false, "udp", 5*time.Second)
		res2 <- result{s, err}
	}()
	<-joined
	cancel1()
	if err := <-err1; err == nil {
		t.Error("the cancelled sender got a reply, want its context's error")
	}
	close(release)
	res := <-res2
	if res.err != nil {
		t.Fatalf("the joiner failed with the sender: %v", res.err)
	}
	if res.s.m.Id != q2.Id {
		t.Errorf("joiner's reply ID %d, want %d", res.s.m.Id, q2.Id)
	}
	if res.s.joined {
		t.Error("the joiner's reply is marked joined, want its own query's")
	}
	if n := sent.Load(); n != 2 {
		t.Errorf("%d queries sent, want 2: the sender's, then the joiner's own", n)
	}
}

// TestSharedExchangeSenderPanics: an exchange that panics on the
// sender's goroutine ends its flight, so a request that joined it sends
// its own query instead of waiting out its timeout, and the panic goes
// on up the sender's goroutine.
func TestSharedExchangeSenderPanics(t *testing.T) {
	entered := make(chan struct{}, 1)
	boom := make(chan struct{})
	r := newFlightResolver(t, ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
		if q.Id == 1 {
			entered <- struct{}{}
			<-boom
			panic("exchange panicked")
		}
		m := new(dns.Msg)
		m.SetReply(q)
		return m, nil
	}), Hardening{})
	joined := make(chan struct{}, 1)
	r.upFlights.onJoin = func(string) { joined <- struct{}{} }
	zs := flightZone("example.org.", "192.0.2.1", "192.0.2.2")
	q1, q2 := new(dns.Msg), new(dns.Msg)
	q1.SetQuestion("www.example.org.", dns.TypeA)
	q2.SetQuestion("www.example.org.", dns.TypeA)
	q1.Id, q2.Id = 1, 2
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		rq := &request{r: r, class: dns.ClassINET}
		rq.ask(t.Context(), zs, netip.MustParseAddrPort("192.0.2.1:53"), nil, q1, false, "udp", 5*time.Second)
	}()
	<-entered
	type result struct {
		s   asked
		err error
	}
	res2 := make(chan result, 1)
	go func() {
		rq := &request{r: r, class: dns.ClassINET}
		// A 5 s timeout: waiting it out would fail the test's own
		// deadline check below.
		s, _, err := rq.ask(t.Context(), zs, netip.MustParseAddrPort("192.0.2.2:53"), nil, q2, false, "udp", 5*time.Second)
		res2 <- result{s, err}
	}()
	<-joined
	start := time.Now()
	close(boom)
	if p := <-panicked; p == nil {
		t.Error("the sender's panic did not reach its goroutine")
	}
	res := <-res2
	if res.err != nil {
		t.Fatalf("the joiner failed with the sender: %v", res.err)
	}
	if res.s.m.Id != q2.Id {
		t.Errorf("joiner's reply ID %d, want %d", res.s.m.Id, q2.Id)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the joiner took %v, waiting out its timeout", d)
	}
	if n := len(r.upFlights.calls); n != 0 {
		t.Errorf("%d flights left in the table, want 0", n)
	}
}

// TestSharedExchangeRetryAfterTimeout: a caller that gave up on a flight
// sends its retry afresh instead of joining the flight it gave up on.
func TestSharedExchangeRetryAfterTimeout(t *testing.T) {
	var retrySent atomic.Bool
	r := newFlightResolver(t, ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
		if q.Id == 1 {
			<-ctx.Done() // the first query is never answered
			return nil, ctx.Err()
		}
		retrySent.Store(true)
		m := new(dns.Msg)
		m.SetReply(q)
		return m, nil
	}), Hardening{})
	zs := flightZone("example.org.", "192.0.2.1", "192.0.2.2")
	q, retry := new(dns.Msg), new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	retry.SetQuestion("www.example.org.", dns.TypeA)
	q.Id, retry.Id = 1, 2
	rq := &request{r: r, class: dns.ClassINET}
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := rq.ask(gone, zs, netip.MustParseAddrPort("192.0.2.1:53"), nil, q, false, "udp", 100*time.Millisecond); err == nil {
		t.Fatal("a caller whose context ended got a reply")
	}
	if _, _, err := rq.ask(t.Context(), zs, netip.MustParseAddrPort("192.0.2.2:53"), nil, retry, false, "udp", 5*time.Second); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !retrySent.Load() {
		t.Error("the retry joined the flight it gave up on, want it sent afresh")
	}
}

// TestJoinedTimeoutStillAsksPickedServer: a request picks the zone's
// answering server but joins another request's query of the same
// question to the zone's silent server, which times out. The picked
// server was never asked, so the request asks it next rather than only
// retrying the silent one (interop: chain.p0.example. A failed with three
// timeouts of silent.hostc.org. and never asked ns1.hostb.net., whose
// zone-mate request had the flight to the silent server).
func TestJoinedTimeoutStillAsksPickedServer(t *testing.T) {
	silent, answering := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	reached := make(chan struct{}, 8)
	var mu sync.Mutex // guards asked
	var asked []string
	r := newFlightResolver(t, ExchangerFunc(func(ctx context.Context, q *dns.Msg, _ string, server netip.AddrPort) (*dns.Msg, error) {
		mu.Lock()
		asked = append(asked, server.Addr().String())
		mu.Unlock()
		reached <- struct{}{}
		if server.Addr() == silent {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		m.Answer = append(m.Answer, mustRR(t, "www.example.org. 300 IN A 192.0.2.80"))
		return m, nil
	}), Hardening{})
	zone := "example.org."
	// The answering server is known fast, the silent one slow (out of
	// the selection band): the request picks the answering one first.
	for range 3 {
		r.infra.RecordRTT(answering, zone, time.Millisecond)
		r.infra.RecordRTT(silent, zone, 3*time.Second)
	}
	zs := flightZone(zone, silent.String(), answering.String())
	other := &request{r: r, class: dns.ClassINET}
	q := other.newQuery("www.example.org.", dns.TypeA, true)
	flightDone := make(chan error, 1)
	go func() {
		_, _, err := other.ask(t.Context(), zs, netip.AddrPortFrom(silent, 53), nil, q, false, "udp", 300*time.Millisecond)
		flightDone <- err
	}()
	select {
	case <-reached:
	case <-time.After(maxWait):
		t.Fatal("the other request's query never reached the silent server")
	}
	rq := &request{r: r, class: dns.ClassINET}
	resp, err := rq.askZone(t.Context(), zs, "www.example.org.", dns.TypeA, false)
	if err != nil {
		t.Fatalf("askZone: %v, want the answering server's reply", err)
	}
	if got, want := rrStrings(resp.answer), []string{"www.example.org. 300 IN A 192.0.2.80"}; !cmp.Equal(got, want) {
		t.Errorf("answer: %s", cmp.Diff(want, got))
	}
	if err := <-flightDone; err == nil {
		t.Error("the silent server's flight got a reply")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{silent.String(), answering.String()}; !cmp.Equal(asked, want) {
		t.Errorf("queries sent, by server (-want +got):\n%s", cmp.Diff(want, asked))
	}
}

// sharedLabZones: example.org. has two servers; the names asked live
// below sub.example.org., a cut served by the same servers, so QNAME
// minimisation sends every request's walk through the question
// "sub.example.org. NS" to one of example.org's two servers.
var sharedLabZones = map[string]string{
	".": `
$TTL 86400
@ IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
a.root.lab. IN A 127.54.0.1
org. IN NS ns1.nic.org.
ns1.nic.org. IN A 127.54.1.1
`,
	"org.": `
$TTL 86400
@ IN SOA ns1.nic.org. hostmaster.nic.org. 1 1800 900 604800 3600
@ IN NS ns1.nic.org.
ns1.nic IN A 127.54.1.1
example IN NS ns1.example
example IN NS ns2.example
ns1.example IN A 127.54.3.1
ns2.example IN A 127.54.3.2
`,
	"example.org.": `
$TTL 86400
@ IN SOA ns1 hostmaster 1 1800 900 604800 3600
@ IN NS ns1
@ IN NS ns2
ns1 IN A 127.54.3.1
ns2 IN A 127.54.3.2
sub IN NS ns1
sub IN NS ns2
`,
	"sub.example.org.": `
$TTL 86400
@ IN SOA ns1.example.org. hostmaster.example.org. 1 1800 900 604800 3600
@ IN NS ns1.example.org.
@ IN NS ns2.example.org.
h1 IN A 192.0.2.1
h2 IN A 192.0.2.2
h3 IN A 192.0.2.3
h4 IN A 192.0.2.4
h5 IN A 192.0.2.5
h6 IN A 192.0.2.6
`,
}

// TestSharedQuestionAcrossServers resolves six names under
// sub.example.org. at once on a cold cache, with the transport holding
// the first "sub.example.org. NS" query back until the five other
// requests joined it, and counts what reached the servers: that question
// once in all, although each request picks one of example.org's two
// servers at random (before zone-wide sharing, about half of them sent
// it again to the other server).
func TestSharedQuestionAcrossServers(t *testing.T) {
	lab, hints := startSharedLab(t, nil)
	const names = 6
	joinedAll := make(chan struct{})
	var mu sync.Mutex // guards asked and joins
	asked := map[string]int{}
	joins := 0
	nx := &NetExchanger{}
	x := ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
		if !server.Addr().IsLoopback() {
			return nil, fmt.Errorf("test: refusing to send to %s", server)
		}
		key := strings.ToLower(q.Question[0].Name) + " " + dns.TypeToString[q.Question[0].Qtype]
		mu.Lock()
		asked[key]++
		first := key == "sub.example.org. NS" && asked[key] == 1
		mu.Unlock()
		if first {
			// Held until the others joined, or until the query's own
			// timeout: then they did not join, and the count below
			// says so.
			select {
			case <-joinedAll:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return nx.Exchange(ctx, q, network, server)
	})
	// The held query waits for the whole query timeout (the floor of
	// the RTO, as labresolver.New sets it): an unknown server's 376 ms is
	// not always enough for five goroutines to join on a loaded machine.
	r, err := New(Config{Hints: hints, Port: lab.Port(), Exchanger: x, AllowLoopback: true, QueryTimeout: 2 * time.Second,
		InfraConfig: cache.InfraConfig{MinRTO: 2 * time.Second}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(r.Close)
	r.upFlights.onJoin = func(key string) {
		if !strings.Contains(key, " sub.example.org. ") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if joins++; joins == names-1 {
			close(joinedAll)
		}
	}
	var wg sync.WaitGroup
	got := make([]string, names)
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Resolve(t.Context(), fmt.Sprintf("h%d.sub.example.org.", i+1), dns.TypeA)
			if err != nil {
				got[i] = err.Error()
				return
			}
			got[i] = strings.Join(rrStrings(res.Answer), ",")
		}()
	}
	wg.Wait()
	for i, g := range got {
		if want := fmt.Sprintf("h%d.sub.example.org. 86400 IN A 192.0.2.%d", i+1, i+1); g != want {
			t.Errorf("h%d: got %q, want %q", i+1, g, want)
		}
	}
	if n := asked["sub.example.org. NS"]; n != 1 {
		t.Errorf("sub.example.org. NS sent %d times, want once", n)
	}
}

// startSharedLab starts sharedLabZones, with the zones named in signed
// signed, and returns it with its root hints.
func startSharedLab(t *testing.T, signed []string) (*resolvertest.Lab, *Hints) {
	t.Helper()
	h := resolvertest.Hierarchy{Zones: sharedLabZones, Signed: map[string]resolvertest.SignOptions{},
		Servers: []resolvertest.Host{
			{Name: "a.root.lab.", Addr: "127.54.0.1", Zones: []string{"."}},
			{Name: "ns1.nic.org.", Addr: "127.54.1.1", Zones: []string{"org."}},
			{Name: "ns1.example.org.", Addr: "127.54.3.1", Zones: []string{"example.org.", "sub.example.org."}},
			{Name: "ns2.example.org.", Addr: "127.54.3.2", Zones: []string{"example.org.", "sub.example.org."}},
		}}
	for _, origin := range signed {
		h.Signed[origin] = resolvertest.SignOptions{}
	}
	lab := h.Start(t, resolvertest.Config{})
	hints, err := ParseHints(strings.NewReader(lab.RootHints()), "lab")
	if err != nil {
		t.Fatalf("ParseHints: %v", err)
	}
	return lab, hints
}

// TestFinishedCutFlightHeld: an NS question that got its reply stays
// joinable until its sender settles it (has stored the referral): a second
// request asking it meanwhile takes that reply and sends nothing, and
// pendingCut still sees the cut; once settled, the question is sent
// afresh. Other questions, and NS questions that failed, leave the table
// with their reply as before.
func TestFinishedCutFlightHeld(t *testing.T) {
	tests := []struct {
		name     string
		qname    string
		qtype    uint16
		fail     bool
		wantHeld bool
	}{
		{"NS question answered", "example.org.", dns.TypeNS, false, true},
		{"NS question failed", "example.org.", dns.TypeNS, true, false},
		{"A question answered", "www.example.org.", dns.TypeA, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int32
			r := newFlightResolver(t, ExchangerFunc(func(_ context.Context, q *dns.Msg, _ string, _ netip.AddrPort) (*dns.Msg, error) {
				sent.Add(1)
				if tt.fail {
					return nil, fmt.Errorf("test: %w", ErrTimeout)
				}
				m := new(dns.Msg)
				m.SetReply(q)
				return m, nil
			}), Hardening{})
			zs := flightZone("org.", "192.0.2.1", "192.0.2.2")
			server := netip.MustParseAddrPort("192.0.2.1:53")
			askOnce := func(id uint16) (asked, error) {
				q := new(dns.Msg)
				q.SetQuestion(tt.qname, tt.qtype)
				q.Id = id
				rq := &request{r: r, class: dns.ClassINET}
				a, _, err := rq.ask(t.Context(), zs, server, nil, q, false, "udp", 5*time.Second)
				return a, err
			}
			first, err := askOnce(1)
			if (err != nil) != tt.fail {
				t.Fatalf("first ask: err %v, want failure %v", err, tt.fail)
			}
			if got := first.settle != nil; got != tt.wantHeld {
				t.Fatalf("first ask held the flight: %v, want %v", got, tt.wantHeld)
			}
			if got := r.upFlights.cutPending(zs, tt.qname); got != tt.wantHeld {
				t.Errorf("cutPending before settle = %v, want %v", got, tt.wantHeld)
			}
			second, err := askOnce(2)
			if (err != nil) != tt.fail {
				t.Fatalf("second ask: err %v, want failure %v", err, tt.fail)
			}
			want := struct{ Joined, Settle bool }{tt.wantHeld, false}
			if diff := cmp.Diff(want, struct{ Joined, Settle bool }{second.joined, second.settle != nil}); diff != "" {
				t.Errorf("second ask (-want +got):\n%s", diff)
			}
			if tt.wantHeld && second.m.Id != 2 {
				t.Errorf("the joiner's reply has ID %d, want its own 2", second.m.Id)
			}
			if second.settle != nil {
				second.settle()
			}
			if first.settle != nil {
				first.settle()
			}
			if r.upFlights.cutPending(zs, tt.qname) {
				t.Error("cutPending after settle = true, want false")
			}
			if _, err := askOnce(3); (err != nil) != tt.fail {
				t.Fatalf("third ask: err %v, want failure %v", err, tt.fail)
			}
			wantSent := int32(3)
			if tt.wantHeld {
				wantSent = 2 // the second ask joined the held flight
			}
			if got := sent.Load(); got != wantSent {
				t.Errorf("queries sent %d, want %d", got, wantSent)
			}
		})
	}
}
