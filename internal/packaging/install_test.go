package packaging

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMakeInstall runs `make install` into a temporary DESTDIR with
// PREFIX=/usr and checks the tree: every file where packagers expect it,
// with its mode, the units naming the installed binary, and a
// configuration the installed binary accepts.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not installed (scripts/test installs it): %v", err)
	}
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	build := filepath.Join(tmp, "build")
	// GOBUILDFLAGS= and CGO= (Go's defaults): the build cache of the
	// other tests serves; the Makefile's -trimpath and CGO_ENABLED=0 would
	// recompile everything (TestDockerfile checks those flags).
	cmd := exec.Command("make", "install", "DESTDIR="+dest, "PREFIX=/usr", "BUILDDIR="+build, "GOBUILDFLAGS=", "CGO=")
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	bin := filepath.Join(dest, "usr/bin/addrwalk")
	want := map[string]fs.FileMode{
		"usr/bin/addrwalk":                             0o755,
		"usr/lib/systemd/system/addrwalk.service":      0o644,
		"usr/lib/systemd/system/addrwalk.socket":       0o644,
		"usr/lib/systemd/system/addrwalk-dot.socket":   0o644,
		"usr/lib/systemd/system/addrwalk-doh.socket":   0o644,
		"etc/addrwalk/addrwalk.toml":                   0o644,
		"usr/share/doc/addrwalk/addrwalk.example.toml": 0o644,
		"usr/share/doc/addrwalk/README.md":             0o644,
	}
	// Completions and the man page are installed when the binary has the
	// commands that make them.
	if exec.Command(bin, "completion", "bash").Run() == nil {
		want["usr/share/bash-completion/completions/addrwalk"] = 0o644
		want["usr/share/zsh/site-functions/_addrwalk"] = 0o644
		want["usr/share/fish/vendor_completions.d/addrwalk.fish"] = 0o644
	}
	if exec.Command(bin, "man").Run() == nil {
		want["usr/share/man/man1/addrwalk.1"] = 0o644
	}
	got := map[string]fs.FileMode{}
	err = filepath.WalkDir(dest, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dest, path)
		got[rel] = info.Mode().Perm()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("installed tree (-want +got):\n%s", diff)
	}

	t.Run("units name the installed paths", func(t *testing.T) {
		unit, err := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system/addrwalk.service"))
		if err != nil {
			t.Fatal(err)
		}
		var execStart []string
		for _, line := range strings.Split(string(unit), "\n") {
			if strings.HasPrefix(line, "ExecStart=") {
				execStart = append(execStart, line)
			}
		}
		wantExec := []string{"ExecStart=/usr/bin/addrwalk serve --config /etc/addrwalk/addrwalk.toml --control /run/addrwalk/control.sock"}
		if diff := cmp.Diff(wantExec, execStart); diff != "" {
			t.Errorf("ExecStart (-want +got):\n%s", diff)
		}
	})
	t.Run("installed configuration is valid", func(t *testing.T) {
		out, err := exec.Command(bin, "serve", "--config", filepath.Join(dest, "etc/addrwalk/addrwalk.toml"), "--check-config").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "configuration OK") {
			t.Errorf("--check-config: %v\n%s", err, out)
		}
	})
	t.Run("uninstall keeps the configuration", func(t *testing.T) {
		cmd := exec.Command("make", "uninstall", "DESTDIR="+dest, "PREFIX=/usr", "BUILDDIR="+build)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make uninstall: %v\n%s", err, out)
		}
		var left []string
		_ = filepath.WalkDir(dest, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dest, path)
				left = append(left, rel)
			}
			return err
		})
		sort.Strings(left)
		if diff := cmp.Diff([]string{"etc/addrwalk/addrwalk.toml"}, left); diff != "" {
			t.Errorf("left after uninstall (-want +got):\n%s", diff)
		}
	})
}
