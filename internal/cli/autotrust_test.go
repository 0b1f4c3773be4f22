package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

func TestLoadAutoTrust(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	cfg := &config.Config{DNSSEC: config.DNSSEC{AutoTrustAnchorFile: path}}

	// No file yet: seeded with IANA's root keys and written at once.
	at, err := loadAutoTrust(cfg)
	if err != nil || at == nil {
		t.Fatalf("loadAutoTrust: %v, %v", at, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), "state=SEED"); got != 2 {
		t.Errorf("new state file has %d seeds, want IANA's 2:\n%s", got, b)
	}
	ds, _ := at.Anchors().Lookup(".")
	if len(ds) != 2 {
		t.Errorf("anchors published: %v", ds)
	}

	// The file exists: read back, same trust points.
	again, err := loadAutoTrust(cfg)
	if err != nil || len(again.Points()) != 1 || len(again.Points()[0].Seed) != 2 {
		t.Errorf("reloaded: %+v, %v", again, err)
	}

	// Off, or not configured: nothing.
	for _, c := range []*config.Config{{DNSSEC: config.DNSSEC{AutoTrustAnchorFile: path, Validation: "off"}}, {}} {
		if at, err := loadAutoTrust(c); at != nil || err != nil {
			t.Errorf("loadAutoTrust(%+v) = %v, %v; want nil, nil", c.DNSSEC, at, err)
		}
	}

	// A damaged file or a directory that cannot hold one: clear errors.
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("example. IN A 192.0.2.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadAutoTrust(&config.Config{DNSSEC: config.DNSSEC{AutoTrustAnchorFile: bad}}); err == nil ||
		!strings.Contains(err.Error(), "auto-trust-anchor-file") {
		t.Errorf("damaged file: %v", err)
	}
	if _, err := loadAutoTrust(&config.Config{DNSSEC: config.DNSSEC{AutoTrustAnchorFile: filepath.Join(dir, "missing", "root.key")}}); err == nil {
		t.Error("unwritable path: no error")
	}
}

func TestSaveTrustPointsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	ds, _ := dnssec.RootAnchors().Lookup(".")
	for _, n := range []int{2, 1} { // a second save replaces the first
		if err := saveTrustPoints(path, []*dnssec.TrustPoint{{Zone: ".", Seed: ds[:n]}}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(b), "state=SEED"); got != n {
			t.Errorf("after saving %d seeds the file has %d:\n%s", n, got, b)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v (%v), want only the state file: no temporary left behind", entries, err)
	}
}
