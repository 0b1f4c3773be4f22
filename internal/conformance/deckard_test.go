package conformance

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/addrwalk/addrwalk/internal/replay"
)

// expectedFile lists "scenario/mode" runs that must pass.
const expectedFile = "testdata/deckard-expected.txt"

// outcome is one scenario run's result, for the summary.
type outcome struct {
	run    string
	state  string // pass, fail, n/a
	reason string
}

func readExpected(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(expectedFile)
	if err != nil {
		t.Fatalf("reading the expected-pass list: %v", err)
	}
	defer f.Close()
	want := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		want[line] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}

// needsDNSSEC reports whether a scenario configures trust anchors, so its
// checks assume validation.
func needsDNSSEC(sc *replay.Scenario) bool {
	return len(sc.Config.TrustAnchors) > 0 || len(sc.Config.DomainInsecure) > 0
}

// TestDeckard runs every scenario in every QNAME-minimisation mode it
// allows. A run in the expected-pass list must pass; any other run that
// fails is reported as a known failure (skipped with its reason), and one
// that passes is reported as newly passing.
func TestDeckard(t *testing.T) {
	dir, err := replay.Dir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := replay.Files(dir)
	if err != nil || len(files) == 0 {
		if os.Getenv("CI") == "" {
			t.Skipf("no scenarios in %s (%v); set %s", dir, err, replay.DirEnv)
		}
		t.Fatalf("no scenarios in %s: %v", dir, err)
	}
	expected := readExpected(t)
	useList := os.Getenv(replay.DirEnv) == "" // another set has no list
	var mu sync.Mutex
	var results []outcome
	record := func(o outcome) {
		mu.Lock()
		results = append(results, o)
		mu.Unlock()
	}
	t.Cleanup(func() { summarize(t, results, expected, useList) })

	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".rpl")
		sc, perr := replay.ParseFile(file)
		t.Run(name, func(t *testing.T) {
			if perr != nil {
				t.Fatalf("parse: %v", perr)
			}
			for _, qmin := range sc.Config.Modes() {
				mode := "qmin-off"
				if qmin {
					mode = "qmin-on"
				}
				run := name + "/" + mode
				t.Run(mode, func(t *testing.T) {
					t.Parallel()
					var logf func(string, ...any)
					if os.Getenv("ADDRWALK_DECKARD_DEBUG") != "" {
						logf = t.Logf
					}
					h, err := NewHarness(sc, qmin, logf)
					if errors.Is(err, ErrNotApplicable) {
						record(outcome{run, "n/a", err.Error()})
						t.Skip(err)
					}
					if err != nil {
						t.Fatalf("harness: %v", err)
					}
					defer h.Close()
					rep := h.Run(context.Background())
					if rep.Passed {
						record(outcome{run, "pass", ""})
						if useList && !expected[run] {
							t.Logf("NEWLY PASSING: add %s to %s", run, expectedFile)
						}
						return
					}
					reason := oneLine(rep.Err())
					if needsDNSSEC(sc) {
						reason = "DNSSEC: " + reason
					}
					record(outcome{run, "fail", reason})
					if useList && expected[run] {
						t.Errorf("expected to pass: %v", rep.Err())
						return
					}
					t.Skipf("known failure: %s", reason)
				})
			}
		})
	}
}

func oneLine(err error) string {
	if err == nil {
		return ""
	}
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// summarize prints the summary line and, with -v, every failure and
// not-applicable run with its reason. It also names expected runs that
// did not run at all (a renamed or removed scenario).
func summarize(t *testing.T, results []outcome, expected map[string]bool, useList bool) {
	sort.Slice(results, func(i, j int) bool { return results[i].run < results[j].run })
	var pass, fail, na int
	seen := map[string]bool{}
	for _, o := range results {
		seen[o.run] = true
		switch o.state {
		case "pass":
			pass++
		case "fail":
			fail++
			t.Logf("FAIL %s: %s", o.run, o.reason)
		default:
			na++
			t.Logf("N/A  %s: %s", o.run, o.reason)
		}
	}
	if useList && flag.Lookup("test.run").Value.String() == "" {
		for run := range expected {
			if !seen[run] {
				t.Errorf("expected run %s did not run", run)
			}
		}
	}
	fmt.Printf("deckard: %d passed, %d failed, %d not applicable\n", pass, fail, na)
	if path := os.Getenv("ADDRWALK_DECKARD_REPORT"); path != "" {
		var b strings.Builder
		for _, o := range results {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", o.state, o.run, o.reason)
		}
		os.WriteFile(path, []byte(b.String()), 0o644)
	}
}
