package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBareHelp: bare addrwalk prints the help and succeeds, as --help.
func TestBareHelp(t *testing.T) {
	code, out, errOut := runCLI(t)
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, want, _ := runCLI(t, "--help")
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("bare addrwalk differs from --help (-want +got):\n%s", diff)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, s := range []string{"Usage: addrwalk <command>", "resolve", "arp scan", "completion", "a bare number is seconds"} {
		if !strings.Contains(flat, s) {
			t.Errorf("help lacks %q", s)
		}
	}
}

// TestHelpCommand: `addrwalk help CMD...` is `addrwalk CMD... --help`, for
// every command in the tree.
func TestHelpCommand(t *testing.T) {
	for _, n := range modelCommands(t) {
		path := strings.Fields(n.Path())
		t.Run(strings.Join(path, "_"), func(t *testing.T) {
			code, got, _ := runCLI(t, append([]string{"help"}, path...)...)
			_, want, _ := runCLI(t, append(path, "--help")...)
			if code != ExitOK {
				t.Fatalf("exit %d", code)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, r := range exitTable()[n.Path()] {
				if row := fmt.Sprintf("%-3d %s\n", r.code, r.meaning); !strings.Contains(got, row) {
					t.Errorf("help lacks the exit-status row %q", row)
				}
			}
		})
	}
	code, _, errOut := runCLI(t, "help", "nosuch")
	if code != ExitUsage || !strings.Contains(errOut, `no command "nosuch"`) {
		t.Errorf("help nosuch: exit %d, %q", code, errOut)
	}
}

// TestVersion: --version prints the module version, the VCS revision and
// time and the Go version from the build information.
func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/addrwalk/addrwalk", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2026-12-04T19:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tt := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"release with vcs", bi, true, "addrwalk v1.2.3\nrevision 0123456789abcdef (2026-12-04T19:00:00Z), modified\nbuilt with go1.26.8 for " + runtime.GOOS + "/" + runtime.GOARCH},
		{"devel without vcs", &debug.BuildInfo{GoVersion: "go1.26.8"}, true, "addrwalk (devel)\nbuilt with go1.26.8 for " + runtime.GOOS + "/" + runtime.GOARCH},
		{"no build info", nil, false, "addrwalk (no build information)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, versionText(tt.bi, tt.ok)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	code, out, _ := runCLI(t, "--version")
	if code != ExitOK || !strings.HasPrefix(out, "addrwalk ") || !strings.Contains(out, "built with go") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

// TestErrorsPointToCommandHelp: a command-line mistake names the help of
// the command being typed, not the top level's.
func TestErrorsPointToCommandHelp(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		hint string
	}{
		{"unknown command", []string{"bogus"}, "run 'addrwalk --help' for usage"},
		{"unknown flag", []string{"resolve", "--bogus", "x"}, "run 'addrwalk resolve --help' for usage"},
		{"nested command", []string{"arp", "scan", "--bogus"}, "run 'addrwalk arp scan --help' for usage"},
		{"missing argument", []string{"resolve"}, "run 'addrwalk resolve --help' for usage"},
		{"bad value", []string{"ctl", "--timeout", "x", "status"}, "run 'addrwalk ctl --help' for usage"},
		{"checked in Run", []string{"resolve", "-4", "-6", "www.example.org"}, "run 'addrwalk resolve --help' for usage"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != ExitUsage || !strings.HasSuffix(errOut, tt.hint+"\n") {
				t.Errorf("exit %d, stderr %q; want %d ending with %q", code, errOut, ExitUsage, tt.hint)
			}
		})
	}
}

// readablePlaceholder is a name for what a flag takes: upper-case words
// (FILE, ADDR:PORT, SECONDS), never a Go type name (UINT-16, FLOAT-64).
var readablePlaceholder = regexp.MustCompile(`^[A-Z]+([:_][A-Z]+)*$`)

// TestPlaceholders: every flag that takes a value shows a readable name for it.
func TestPlaceholders(t *testing.T) {
	for _, mf := range modelFlags(t) {
		if mf.flag.IsBool() || mf.flag.IsCounter() {
			continue
		}
		if p := mf.flag.PlaceHolder; !readablePlaceholder.MatchString(p) {
			t.Errorf("%s: placeholder %q (shown as %s); give it a readable one such as COUNT, SECONDS or FILE", mf, p, mf.flag.FormatPlaceHolder())
		}
	}
}

// TestCompletion: each shell's script is valid for that shell, and bash's
// completes a subcommand and a flag through the binary, as bash does.
func TestCompletion(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// An addrwalk on PATH that is this test binary acting as the command.
	bin := t.TempDir()
	wrapper := "#!/bin/sh\n" + cliArgsEnv + "='[]' exec " + exe + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "addrwalk"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			code, script, _ := runCLI(t, "completion", shell)
			if code != ExitOK || !strings.Contains(script, "addrwalk") {
				t.Fatalf("exit %d, script %q", code, script)
			}
			sh, err := exec.LookPath(shell)
			if err != nil {
				if shell == "bash" {
					t.Fatal("bash is needed to test completion")
				}
				t.Skipf("%s is not installed: its script is not syntax-checked", shell)
			}
			f := filepath.Join(t.TempDir(), "script")
			if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
	for _, tt := range []struct {
		name, line string
		want       []string
	}{
		{"subcommand", "addrwalk res", []string{"resolve"}},
		{"nested subcommand", "addrwalk arp sc", []string{"scan"}},
		{"flag", "addrwalk resolve --query-t", []string{"--query-timeout"}},
		{"enum argument", "addrwalk completion f", []string{"fish"}},
	} {
		t.Run("bash_"+tt.name, func(t *testing.T) {
			_, script, _ := runCLI(t, "completion", "bash")
			// Load the script, then run what bash runs for `complete -C`:
			// the command named, with COMP_LINE and COMP_POINT set.
			prog := script + `
spec=$(complete -p addrwalk) || exit 1
case "$spec" in *"-C "*addrwalk*) ;; *) echo "unexpected spec: $spec" >&2; exit 1;; esac
export COMP_LINE="` + tt.line + `" COMP_POINT=` + strconv.Itoa(len(tt.line)) + `
addrwalk addrwalk "${COMP_LINE##* }" ""
`
			cmd := exec.Command("bash", "--norc", "-c", prog)
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if diff := cmp.Diff(tt.want, strings.Fields(string(out))); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
		})
	}
}

// TestManPage: the man page is generated from the command tree (every
// command and flag is in it) and groff renders it without a warning.
func TestManPage(t *testing.T) {
	code, page, _ := runCLI(t, "man")
	if code != ExitOK || !strings.HasPrefix(page, ".TH ADDRWALK 1") {
		t.Fatalf("exit %d, page starts %q", code, page[:min(len(page), 40)])
	}
	for _, n := range modelCommands(t) {
		if !strings.Contains(page, n.Name) {
			t.Errorf("man page lacks the command %s", n.Path())
		}
	}
	for _, mf := range modelFlags(t) {
		if !strings.Contains(page, `-`+strings.ReplaceAll(mf.flag.Name, "-", `\-`)) && !strings.Contains(page, "-"+mf.flag.Name) {
			t.Errorf("man page lacks %s", mf)
		}
	}
	for _, s := range []string{"EXIT STATUS", "DURATIONS"} {
		if !strings.Contains(strings.ToUpper(page), ".SH "+s) {
			t.Errorf("man page lacks the section %s", s)
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Fatal("groff is needed (scripts/test installs groff-base)")
	}
	cmd := exec.Command(groff, "-k", "-man", "-Tutf8", "-ww", "-z") // -k: UTF-8 input, as man -l
	cmd.Stdin = strings.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
}
