package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPictureFlags runs the README's picture commands: demo and resolve
// with --svg and --html write SVG and a self-contained page, and a failed
// resolution is drawn too.
func TestPictureFlags(t *testing.T) {
	dir := t.TempDir()
	hints, port := simHints(t)
	cases := []struct {
		name  string
		args  []string
		files map[string][]string // file → what it must contain
	}{
		{"demo glueless", []string{"demo", "--no-latency", "glueless", "--svg", filepath.Join(dir, "g.svg"), "--html", filepath.Join(dir, "g.html")},
			map[string][]string{"g.svg": {"<svg", `class="branch branch-resolved"`, "ns1.dnshost.net."}, "g.html": {"<!DOCTYPE html>", "<svg", "<script>"}}},
		{"demo several", []string{"demo", "--no-latency", "--all", "--svg", filepath.Join(dir, "all.svg")},
			map[string][]string{"all-1.svg": {"www.example.org."}, "all-2.svg": {"www.quiet-harbor.org."}}},
		{"resolve", []string{"resolve", "--root-hints", hints, "--allow-loopback", "--port", port, "alias.example.org", "--svg", filepath.Join(dir, "r.svg")},
			map[string][]string{"r.svg": {"edge edge-restart edge-cname"}}},
		{"resolve failure", []string{"resolve", "--root-hints", hints, "--allow-loopback", "--port", port, "www.tideline.com", "--timeout", "1ms", "--html", filepath.Join(dir, "f.html")},
			map[string][]string{"f.html": {"result rcode-servfail failed"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != ExitOK && code != ExitDNSNoReply {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for f, want := range tc.files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range want {
					if !strings.Contains(string(b), w) {
						t.Errorf("%s lacks %q", f, w)
					}
				}
			}
		})
	}
}
