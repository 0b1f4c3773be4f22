package rawlink

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestAfterProbe checks the context the cache read gets: the caller's
// while it is live; after it ended, a live one with the caller's values
// and a deadline at most afterReadTimeout away.
func TestAfterProbe(t *testing.T) {
	tests := []struct {
		name   string
		cancel bool
	}{
		{"live context passed through", false},
		{"ended context replaced", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "v"))
			defer cancel()
			if tc.cancel {
				cancel()
			}
			calls := 0
			AfterProbe(ctx, func(got context.Context) {
				calls++
				if got.Err() != nil {
					t.Errorf("read got an ended context: %v", got.Err())
				}
				if v, _ := got.Value(ctxKey{}).(string); v != "v" {
					t.Errorf("read lost the caller's values: %q", v)
				}
				dl, ok := got.Deadline()
				left := time.Until(dl)
				switch {
				case !tc.cancel && got != ctx:
					t.Errorf("read got another context while the caller's was live")
				case tc.cancel && (!ok || left > afterReadTimeout):
					t.Errorf("deadline in %v (set %t), want at most %v", left, ok, afterReadTimeout)
				}
			})
			if calls != 1 {
				t.Errorf("read called %d times, want 1", calls)
			}
		})
	}
}

// TestCloseAfter checks that the link is always closed and that the
// probe's error wins over the close's.
func TestCloseAfter(t *testing.T) {
	errProbe, errClose := errors.New("probe failed"), errors.New("close failed")
	tests := []struct {
		name       string
		probe, cls error
		want       string
		is         error
	}{
		{"both fine", nil, nil, "", nil},
		{"close fails", nil, errClose, "ndptrace: close: close failed", errClose},
		{"probe fails", errProbe, nil, "probe failed", errProbe},
		{"both fail: the probe's error", errProbe, errClose, "probe failed", errProbe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			closed := 0
			err := CloseAfter(tc.probe, func() error { closed++; return tc.cls }, "ndptrace")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want || !errors.Is(err, tc.is) || closed != 1 {
				t.Errorf("CloseAfter = %q (closed %d times), want %q wrapping %v, closed once", got, closed, tc.want, tc.is)
			}
		})
	}
}
