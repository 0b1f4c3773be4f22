package replay

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// scenarioDir returns the scenario folder, skipping the test when it is
// missing outside CI and failing it in CI.
func scenarioDir(t *testing.T) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if os.Getenv("CI") == "" {
			t.Skipf("no .rpl scenarios in %s (set %s); skipping outside CI", dir, DirEnv)
		}
		t.Fatalf("no .rpl scenarios in %s (set %s)", dir, DirEnv)
	}
	return dir
}

func TestParseAllScenarios(t *testing.T) {
	dir := scenarioDir(t)
	files, _ := Files(dir)
	var ranges, entries, steps, failed, tas, generic, notes int
	for _, path := range files {
		sc, err := ParseFile(path)
		if err != nil {
			failed++
			t.Errorf("%v", err)
			continue
		}
		ranges += len(sc.Ranges)
		var all []*Entry
		for _, r := range sc.Ranges {
			all = append(all, r.Entries...)
		}
		for _, st := range sc.Steps {
			if st.Entry != nil {
				all = append(all, st.Entry)
			}
		}
		entries += len(all)
		notes += len(sc.Notes)
		for _, n := range sc.Notes {
			t.Log(n)
		}
		tas += len(sc.Config.TrustAnchors)
		for _, e := range all {
			b, err := e.Msg.Pack()
			if err != nil {
				t.Errorf("%s:%d: entry does not pack: %v", path, e.Line, err)
				continue
			}
			// Every entry must match itself after a trip through the
			// wire format, with all tokens.
			m := new(dns.Msg)
			if err := m.Unpack(b); err != nil {
				t.Errorf("%s:%d: entry does not unpack: %v", path, e.Line, err)
				continue
			}
			self := *e
			self.Match = []string{MatchAll, MatchQcase, MatchEDNS}
			self.Raw = nil
			if err := Check(&self, m); err != nil {
				t.Errorf("%s:%d: entry does not match itself: %v", path, e.Line, err)
			}
			for _, rr := range slices.Concat(e.Msg.Answer, e.Msg.Ns, e.Msg.Extra) {
				if _, ok := rr.(*dns.RFC3597); ok {
					generic++
					t.Logf("%s:%d: kept as RFC 3597: %s", path, e.Line, rr)
				}
			}
		}
		steps += len(sc.Steps)
		if len(sc.Steps) == 0 {
			t.Errorf("%s: no steps", filepath.Base(path))
		}
	}
	t.Logf("%s: %d files (%d failed), %d ranges, %d entries, %d steps, %d trust anchors, %d RRs kept as RFC 3597, %d notes",
		dir, len(files), failed, ranges, entries, steps, tas, generic, notes)
}

func TestDir(t *testing.T) {
	t.Setenv(DirEnv, "/some/where")
	if d, err := Dir(); err != nil || d != "/some/where" {
		t.Errorf("Dir with %s = %q, %v", DirEnv, d, err)
	}
	t.Setenv(DirEnv, "")
	d, err := Dir()
	if err != nil || !strings.HasSuffix(d, filepath.Join("shared", "deckard")) {
		t.Errorf("Dir = %q, %v", d, err)
	}
}
