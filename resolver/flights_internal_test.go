package resolver

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// waitJoined waits until n callers have joined the flight of key. The
// loop yields to the joining goroutines; 10 s bounds it on a machine
// loaded by other tests (it ends in microseconds when idle).
func waitJoined(t *testing.T, f *flights, key string, n int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); runtime.Gosched() {
		f.mu.Lock()
		c := f.m[key]
		joined := c != nil && c.joined >= n
		f.mu.Unlock()
		if joined {
			return
		}
	}
	t.Fatalf("%d callers did not join %q within 10 s", n, key)
}

// TestFlights checks how identical Query calls share one resolution run
// on the first caller's goroutine.
func TestFlights(t *testing.T) {
	type outcome struct {
		Name   string // the Result's name, "" for none
		Err    string
		Shared bool
	}
	errCancelled := errors.New("the first caller gave up")
	tests := []struct {
		name string
		// joiners join the first caller's flight; cancelJoiner ends the
		// first joiner's context while it waits; cancelLeader ends the
		// first caller's, making its run fail (the cancelled flag).
		joiners                    int
		cancelJoiner, cancelLeader bool
		wantRuns                   int32
		wantLeader                 outcome
		wantJoiner                 outcome
	}{
		{name: "alone", wantRuns: 1, wantLeader: outcome{Name: "run1"}},
		{name: "joined", joiners: 2, wantRuns: 1,
			wantLeader: outcome{Name: "run1", Shared: true}, wantJoiner: outcome{Name: "run1", Shared: true}},
		{name: "joiner gives up", joiners: 1, cancelJoiner: true, wantRuns: 1,
			wantLeader: outcome{Name: "run1", Shared: true}, wantJoiner: outcome{Err: context.Canceled.Error(), Shared: true}},
		{name: "first caller gives up: the joiner asks again", joiners: 1, cancelLeader: true, wantRuns: 2,
			wantLeader: outcome{Name: "run1", Err: errCancelled.Error(), Shared: true}, wantJoiner: outcome{Name: "run2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f flights
			var runs atomic.Int32
			leaderCtx, cancelLeader := context.WithCancel(t.Context())
			defer cancelLeader()
			joinerCtx, cancelJoiner := context.WithCancel(t.Context())
			defer cancelJoiner()
			release := make(chan struct{})
			fn := func(ctx context.Context) func() (*Result, error) {
				return func() (*Result, error) {
					n := runs.Add(1)
					res := &Result{Name: "run" + string(rune('0'+n))}
					if n == 1 {
						<-release
						if ctx.Err() != nil {
							return res, errCancelled
						}
					}
					return res, nil
				}
			}
			var wg sync.WaitGroup
			joined := make([]outcome, tt.joiners)
			var leader outcome
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err, shared := f.do(leaderCtx, "k", fn(leaderCtx))
				leader = toOutcome(res, err, shared)
			}()
			// The leader is in its run once the flight exists.
			waitFlight(t, &f, "k")
			for i := range tt.joiners {
				ctx := t.Context()
				if i == 0 {
					ctx = joinerCtx
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err, shared := f.do(ctx, "k", fn(ctx))
					joined[i] = toOutcome(res, err, shared)
				}()
			}
			waitJoined(t, &f, "k", tt.joiners)
			if tt.cancelJoiner {
				cancelJoiner()
			}
			if tt.cancelLeader {
				cancelLeader()
			}
			close(release)
			wg.Wait()
			if diff := cmp.Diff(tt.wantRuns, runs.Load()); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLeader, leader); diff != "" {
				t.Errorf("first caller (-want +got):\n%s", diff)
			}
			if tt.joiners > 0 {
				if diff := cmp.Diff(tt.wantJoiner, joined[0]); diff != "" {
					t.Errorf("first joiner (-want +got):\n%s", diff)
				}
			}
			if len(f.m) != 0 {
				t.Errorf("%d flights left after all ended", len(f.m))
			}
		})
	}
}

// waitFlight waits until a flight for key runs (bounded as waitJoined).
func waitFlight(t *testing.T, f *flights, key string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); runtime.Gosched() {
		f.mu.Lock()
		_, ok := f.m[key]
		f.mu.Unlock()
		if ok {
			return
		}
	}
	t.Fatalf("no flight for %q within 10 s", key)
}

func toOutcome(res *Result, err error, shared bool) (o struct {
	Name   string
	Err    string
	Shared bool
}) {
	if res != nil {
		o.Name = res.Name
	}
	if err != nil {
		o.Err = err.Error()
	}
	o.Shared = shared
	return o
}

// TestFlightPanic checks that a resolution that panics ends its flight:
// the panic goes on up the first caller's goroutine, the joiner gets
// errFlightPanicked, and the next caller of the key runs anew instead of
// joining a flight that never ends.
func TestFlightPanic(t *testing.T) {
	var f flights
	release := make(chan struct{})
	leaderPanic := make(chan any, 1)
	go func() {
		defer func() { leaderPanic <- recover() }()
		f.do(t.Context(), "k", func() (*Result, error) {
			<-release
			panic("boom")
		})
	}()
	waitFlight(t, &f, "k")
	joiner := make(chan outcomeErr, 1)
	go func() {
		res, err, shared := f.do(t.Context(), "k", func() (*Result, error) { return &Result{Name: "joiner ran"}, nil })
		joiner <- outcomeErr{res, err, shared}
	}()
	waitJoined(t, &f, "k", 1)
	close(release)
	if diff := cmp.Diff("boom", <-leaderPanic); diff != "" {
		t.Errorf("first caller's panic (-want +got):\n%s", diff)
	}
	var got outcomeErr
	select { // 10 s: as waitJoined; the old flights never ended a panicked flight
	case got = <-joiner:
	case <-time.After(10 * time.Second):
		t.Fatal("the joiner still waits 10 s after the first caller's resolution panicked")
	}
	if got.res != nil || !errors.Is(got.err, errFlightPanicked) || !got.shared {
		t.Errorf("joiner got %v, %v, shared %v; want nil, %v, shared", got.res, got.err, got.shared, errFlightPanicked)
	}
	res, err, shared := f.do(t.Context(), "k", func() (*Result, error) { return &Result{Name: "next"}, nil })
	if diff := cmp.Diff(toOutcome(&Result{Name: "next"}, nil, false), toOutcome(res, err, shared)); diff != "" {
		t.Errorf("the next caller (-want +got):\n%s", diff)
	}
	if len(f.m) != 0 {
		t.Errorf("%d flights left after all ended", len(f.m))
	}
}

type outcomeErr struct {
	res    *Result
	err    error
	shared bool
}

// TestFlightRetryBound: a joiner whose flight was cancelled by its first
// caller asks again, joining the next flight of its question, but after
// the third cancelled flight in a row (maxFlightRetries retries) it gives
// up with that flight's result instead of joining a fourth.
func TestFlightRetryBound(t *testing.T) {
	type outcome struct {
		Name   string // the Result's name
		Err    string
		Shared bool
	}
	errCancelled := errors.New("the first caller gave up")
	tests := []struct {
		name      string
		cancelled int // flights in a row whose first caller gives up
		want      outcome
	}{
		{name: "one cancelled: the next flight's answer", cancelled: 1,
			want: outcome{Name: "flight2", Shared: true}},
		{name: "two cancelled: the third flight's answer", cancelled: 2,
			want: outcome{Name: "flight3", Shared: true}},
		{name: "three cancelled: the third's cancellation, no fourth join", cancelled: maxFlightRetries + 1,
			want: outcome{Name: "flight3", Err: errCancelled.Error(), Shared: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f flights
			// Flights the test plays the first caller of; one more than
			// the bound allows joining, to see that none is joined.
			fl := make([]*flight, maxFlightRetries+2)
			for i := range fl {
				fl[i] = &flight{done: make(chan struct{}), res: &Result{Name: "flight" + string(rune('1'+i))}}
			}
			f.m = map[string]*flight{"k": fl[0]}
			got := make(chan outcome, 1)
			go func() {
				res, err, shared := f.do(t.Context(), "k", func() (*Result, error) {
					return &Result{Name: "the joiner ran"}, nil
				})
				got <- toOutcome(res, err, shared)
			}()
			// Each flight ends with the next one already running, so the
			// joiner's retry joins it rather than running its own.
			for i := 0; i < len(fl)-1 && i <= tt.cancelled; i++ {
				waitJoined(t, &f, "k", 1)
				f.mu.Lock()
				f.m["k"] = fl[i+1]
				if i < tt.cancelled {
					fl[i].cancelled, fl[i].err = true, errCancelled
				}
				f.mu.Unlock()
				close(fl[i].done)
				if i == tt.cancelled || i == maxFlightRetries {
					break // the joiner has its answer
				}
			}
			var o outcome
			select { // 10 s: as waitJoined
			case o = <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("the joiner still waits after its flights ended")
			}
			if diff := cmp.Diff(tt.want, o); diff != "" {
				t.Errorf("joiner (-want +got):\n%s", diff)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			for i, c := range fl[min(tt.cancelled, maxFlightRetries)+1:] {
				if c.joined != 0 {
					t.Errorf("flight%d was joined after the joiner had its answer", min(tt.cancelled, maxFlightRetries)+2+i)
				}
			}
		})
	}
}
