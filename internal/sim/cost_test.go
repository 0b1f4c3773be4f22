package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// TestValidationQueryCost counts the upstream queries a validating
// resolver sends for every example of the signed simulation: cold (a
// fresh resolver per name), warm (the same name again) and shared (every
// name in turn through one resolver), with and without QNAME
// minimisation. It reports the totals ("go test -v -run
// TestValidationQueryCost ./internal/sim"), for comparing changes to the
// walk or the validator; a warm repeat of an answer must cost nothing.
func TestValidationQueryCost(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lab, err := New(Config{NoLatency: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	anchors := labresolver.TrustAnchors(t, lab)
	newResolver := func(qmin bool) *resolver.Resolver {
		return labresolver.New(t, lab, func(c *resolver.Config) {
			c.TrustAnchors = anchors
			c.DisableQNAMEMinimisation = !qmin
			c.Now = func() time.Time { return now.Add(time.Minute) }
		})
	}
	for _, qmin := range []bool{false, true} {
		var cold, warm, shared int
		var lines []string
		sr := newResolver(qmin)
		for _, ex := range Examples() {
			r := newResolver(qmin)
			c, cerr := r.Resolve(t.Context(), ex.Name, ex.Type)
			w, _ := r.Resolve(t.Context(), ex.Name, ex.Type)
			s, _ := sr.Resolve(t.Context(), ex.Name, ex.Type)
			cold += c.Upstream
			warm += w.Upstream
			shared += s.Upstream
			lines = append(lines, fmt.Sprintf("%-28s cold %3d warm %d shared %3d %v", ex.ID, c.Upstream, w.Upstream, s.Upstream, c.Security))
			if cerr == nil && w.Upstream != 0 {
				t.Errorf("qmin=%t %s: warm repeat sent %d queries", qmin, ex.ID, w.Upstream)
			}
		}
		t.Logf("qmin=%t per example:\n%s", qmin, strings.Join(lines, "\n"))
		fmt.Printf("cost qmin=%t: %d examples, cold %d, warm %d, shared %d upstream queries\n", qmin, len(Examples()), cold, warm, shared)
	}
}
