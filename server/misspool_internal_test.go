package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// recordingRun is a pool's work that records each job's query (its req
// as text) as it starts, then waits until release is closed.
type recordingRun struct {
	mu      sync.Mutex // guards started
	started []string
	release chan struct{}
	begun   chan string // each job as it starts
	ran     chan string // each job once it is done
}

func newRecordingRun() *recordingRun {
	return &recordingRun{release: make(chan struct{}), begun: make(chan string, 64), ran: make(chan string, 64)}
}

func (r *recordingRun) run(w *missWorker) {
	name := string(w.job.req)
	r.mu.Lock()
	r.started = append(r.started, name)
	r.mu.Unlock()
	r.begun <- name
	<-r.release
	r.ran <- name
}

// waitRan reads n names from r.ran, failing the test after 10 s.
func (r *recordingRun) waitRan(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	for range n {
		select {
		case name := <-r.ran:
			got = append(got, name)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d jobs ran in 10 s: %v", len(got), n, got)
		}
	}
	return got
}

func submitNames(p *missPool, names ...string) []bool {
	var ok []bool
	for _, n := range names {
		ok = append(ok, p.submit(&missJob{req: []byte(n)}))
	}
	return ok
}

// fakeRunnable stands in for the scheduler's count of runnable
// goroutines.
type fakeRunnable struct{ n atomic.Int64 }

func (f *fakeRunnable) get() int { return int(f.n.Load()) }

// busyPool returns a pool whose scheduler looks busy (every miss queues
// unless no worker is on one) until f.n is set to 0.
func busyPool(maxQueue int, run func(*missWorker)) (*missPool, *fakeRunnable) {
	f := &fakeRunnable{}
	f.n.Store(1 << 20)
	p := newMissPool(maxQueue, run)
	p.runnable = f.get
	p.runnableMaxAge = 0 // every look reads f
	return p, f
}

// phantom adds d to the workers counted on a miss, as if d more were
// (d < 0: no longer) busy.
func (p *missPool) phantom(d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy += d
}

// kickNow is started's hand-off, for a test that changed the rule's input.
func (p *missPool) kickNow() { p.started() }

// TestMissPool: misses wait in arrival order, the queue refuses past its
// bound, a miss waits while the scheduler is busy unless no worker is on
// one, a finishing worker takes a late miss whatever the rule, workers
// exit after their idle timeout, and close ends idle workers at once
// while a miss submitted afterwards still runs.
func TestMissPool(t *testing.T) {
	t.Run("the queue is first in, first out as it wraps and grows", func(t *testing.T) {
		p, _ := busyPool(64, func(*missWorker) {})
		p.phantom(1) // every miss queues
		var names []string
		for i := range 50 {
			names = append(names, strconv.Itoa(i))
		}
		var got []string
		take := func(n int) {
			p.mu.Lock()
			defer p.mu.Unlock()
			var w missWorker
			for range n {
				if !p.takeLocked(&w) {
					t.Fatalf("queue empty after %d", len(got))
				}
				got = append(got, string(w.job.req))
			}
		}
		submitNames(p, names[:20]...) // grows 16 -> 32
		take(10)
		submitNames(p, names[20:]...) // wraps, then grows with head != 0
		take(40)
		if diff := cmp.Diff(names, got); diff != "" {
			t.Errorf("order taken (-want +got):\n%s", diff)
		}
	})
	t.Run("a batch queues in order; the refused rest is not taken", func(t *testing.T) {
		p, _ := busyPool(3, func(*missWorker) {})
		p.phantom(1) // every miss queues
		var js []missJob
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			js = append(js, missJob{req: []byte(n)})
		}
		if taken := p.submitAll(js); taken != 3 {
			t.Errorf("%d of 5 taken by a queue of 3, want 3", taken)
		}
		var got []string
		p.mu.Lock()
		var w missWorker
		for p.takeLocked(&w) { // bounded by the queue's 3
			got = append(got, string(w.job.req))
		}
		p.mu.Unlock()
		if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
	t.Run("queue bound while the scheduler is busy", func(t *testing.T) {
		r := newRecordingRun()
		p, f := busyPool(3, r.run)
		p.phantom(1)
		got := submitNames(p, "a", "b", "c", "d")
		if diff := cmp.Diff([]bool{true, true, true, false}, got); diff != "" {
			t.Errorf("accepted (-want +got):\n%s", diff)
		}
		f.n.Store(0)
		p.kickNow()
		close(r.release)
		ran := r.waitRan(t, 3)
		p.phantom(-1)
		p.close()
		p.wg.Wait()
		if diff := cmp.Diff([]string{"a", "b", "c"}, sorted(ran)); diff != "" {
			t.Errorf("ran (-want +got):\n%s", diff)
		}
		if p.n != 0 || p.busy != 0 || p.workers != 0 {
			t.Errorf("after the run: %d waiting, %d busy, %d workers; want none", p.n, p.busy, p.workers)
		}
	})
	t.Run("no worker on a miss: it starts however busy the scheduler", func(t *testing.T) {
		r := newRecordingRun()
		p, _ := busyPool(16, r.run)
		close(r.release)
		submitNames(p, "a")
		r.waitRan(t, 1)
		p.close()
		p.wg.Wait()
	})
	t.Run("a finishing worker takes a late miss whatever the rule", func(t *testing.T) {
		r := newRecordingRun()
		p, f := busyPool(16, r.run)
		submitNames(p, "a") // no worker busy: it starts
		<-r.begun
		p.phantom(1) // from here a finished worker is never the last busy
		old := time.Now().Add(-time.Hour)
		p.submit(&missJob{req: []byte("late"), since: old})
		p.submit(&missJob{req: []byte("b"), since: time.Now()})
		close(r.release)
		// The kick timer may hand the late one to a worker of its own.
		if diff := cmp.Diff([]string{"a", "late"}, sorted(r.waitRan(t, 2))); diff != "" {
			t.Errorf("ran while busy (-want +got):\n%s", diff)
		}
		// b stays queued until the scheduler has room.
		p.mu.Lock()
		waiting := p.n
		p.mu.Unlock()
		if waiting != 1 {
			t.Errorf("%d waiting, want b alone", waiting)
		}
		f.n.Store(0)
		p.kickNow()
		if got := r.waitRan(t, 1); got[0] != "b" {
			t.Errorf("ran %q, want b", got[0])
		}
		p.phantom(-1)
		p.close()
		p.wg.Wait()
	})
	t.Run("a batch of more hand-offs than wakeBatch starts every worker", func(t *testing.T) {
		// Past wakeBatch deferred wake-ups, a hand-off wakes its worker
		// at once, under the mutex (wakes.add): none may be lost.
		r := newRecordingRun()
		p := newMissPool(128, r.run)
		p.runnable, p.runnableMaxAge = func() int { return 0 }, 0
		p.maxRunnable = 1000 // the rule lets every miss go at once
		n := wakeBatch + 8
		js := make([]missJob, n)
		for i := range js {
			js[i].req = []byte(strconv.Itoa(i))
		}
		if taken := p.submitAll(js); taken != n {
			t.Fatalf("submitAll took %d of %d", taken, n)
		}
		close(r.release)
		if got := r.waitRan(t, n); len(got) != n {
			t.Errorf("%d jobs ran, want %d", len(got), n)
		}
		p.mu.Lock()
		if p.n != 0 || p.workers != n {
			t.Errorf("%d queued, %d workers; want 0 queued, %d workers (one per hand-off)", p.n, p.workers, n)
		}
		p.mu.Unlock()
		p.close()
		p.wg.Wait()
	})
	t.Run("idle workers exit", func(t *testing.T) {
		r := newRecordingRun()
		p := newMissPool(16, r.run)
		p.idleTimeout = time.Millisecond
		close(r.release)
		submitNames(p, "a", "b", "c")
		r.waitRan(t, 3)
		p.wg.Wait() // no close: they leave by themselves
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.workers != 0 || len(p.idle) != 0 || p.busy != 0 {
			t.Errorf("%d workers, %d idle, %d busy after the idle timeout; want none", p.workers, len(p.idle), p.busy)
		}
	})
	t.Run("a worker handed a miss as its idle timer fires runs it", func(t *testing.T) {
		r := newRecordingRun()
		p := newMissPool(16, r.run)
		p.idleTimeout = time.Millisecond
		close(r.release)
		submitNames(p, "a")
		r.waitRan(t, 1)
		// Bounded: the worker only has to get back to the idle list.
		for end := time.Now().Add(10 * time.Second); ; {
			p.mu.Lock()
			idle := len(p.idle)
			p.mu.Unlock()
			if idle == 1 {
				break
			}
			if time.Now().After(end) {
				t.Fatal("the worker did not go idle within 10 s")
			}
			runtime.Gosched()
		}
		var wk wakes
		p.mu.Lock()
		p.handLocked(&missJob{req: []byte("b")}, &wk)
		p.mu.Unlock()
		// Past the idle timeout before the token is sent: the worker's
		// timer fires while it is off the idle list but not yet woken.
		// (Were the timer late, the worker would take the token the
		// usual way and the test still pass.)
		time.Sleep(5 * p.idleTimeout)
		wk.run(p)
		if got := r.waitRan(t, 1); got[0] != "b" {
			t.Errorf("ran %q, want b", got[0])
		}
		p.wg.Wait() // then it times out for good
		if p.workers != 0 || p.busy != 0 {
			t.Errorf("%d workers, %d busy after all; want none", p.workers, p.busy)
		}
	})
	t.Run("close ends idle workers; later misses still run", func(t *testing.T) {
		r := newRecordingRun()
		p := newMissPool(16, r.run)
		p.idleTimeout = time.Hour
		close(r.release)
		submitNames(p, "a", "b")
		r.waitRan(t, 2)
		p.close()
		submitNames(p, "late")
		if got := r.waitRan(t, 1); got[0] != "late" {
			t.Errorf("ran %q after close, want late", got[0])
		}
		p.wg.Wait() // returns although the idle timeout is an hour
	})
	t.Run("requests are copied", func(t *testing.T) {
		r := newRecordingRun()
		p, f := busyPool(16, r.run)
		p.phantom(1) // queue it
		buf := []byte("first")
		p.submit(&missJob{req: buf})
		copy(buf, "XXXXX") // the reader reuses its buffer
		f.n.Store(0)
		p.kickNow()
		close(r.release)
		if got := r.waitRan(t, 1); got[0] != "first" {
			t.Errorf("ran %q, want first", got[0])
		}
		p.phantom(-1)
		p.close()
		p.wg.Wait()
	})
}

// TestRunnableNow: the scheduler's count is read again only once the
// last read is runnableMaxAge old, and a caller that finds a read in
// progress takes the last count instead of waiting.
func TestRunnableNow(t *testing.T) {
	type step struct {
		after   time.Duration // the fake clock moves this much first
		reading bool          // another goroutine is reading the count
		set     int           // the scheduler's count from here on
		want    int           // runnableNow's answer
		handed  int           // misses handed to workers just before
	}
	tests := []struct {
		name   string
		maxAge time.Duration
		steps  []step
		reads  int // how many times the count was read
	}{
		{name: "a young count is reused", maxAge: runnableMaxAge, steps: []step{
			{set: 3, want: 3},
			{after: runnableMaxAge / 2, set: 5, want: 3},
			{after: runnableMaxAge / 2, want: 5},
			{after: runnableMaxAge - 1, set: 1, want: 5},
			{after: 1, want: 1},
		}, reads: 3},
		{name: "a read in progress is not waited for", maxAge: runnableMaxAge, steps: []step{
			{set: 2, want: 2},
			{after: time.Hour, reading: true, set: 7, want: 2},
			{want: 7},
		}, reads: 2},
		{name: "misses handed since the read count as runnable", maxAge: runnableMaxAge, steps: []step{
			{set: 1, want: 1},
			{handed: 2, want: 3},
			{after: runnableMaxAge, set: 2, want: 2}, // a new read shows them itself
		}, reads: 2},
		{name: "max age 0 reads every time", maxAge: 0, steps: []step{
			{set: 1, want: 1},
			{set: 2, want: 2},
			{want: 2},
		}, reads: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newMissPool(16, func(*missWorker) {})
			now := p.epoch
			p.now = func() time.Time { return now }
			p.runnableMaxAge = tt.maxAge
			count, reads := 0, 0
			p.runnable = func() int { reads++; return count }
			var got, want []int
			for _, st := range tt.steps {
				now = now.Add(st.after)
				if st.set != 0 {
					count = st.set
				}
				if st.reading {
					p.sampling.Lock()
				}
				p.handedSince.Add(int64(st.handed))
				got = append(got, p.runnableNow())
				want = append(want, st.want)
				if st.reading {
					p.sampling.Unlock()
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if reads != tt.reads {
				t.Errorf("read the count %d times, want %d", reads, tt.reads)
			}
		})
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// gateResolver answers every name with 192.0.2.1, but holds a resolution
// of a name under "slow.example." until release is closed; from its
// cache alone (CacheOnly) it has only "cached.example.org.". arrived
// receives each slow name as its resolution starts.
type gateResolver struct {
	release chan struct{}
	arrived chan string
}

func (r *gateResolver) Query(ctx context.Context, req resolver.Request) (*resolver.Result, error) {
	if req.CacheOnly && req.Name != "cached.example.org." {
		return nil, errors.New("not in the cache")
	}
	if !req.CacheOnly && strings.HasSuffix(req.Name, ".slow.example.") {
		r.arrived <- req.Name
		select {
		case <-r.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a, err := dns.NewRR(req.Name + " 300 IN A 192.0.2.1")
	if err != nil {
		return nil, err
	}
	return &resolver.Result{Name: req.Name, Type: req.Type, Class: req.Class, Answer: []dns.RR{a}}, nil
}

// TestHitsWhileMissesHoldEveryWorker: while resolutions hold every
// pending slot (and so every miss worker), a packet-cache hit and a name
// in the resolver's cache are still answered at once by the reader, and
// a new miss gets the overload SERVFAIL; once the resolutions end, each
// held miss gets its answer, and Shutdown leaves no worker behind.
func TestHitsWhileMissesHoldEveryWorker(t *testing.T) {
	res := &gateResolver{release: make(chan struct{}), arrived: make(chan string, 16)}
	h, err := NewHandler(HandlerConfig{Settings: Settings{Resolver: res}, MaxInflight: 16, JostleTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	// One resolution slot's worth of pending slots: pendingPerSlot.
	s, err := New(Config{Handler: h, MaxInflight: 1, MaxPendingPerClient: pendingPerSlot,
		Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}})
	if err != nil {
		t.Fatal(err)
	}
	srv, cli, client := loopbackUDP(t)
	_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))

	send := func(name string) (reply *dns.Msg, queued bool) {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.SetEdns0(1232, false)
		req, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		out, sent := s.udpQuery(srv, nil, req, client, now, now)
		if !sent {
			return nil, true
		}
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m, false
	}
	readReply := func() *dns.Msg {
		t.Helper()
		buf := make([]byte, 4096)
		n, err := cli.Read(buf)
		if err != nil {
			t.Fatalf("no reply from a worker: %v", err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:n]); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// Warm the packet cache (not through the pool: its slot would be
	// freed only after the reply is sent).
	wq := new(dns.Msg)
	wq.SetQuestion("hit.example.org.", dns.TypeA)
	wreq, err := wq.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Handle(t.Context(), wreq, client, TransportUDP); !ok {
		t.Fatal("warming: dropped")
	}
	// Hold every pending slot with slow resolutions.
	var slow []string
	for i := range pendingPerSlot {
		name := string(rune('a'+i)) + ".slow.example."
		if _, queued := send(name); !queued {
			t.Fatalf("%s: answered at once, want it resolved", name)
		}
		slow = append(slow, name)
	}
	for range slow {
		<-res.arrived // every worker is inside a resolution
	}

	tests := []struct {
		name      string
		qname     string
		wantRcode int
		wantEDE   string
	}{
		{"packet-cache hit", "hit.example.org.", dns.RcodeSuccess, ""},
		{"in the resolver's cache", "cached.example.org.", dns.RcodeSuccess, ""},
		{"a new miss", "new.example.org.", dns.RcodeServerFailure, overloadText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, queued := send(tt.qname)
			if queued {
				t.Fatal("handed to a worker, want an answer at once")
			}
			e := replyEDEText(m)
			if m.Rcode != tt.wantRcode || e != tt.wantEDE {
				t.Errorf("rcode %s EDE %q, want %s %q", dns.RcodeToString[m.Rcode], e, dns.RcodeToString[tt.wantRcode], tt.wantEDE)
			}
		})
	}

	close(res.release)
	var got []string
	for range slow {
		m := readReply()
		if m.Rcode != dns.RcodeSuccess {
			t.Errorf("%s: %s, want NOERROR", m.Question[0].Name, dns.RcodeToString[m.Rcode])
		}
		got = append(got, m.Question[0].Name)
	}
	if diff := cmp.Diff(slow, sorted(got)); diff != "" {
		t.Errorf("held misses answered (-want +got):\n%s", diff)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	s.misses.mu.Lock()
	defer s.misses.mu.Unlock()
	if s.misses.workers != 0 || len(s.misses.idle) != 0 {
		t.Errorf("after Shutdown: %d workers, %d idle; want none", s.misses.workers, len(s.misses.idle))
	}
}

// loopbackUDP opens two UDP sockets on 127.0.0.1, closed with the test:
// the server's (a resolution's reply goes out on it) and the client's,
// where that reply arrives, and returns the client's address.
func loopbackUDP(t *testing.T) (srv, cli *net.UDPConn, client netip.AddrPort) {
	t.Helper()
	open := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	srv, cli = open(), open()
	return srv, cli, cli.LocalAddr().(*net.UDPAddr).AddrPort()
}

// replyEDEText is the text of m's Extended DNS Error, "" when it has none.
func replyEDEText(m *dns.Msg) string {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if x, ok := o.(*dns.EDNS0_EDE); ok {
				return x.ExtraText
			}
		}
	}
	return ""
}
