package resolver

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Identical questions in flight to the same zone are sent once: when
// several requests walk the same cuts at the same time (a cold cache under
// load: twenty names under test. all ask the root for test. NS; two
// resolutions needing the same DNSKEY), the first sends the query to the
// server it chose and the others wait for its reply, whichever server of
// the zone they would have chosen themselves, as PowerDNS Recursor does.
// Measured with bench/peers.sh (simcount's "dup" and "reask" classes),
// this is the class of upstream query where addrwalk sent the most beyond
// PowerDNS: first one question to the same server, then the same
// question to the zone's other servers.
//
// A joiner takes a reply only from a server it could have asked itself:
// one of its own zone cut's usable addresses, not one it found lame or
// failing in this request (mayJoin). With client cookies on, each
// server's cookie is part of the query, so questions are shared per
// server only.
//
// An NS question that got a reply stays in the table after its reply
// arrived, until its sender has stored what it learned (settle): a walk
// looking for the cut meanwhile (pendingCut) joins the finished flight
// and takes its reply, instead of finding neither the flight nor the
// cached referral and asking again.

// flightKey names a question to a zone: transport, the zone (and whether
// its servers are configured ones), the name without regard to case (0x20
// gives each request its own pattern), type, class, whether the case was
// randomised, and the flags that change the reply (RD, EDNS, DO). With
// perServer, the server's address is part of it.
func flightKey(q *dns.Msg, caps bool, network string, zs *zoneServers, server netip.AddrPort, perServer bool) string {
	qq := q.Question[0]
	// Built on the stack, so the key's string is its one allocation.
	var buf [flightKeyRoom]byte
	b := buf[:0]
	b = append(b, network...)
	b = append(b, ' ')
	b = append(b, zs.zone...)
	if zs.trusted {
		b = append(b, " trusted"...)
	}
	if perServer {
		b = append(b, ' ')
		b = server.AppendTo(b)
	}
	b = append(b, ' ')
	b = append(b, strings.ToLower(qq.Name)...)
	b = strconv.AppendUint(append(b, ' '), uint64(qq.Qtype), 10)
	b = strconv.AppendUint(append(b, ' '), uint64(qq.Qclass), 10)
	if caps {
		b = append(b, " 0x20"...)
	}
	if q.RecursionDesired {
		b = append(b, " rd"...)
	}
	if opt := q.IsEdns0(); opt != nil {
		b = append(b, " edns"...)
		if opt.Do() {
			b = append(b, " do"...)
		}
	}
	return string(b)
}

// flightKeyRoom is the stack buffer flightKey builds a key in: two names
// of 255 octets in presentation form without escapes (the question and
// the zone), an IPv6 address and port, the words and numbers. A longer
// key (a name full of escapes) grows it on the heap.
const flightKeyRoom = 2*255 + 128

// inflight is the table of questions in flight upstream, by flightKey.
type inflight struct {
	mu    sync.Mutex // guards calls, cuts and every call's joiners
	calls map[string]*flightCall
	// cuts counts the registered NS questions in flight by cutKey: a
	// request about to ask the same zone about a name under one of them
	// asks that NS question instead and shares its reply (pendingCut).
	cuts map[string]int
	// onJoin, when set (tests), is called with the key of every join,
	// with mu held: a readiness signal that a caller waits on a flight.
	onJoin func(key string)
}

// flightCall is one query sent for one or more requests.
type flightCall struct {
	server netip.AddrPort // where the sender sent it
	sent   string         // the name exactly as sent (its 0x20 pattern)
	cut    string         // cutKey of an NS question, counted in inflight.cuts
	// held: a cut's question (cut set) that got a reply stays in the
	// table until its sender settles it, so callers may join it after
	// done is closed; every caller then takes a copy of m.
	held    bool
	joiners int // callers besides the sender (under inflight.mu)
	// done is closed when m and err are set: made for the first joiner
	// (joined), since only joiners wait on it (the sender runs the
	// query itself): a flood of distinct questions has none, and a
	// channel each was one more allocation per cache miss (#11).
	// finished records that m and err are set, for a joiner of a held
	// call. Both under inflight.mu.
	done     chan struct{}
	finished bool
	m        *dns.Msg
	err      error
}

// find returns the call in flight for key when the caller may take a
// reply from its server, or nil.
func (f *inflight) find(key string, mayJoin func(netip.AddrPort) bool) *flightCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls[key]
	if c == nil || !mayJoin(c.server) {
		return nil
	}
	f.joined(key, c)
	return c
}

// joined counts a caller joining c, and makes c.done for it (mu held).
func (f *inflight) joined(key string, c *flightCall) {
	if c.done == nil {
		c.done = make(chan struct{})
		if c.finished {
			close(c.done)
		}
	}
	c.joiners++
	if f.onJoin != nil {
		f.onJoin(key)
	}
}

// start registers a call to server under key, or joins the one another
// caller registered meanwhile (joined true). A call already there whose
// server the caller may not use is left alone: the caller's is sent
// unregistered.
func (f *inflight) start(key, cut string, server netip.AddrPort, sent string, mayJoin func(netip.AddrPort) bool) (c *flightCall, joined bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.calls[key]; c != nil {
		if mayJoin(c.server) {
			f.joined(key, c)
			return c, true
		}
		return &flightCall{server: server, sent: sent}, false
	}
	if f.calls == nil {
		f.calls = make(map[string]*flightCall)
	}
	c = &flightCall{server: server, sent: sent, cut: cut}
	f.calls[key] = c
	if cut != "" {
		if f.cuts == nil {
			f.cuts = make(map[string]int)
		}
		f.cuts[cut]++
	}
	return c, false
}

// remove deletes c from the table if it is still there (mu held).
func (f *inflight) remove(key string, c *flightCall) {
	if f.calls[key] != c {
		return
	}
	delete(f.calls, key)
	if c.cut != "" {
		if f.cuts[c.cut]--; f.cuts[c.cut] <= 0 {
			delete(f.cuts, c.cut)
		}
	}
}

// cutKey names an NS question to a zone for inflight.cuts: the zone,
// whether its servers are configured ones, and the name without regard
// to case.
func cutKey(zs *zoneServers, name string) string {
	k := zs.zone + " " + strings.ToLower(name)
	if zs.trusted {
		k += " trusted"
	}
	return k
}

// cutPending reports whether an NS question for name to zs is in flight.
func (f *inflight) cutPending(zs *zoneServers, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts[cutKey(zs, name)] > 0
}

// finish records the outcome of c and wakes its callers. A cut's
// question that got a reply stays joinable until its sender settles it
// (held); any other call leaves the table, and its joiners count is
// final.
func (f *inflight) finish(key string, c *flightCall, m *dns.Msg, err error) {
	f.mu.Lock()
	c.m, c.err, c.finished = m, err, true
	if c.cut != "" && err == nil && f.calls[key] == c {
		c.held = true
	} else {
		f.remove(key, c)
	}
	done := c.done
	f.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// settle removes c from the table once its sender stored what the reply
// taught (a held call), if it is still there.
func (f *inflight) settle(key string, c *flightCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remove(key, c)
}

// forget removes c from the table, if it is still there: a caller that
// gave up on it sends its retry afresh rather than joining a flight about
// to time out.
func (f *inflight) forget(key string, c *flightCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remove(key, c)
}

// asked is what ask did: the reply, the server it came from, and whether
// it was another request's query (joined) rather than one this request
// sent. settle, when set, must be called once the reply's referral or
// answer is stored (or dropped): until then the sender's NS question
// stays joinable (inflight.finish).
type asked struct {
	m      *dns.Msg
	from   netip.AddrPort
	joined bool
	settle func()
}

// ask sends q to server, or joins the identical question in flight to
// another server of zs that this request could use too (mayAsk) and has
// not had an outcome from yet (avoid, by address; nil for none). A query
// it sends takes a slot of the upstream caps (acquire) for as long as it
// is in flight; a joined one takes none. Every caller gets a reply of its
// own (a copy, with its own query's ID: the Exchanger checked the ID of
// the query it sent) to classify and change as it likes. With 0x20 (caps)
// a joiner's copy carries the joiner's own case only when the reply
// echoed the sender's case exactly, so the caller's case check means for
// a joiner what it means for the sender: a reply that fails it there
// fails it everywhere. The query runs on the sender's goroutine (send),
// under timeout or until the sender's ctx ends; each joiner stops
// waiting when its own ctx ends. A sender that gives up before the reply
// ends the query for its joiners too: they send their own (one more
// ask, which joins nothing). busy is set when the caps allowed no query
// (nothing was sent).
func (rq *request) ask(ctx context.Context, zs *zoneServers, server netip.AddrPort, avoid addrSet, q *dns.Msg, caps bool, network string, timeout time.Duration) (a asked, busy, err error) {
	a, busy, err = rq.askFlight(ctx, zs, server, avoid, q, caps, network, timeout, true)
	if errors.Is(err, errFlightAbandoned) {
		if ctx.Err() != nil {
			// This request ended too: its own reason, not the sender's.
			return a, busy, ctx.Err()
		}
		a, busy, err = rq.askFlight(ctx, zs, server, avoid, q, caps, network, timeout, false)
	}
	return a, busy, err
}

// errFlightAbandoned is what the joiners of a query get when its sender
// gave up before the reply (its request ended, or it panicked): the
// server did not fail, so each joiner asks again itself.
var errFlightAbandoned = errors.New("resolver: the request that sent the shared query gave up on it")

// askFlight is ask, joining a flight only when join is set.
func (rq *request) askFlight(ctx context.Context, zs *zoneServers, server netip.AddrPort, avoid addrSet, q *dns.Msg, caps bool, network string, timeout time.Duration, join bool) (a asked, busy, err error) {
	r := rq.r
	key := flightKey(q, caps, network, zs, server, r.up.h.Cookies)
	mayJoin := func(ap netip.AddrPort) bool {
		return join && (ap == server || !avoid.has(ap.Addr()) && rq.mayAsk(zs, ap))
	}
	var c *flightCall
	if join {
		c = r.upFlights.find(key, mayJoin)
	}
	joined := c != nil
	if !joined {
		release, lerr := r.up.acquire(zs.zone, server)
		if lerr != nil {
			return asked{}, lerr, nil
		}
		cut := ""
		if q.Question[0].Qtype == dns.TypeNS && !r.up.h.Cookies {
			cut = cutKey(zs, q.Question[0].Name)
		}
		if c, joined = r.upFlights.start(key, cut, server, q.Question[0].Name, mayJoin); !joined {
			a, err := rq.send(ctx, key, c, release, q, network, server, timeout)
			return a, nil, err
		}
		release()
	}
	m, gaveUp, err := awaitFlight(ctx, rq.waitTimer(timeout), &r.upFlights, c, q, joined)
	if gaveUp {
		r.upFlights.forget(key, c)
	}
	return asked{m: m, from: c.server, joined: joined}, nil, err
}

// send sends q for the flight c (registered under key, holding the
// upstream slot release gives back) on the caller's goroutine, and hands
// the outcome to the requests that joined it. A goroutine per query
// instead, so that a sender giving up left the query running for its
// joiners, was a fresh stack grown through the exchange, and a second
// wake-up, for every cache miss (#11); joiners are rare (identical
// questions in flight together), and ask again when the sender gives up
// (errFlightAbandoned).
func (rq *request) send(ctx context.Context, key string, c *flightCall, release func(), q *dns.Msg, network string, server netip.AddrPort, timeout time.Duration) (asked, error) {
	r := rq.r
	ended := false
	defer func() {
		if !ended {
			// The exchange panicked: its joiners ask again, and the
			// panic goes on up to the server's recover.
			release()
			r.upFlights.finish(key, c, nil, errFlightAbandoned)
		}
	}()
	m, err := r.exchange(ctx, timeout, q, network, server)
	ended = true
	release()
	if err != nil && ctx.Err() != nil {
		// Given up, or cut short by the request's deadline: not the
		// server's failure, for the joiners nor for this request.
		r.upFlights.finish(key, c, nil, errFlightAbandoned)
		return asked{from: server}, ctx.Err()
	}
	r.upFlights.finish(key, c, m, err)
	m, err = flightResult(&r.upFlights, c, q, false)
	a := asked{m: m, from: server}
	if c.cut != "" && err == nil {
		a.settle = func() { r.upFlights.settle(key, c) }
	}
	return a, err
}

// exchange sends q to server through the Exchanger, waiting at most
// timeout for the reply. The default NetExchanger is given the deadline
// itself (NetExchanger.exchange); another Exchanger a context with it.
func (r *Resolver) exchange(ctx context.Context, timeout time.Duration, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
	if nx, ok := r.cfg.Exchanger.(*NetExchanger); ok {
		return nx.exchange(ctx, time.Now().Add(timeout), q, network, server)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return r.cfg.Exchanger.Exchange(ctx, q, network, server)
}

// waitTimer returns rq's timer set to fire after d: the wait for one
// upstream reply. A context.WithTimeout per query instead was some 15 %
// of the bytes a cold resolution allocated.
func (rq *request) waitTimer(d time.Duration) *time.Timer {
	if rq.wait == nil {
		rq.wait = time.NewTimer(d)
	} else {
		rq.wait.Reset(d)
	}
	return rq.wait
}

// lastLookGrace is how long a caller whose wait for a reply ended waits
// more for the flight's own end: lastLookWait for the exchange's last look,
// plus 4 ms for its goroutine, made runnable by the same stall, to run
// (on a loaded 2-core machine a runnable goroutine waits milliseconds).
// Measured through Resolve with NetExchanger, a server in another
// process answering in 5 ms, 30 ms query timeouts and an 80 ms SIGSTOP of
// the resolver's process per question: of 50 questions, 1-14 were asked
// again over UDP (8 runs) and 3-12 over TCP (6 runs) before; with the
// TCP look alone still 2-6 (the look had taken the reply, the caller had
// given up); with this grace 0 over UDP (6 runs) and 0-1 over TCP (6
// runs; the 1 a connect that timed out). A real timeout costs about
// lastLookWait more: the exchange ends that long after its deadline.
const lastLookGrace = lastLookWait + 4*time.Millisecond

// awaitFlight waits for c's reply, for ctx to end or for wait to fire,
// and returns the caller's own copy when the reply is shared. gaveUp is
// set when the caller stopped waiting before the reply came: the error
// is then ctx's, or context.DeadlineExceeded for wait. wait is stopped
// on return.
func awaitFlight(ctx context.Context, wait *time.Timer, f *inflight, c *flightCall, q *dns.Msg, joined bool) (m *dns.Msg, gaveUp bool, err error) {
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return nil, true, ctx.Err()
	case <-wait.C:
		// The flight's exchange has a deadline of its own, as long,
		// set a moment before or after this wait. When both pass
		// together, as after a stall of the process, the exchange
		// takes a last look for a reply that arrived in time
		// (transport.go: lookAgain): wait lastLookGrace for it, or
		// the reply it takes is dropped and the question asked again.
		wait.Reset(lastLookGrace)
		select {
		case <-ctx.Done():
			return nil, true, ctx.Err()
		case <-wait.C:
			return nil, true, context.DeadlineExceeded
		case <-c.done:
		}
	case <-c.done:
	}
	m, err = flightResult(f, c, q, joined)
	return m, false, err
}

// flightResult is the outcome of the finished flight c for a caller
// with query q: its error, or the reply, the caller's own copy when the
// reply is shared (joined: the caller joined it; or it has joiners).
func flightResult(f *inflight, c *flightCall, q *dns.Msg, joined bool) (*dns.Msg, error) {
	if c.err != nil {
		return nil, c.err
	}
	f.mu.Lock()
	shared := c.joiners > 0 || c.held
	f.mu.Unlock()
	m := c.m
	if joined || shared {
		m = m.Copy()
		m.Id = q.Id
		if len(m.Question) == 1 && m.Question[0].Name == c.sent {
			m.Question[0].Name = q.Question[0].Name
		}
	}
	return m, nil
}

// mayAsk reports whether this request could send a question for zs to
// ap itself: ap is a usable address of one of zs's name servers, on that
// server's port, and not one that failed for zs in this request.
func (rq *request) mayAsk(zs *zoneServers, ap netip.AddrPort) bool {
	if rq.bad[badKey(zs.zone, ap.Addr())] != "" {
		return false
	}
	return rq.nsFor(zs, ap) != nil
}

// nsFor returns the name server of zs that ap is an address of, or nil.
func (rq *request) nsFor(zs *zoneServers, ap netip.AddrPort) *nsEntry {
	for _, e := range zs.ns {
		port := rq.r.cfg.Port
		if e.port != 0 {
			port = e.port
		}
		if port != ap.Port() {
			continue
		}
		ok, _ := rq.usable(zs, e)
		for _, a := range ok {
			if a == ap.Addr() {
				return e
			}
		}
	}
	return nil
}
