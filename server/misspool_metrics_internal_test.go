package server

import (
	"bufio"
	"context"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// poolMetricLines returns the lines of m's /metrics page about the miss
// pool: its queue, its workers and the misses shed.
func poolMetricLines(t *testing.T, h *Handler, m *Metrics) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	DebugHandler(h, m).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var lines []string
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() { // bounded by the page, a few hundred lines
		l := sc.Text()
		for _, name := range []string{"addrwalk_miss_queue_length", "addrwalk_miss_workers", "addrwalk_misses_shed_total"} {
			if strings.HasPrefix(l, name+" ") || strings.HasPrefix(l, name+"{") {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// TestMissPoolMetrics: /metrics shows the misses waiting in the pool's
// queue, its busy and idle workers, and the misses shed by reason (full:
// no pending slot; backlog: too long in the socket's queue).
func TestMissPoolMetrics(t *testing.T) {
	res := &gateResolver{release: make(chan struct{}), arrived: make(chan string, 16)}
	m := NewMetrics()
	h, err := NewHandler(HandlerConfig{Settings: Settings{Resolver: res}, MaxInflight: 16, JostleTimeout: -1, Metrics: m})
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
	// The scheduler looks busy: with a worker on a miss, the others wait
	// in the queue.
	f := &fakeRunnable{}
	f.n.Store(1 << 20)
	s.misses.runnable, s.misses.runnableMaxAge = f.get, 0
	srv, cli, client := loopbackUDP(t)
	_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
	send := func(name string, since time.Time) (queued bool) {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		req, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		_, sent := s.udpQuery(srv, nil, req, client, since, time.Now())
		return !sent
	}

	// Arrived in the future: however slow the test, no waiting miss turns
	// late, which a worker would take whatever the rule.
	future := time.Now().Add(time.Hour)
	for i := range pendingPerSlot {
		if !send(string(rune('a'+i))+".slow.example.", future) {
			t.Fatalf("slow miss %d answered at once", i)
		}
	}
	<-res.arrived // the first runs; the others wait behind it
	if send("full.example.org.", time.Now()) {
		t.Fatal("a miss past the pending slots was queued")
	}
	if send("late.example.org.", time.Now().Add(-time.Hour)) {
		t.Fatal("a late miss was queued")
	}
	want := []string{
		`addrwalk_miss_queue_length 3`,
		`addrwalk_miss_workers{state="busy"} 1`,
		`addrwalk_miss_workers{state="idle"} 0`,
		`addrwalk_misses_shed_total{reason="backlog"} 1`,
		`addrwalk_misses_shed_total{reason="full"} 1`,
	}
	if diff := cmp.Diff(want, poolMetricLines(t, h, m)); diff != "" {
		t.Errorf("while misses wait (-want +got):\n%s", diff)
	}

	f.n.Store(0)
	close(res.release)
	buf := make([]byte, 4096)
	for range pendingPerSlot {
		if _, err := cli.Read(buf); err != nil {
			t.Fatalf("no reply from a worker: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil { // waits for every worker
		t.Fatalf("Shutdown: %v", err)
	}
	want = []string{
		`addrwalk_miss_queue_length 0`,
		`addrwalk_miss_workers{state="busy"} 0`,
		`addrwalk_miss_workers{state="idle"} 0`,
		`addrwalk_misses_shed_total{reason="backlog"} 1`,
		`addrwalk_misses_shed_total{reason="full"} 1`,
	}
	if diff := cmp.Diff(want, poolMetricLines(t, h, m)); diff != "" {
		t.Errorf("after Shutdown (-want +got):\n%s", diff)
	}

	// Idle workers, as the pool counts them between misses.
	s.misses.mu.Lock()
	s.misses.idle = []*missWorker{{}, {}}
	s.misses.mu.Unlock()
	if got := poolMetricLines(t, h, m)[2]; got != `addrwalk_miss_workers{state="idle"} 2` {
		t.Errorf("with two idle workers: %s", got)
	}
}
