package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// syncBuffer is a log destination safe for the resolving goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// traceSummary is what a test compares of a recorded resolution.
type traceSummary struct {
	Seq                     uint64
	Name, Client, Transport string
	Rcode                   int
	Traced                  bool // the walk was recorded
}

func summarize(ts []*server.WatchedTrace) []traceSummary {
	var out []traceSummary
	for _, t := range ts {
		s := traceSummary{Seq: t.Seq, Name: t.Name, Client: t.Client, Transport: t.Transport, Rcode: -1}
		if t.Result != nil {
			s.Rcode, s.Traced = t.Result.Rcode, t.Result.Trace != nil && len(t.Result.Trace.Steps) > 0
		}
		out = append(out, s)
	}
	return out
}

// TestTraceWatch turns tracing of a name on at runtime and checks that
// only its resolutions are recorded (packet-cache hits included: a
// watched name skips the packet cache), that the watch ends after its
// count and after its time, and the bounds on names and the count.
func TestTraceWatch(t *testing.T) {
	lab := startLab(t)
	clock := newFakeClock()
	var logs syncBuffer
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Now = clock.Now
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ask := func(name string) {
		t.Helper()
		if r := handle(t, h, "127.0.0.1:5300", pack(t, question(name, dns.TypeA))); r.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s: %s", name, dns.RcodeToString[r.Rcode])
		}
	}
	rec := func(seq uint64) traceSummary {
		return traceSummary{Seq: seq, Name: "www.example.org.", Client: "127.0.0.1", Transport: "udp", Rcode: dns.RcodeSuccess, Traced: true}
	}

	ask("www.example.org.") // now in the packet cache, and not traced
	tw, err := h.TraceOn("WWW.Example.org", 2, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(server.TraceWatch{Name: "www.example.org.", Left: 2, Until: clock.Now().Add(5 * time.Minute)}, tw); diff != "" {
		t.Errorf("TraceOn (-want +got):\n%s", diff)
	}
	ask("www.example.org.")
	ask("alias.example.org.") // not watched
	ask("www.example.org.")
	ask("www.example.org.") // the count is reached: not recorded
	if diff := cmp.Diff([]traceSummary{rec(1), rec(2)}, summarize(h.WatchedTraces(""))); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
	if got := h.TraceWatches(); len(got) != 0 {
		t.Errorf("watch still on after its count: %+v", got)
	}
	for _, want := range []string{"trace-on name=www.example.org.", "trace: resolution recorded", `msg="trace-off: count reached" name=www.example.org. recorded=2`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}

	t.Run("defaults and expiry", func(t *testing.T) {
		tw, err := h.TraceOn("www.example.org", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := server.TraceWatch{Name: "www.example.org.", Left: server.DefaultTraceCount, Until: clock.Now().Add(server.DefaultTraceFor)}
		if diff := cmp.Diff(want, tw); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		clock.Advance(server.DefaultTraceFor)
		ask("www.example.org.")
		if got := h.TraceWatches(); len(got) != 0 {
			t.Errorf("watch on after its time: %+v", got)
		}
		if n := len(h.WatchedTraces("www.example.org")); n != 2 {
			t.Errorf("%d traces after the watch expired, want still 2", n)
		}
		if !strings.Contains(logs.String(), "trace-off: expired") {
			t.Errorf("expiry not logged")
		}
	})

	t.Run("limits", func(t *testing.T) {
		tw, err := h.TraceOn("www.example.org", 1000, 5*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if tw.Left != server.MaxTraceCount || !tw.Until.Equal(clock.Now().Add(server.MaxTraceFor)) {
			t.Errorf("not clamped: %+v", tw)
		}
		for i := 1; i < server.MaxTraceNames; i++ {
			if _, err := h.TraceOn(fmt.Sprintf("n%d.example.org", i), 1, time.Minute); err != nil {
				t.Fatalf("name %d: %v", i, err)
			}
		}
		if _, err := h.TraceOn("one-too-many.example.org", 1, time.Minute); !errors.Is(err, server.ErrTraceLimit) {
			t.Errorf("name %d: %v, want ErrTraceLimit", server.MaxTraceNames+1, err)
		}
		if _, err := h.TraceOn("www.example.org", 1000, time.Minute); err != nil {
			t.Errorf("watching a watched name again: %v", err)
		}
		if _, err := h.TraceOn("a..b", 1, time.Minute); err == nil {
			t.Error("a bad name was accepted")
		}
		// More resolutions than are kept: the oldest go. 70 is above
		// the 64 kept and below the 100 the watch records.
		for range 70 {
			ask("www.example.org.")
		}
		kept := h.WatchedTraces("www.example.org.")
		if len(kept) != 64 || kept[0].Seq != 2+70-64+1 || kept[63].Seq != 2+70 {
			t.Errorf("kept %d traces, seq %d..%d; want the last 64 (7..72)", len(kept), kept[0].Seq, kept[len(kept)-1].Seq)
		}
		if got := h.TraceOff("n1.example.org"); len(got) != 1 || got[0].Name != "n1.example.org." {
			t.Errorf("TraceOff(n1) = %+v", got)
		}
		if got := h.TraceOff(""); len(got) != server.MaxTraceNames-1 {
			t.Errorf("TraceOff(all) ended %d watches, want %d", len(got), server.MaxTraceNames-1)
		}
		if got := h.TraceWatches(); len(got) != 0 {
			t.Errorf("watches after TraceOff(all): %+v", got)
		}
	})
}
