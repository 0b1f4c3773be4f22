package server

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSlots drives the slot table with a fake clock: the first half of
// the slots are never jostled; when all are taken, a newcomer takes the
// slot of the oldest jostleable resolution past the timeout, or none.
func TestSlots(t *testing.T) {
	type step struct {
		after   time.Duration // the clock moves this much first
		op      string        // "acquire" or "release N" (N: the acquire's index)
		release int
		want    string // acquire: "slot", "none" or "slot, jostles N"
	}
	tests := []struct {
		name    string
		max     int
		timeout time.Duration
		steps   []step
	}{
		{"under the cap", 4, 200 * time.Millisecond, []step{
			{0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"},
		}},
		{"full, nothing past the timeout: none", 2, 200 * time.Millisecond, []step{
			{0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"}, {199 * time.Millisecond, "acquire", 0, "none"},
		}},
		{"full: the oldest jostleable past the timeout goes", 4, 200 * time.Millisecond, []step{
			{0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"}, // protected: half the slots
			{10 * time.Millisecond, "acquire", 0, "slot"}, {10 * time.Millisecond, "acquire", 0, "slot"},
			{190 * time.Millisecond, "acquire", 0, "slot, jostles 2"},
			{0, "acquire", 0, "none"}, // 3 has run 190 ms
			{10 * time.Millisecond, "acquire", 0, "slot, jostles 3"},
			{0, "acquire", 0, "none"},
		}},
		{"the protected half is never jostled", 2, 200 * time.Millisecond, []step{
			{0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"},
			{time.Hour, "acquire", 0, "slot, jostles 1"},
			{time.Hour, "acquire", 0, "slot, jostles 2"},
		}},
		{"a released slot is free again", 2, 200 * time.Millisecond, []step{
			{0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"},
			{0, "release", 1, ""}, {0, "acquire", 0, "slot"}, {0, "acquire", 0, "none"},
		}},
		{"a jostled resolution's release frees nothing", 2, 200 * time.Millisecond, []step{
			{0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"},
			{time.Second, "acquire", 0, "slot, jostles 1"},
			{0, "release", 1, ""}, {0, "acquire", 0, "none"},
		}},
		{"jostling off", 2, -1, []step{
			{0, "acquire", 0, "slot"}, {0, "acquire", 0, "slot"}, {time.Hour, "acquire", 0, "none"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1_000_000, 0)
			sl := newSlots(tt.max, tt.timeout, func() time.Time { return now })
			var got, want []string
			var held []*slot
			var ctxs []context.Context
			reported := map[int]bool{} // jostled resolutions already reported
			for _, st := range tt.steps {
				now = now.Add(st.after)
				if st.op == "release" {
					sl.release(held[st.release])
					continue
				}
				ctx, cancel := context.WithCancelCause(t.Context())
				s := sl.acquire(cancel)
				res := "none"
				if s != nil {
					res = "slot"
					for i, c := range ctxs {
						if c.Err() != nil && !reported[i] {
							res += ", jostles " + strconv.Itoa(i)
							reported[i] = true
						}
					}
				}
				held, ctxs = append(held, s), append(ctxs, ctx)
				got, want = append(got, res), append(want, st.want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("acquires (-want +got):\n%s", diff)
			}
			for i, c := range ctxs {
				if c.Err() != nil && context.Cause(c) != errJostled {
					t.Errorf("resolution %d cancelled by %v, want errJostled", i, context.Cause(c))
				}
			}
		})
	}
}
