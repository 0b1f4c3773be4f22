package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/msgcheck"
)

// traceMessage reports whether a line of a human trace is a message
// (what was asked, why, what came back, a failure) rather than a record.
func traceMessage(line string) bool {
	l := strings.TrimSpace(line)
	for _, p := range []string{"why: ", "got: ", "!! ", "<< ", ">> ", "=> ", "cache: ", ";; SERVFAIL", ";; walk", ";; validation", "dnssec: "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// TestTraceWording checks every message line of the traces that demo and
// resolve --trace print, success and failure, for every built-in example
// (delegation, glueless, CNAME chains, dead and lame servers, TCP, every
// DNSSEC verdict), and the detail and error of every step of their --json
// documents, with msgcheck: no word said twice across ": " (a detail
// repeating its outcome), no Go library wording, no unrounded durations.
func TestTraceWording(t *testing.T) {
	hints, port := simHints(t)
	runs := []struct {
		name string
		args []string
	}{
		{"demo all", []string{"demo", "--no-latency", "--all"}},
		{"demo all dnssec", []string{"demo", "--no-latency", "--all", "--dnssec"}},
		{"resolve trace glueless", []string{"resolve", "--root-hints", hints, "--port", port, "--allow-loopback", "--no-validate", "--trace", "www.quiet-harbor.org"}},
		{"resolve trace dead server", []string{"resolve", "--root-hints", hints, "--port", port, "--allow-loopback", "--no-validate", "--trace", "--query-timeout", "0.2", "www.tideline.com"}},
		{"resolve trace lame", []string{"resolve", "--root-hints", hints, "--port", port, "--allow-loopback", "--no-validate", "--trace", "www.lamplight.net"}},
		{"resolve trace nxdomain", []string{"resolve", "--root-hints", hints, "--port", port, "--allow-loopback", "--no-validate", "--trace", "nosuch.example.org"}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			_, out, _ := runCLI(t, r.args...)
			n := 0
			for _, line := range strings.Split(out, "\n") {
				if !traceMessage(line) {
					continue
				}
				n++
				for _, p := range msgcheck.Problems(strings.TrimSpace(line)) {
					t.Errorf("%s\n  in: %s", p, strings.TrimSpace(line))
				}
			}
			if n == 0 {
				t.Fatalf("no trace line in:\n%s", out)
			}
		})
	}
	t.Run("demo all json", func(t *testing.T) {
		_, out, _ := runCLI(t, "demo", "--no-latency", "--all", "--dnssec", "--json")
		dec := json.NewDecoder(strings.NewReader(out))
		n := 0
		// Bounded by the output: each round decodes one document.
		for dec.More() {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("document %d: %v", n, err)
			}
			n++
			walkStrings(doc, func(key, s string) {
				if key != "detail" && key != "error" && key != "reason" {
					return
				}
				for _, p := range msgcheck.Problems(s) {
					t.Errorf("%s: %s\n  in %q: %s", doc["name"], p, key, s)
				}
			})
		}
		if n == 0 {
			t.Fatalf("no JSON document in:\n%s", out)
		}
	})
}

// walkStrings calls fn with every string value in v and its key.
func walkStrings(v any, fn func(key, s string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				fn(k, s)
			} else {
				walkStrings(e, fn)
			}
		}
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}
