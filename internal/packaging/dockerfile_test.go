package packaging

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is the top of the repository, from this package's directory.
const repoRoot = "../.."

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// parseDockerfile splits a Dockerfile into instructions: comments and
// blank lines dropped, lines ending in a backslash joined to the next.
func parseDockerfile(t *testing.T, text string) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("Dockerfile ends in a continuation line: %q", cur.String())
	}
	return out
}

// stages splits instructions at each FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

func find(st []instruction, cmd string) []instruction {
	var out []instruction
	for _, in := range st {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// goBuildRE finds the go build command of the build stage.
var goBuildRE = regexp.MustCompile(`go build ([^&;]*)`)

// TestDockerfile checks the Dockerfile's key properties, as a linter
// would, since no container runtime or hadolint is available here. The
// go build command is checked with the same flags (a dry run), and the
// container's configuration and healthcheck with a binary built here.
func TestDockerfile(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ins := parseDockerfile(t, string(text))
	st := stages(ins)
	if len(st) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(st))
	}
	build, final := st[0], st[len(st)-1]
	allRuns := strings.Join(argsOf(find(build, "RUN")), " ; ")
	env := strings.Join(argsOf(find(build, "ENV")), " ")

	checks := []struct {
		name string
		ok   bool
	}{
		{"BuildKit syntax line (for RUN --mount and COPY keeping xattrs)", bytes.HasPrefix(text, []byte("# syntax=docker/dockerfile:1"))},
		{"build stage is named", strings.Contains(st[0][0].args, " AS build")},
		{"runtime is distroless static or scratch", strings.HasPrefix(final[0].args, "gcr.io/distroless/static") || final[0].args == "scratch"},
		{"CGO off: a static binary", strings.Contains(env, "CGO_ENABLED=0")},
		{"go build is reproducible (-trimpath)", strings.Contains(allRuns, "-trimpath")},
		{"go build builds cmd/addrwalk", strings.Contains(allRuns, "./cmd/addrwalk")},
		{"binary gets CAP_NET_BIND_SERVICE only", strings.Contains(allRuns, "setcap cap_net_bind_service=+ep")},
		{"runtime runs as a non-root user", nonRoot(find(final, "USER"))},
		{"healthcheck runs addrwalk itself", healthcheck(final) != nil},
		{"entrypoint in exec form (hadolint DL3025)", execForm(find(final, "ENTRYPOINT")) && execForm(find(final, "CMD"))},
		{"no image without a tag, no :latest (DL3006, DL3007)", pinnedImages(ins)},
		{"apt-get installs pinned packages without recommends and cleans its lists (DL3008, DL3015, DL3009)", aptClean(allRuns)},
		{"WORKDIR is absolute (DL3000)", absWorkdirs(ins)},
		{"port 53 exposed over UDP and TCP", exposes(final, "53/udp", "53/tcp")},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.ok {
				t.Errorf("Dockerfile fails: %s", c.name)
			}
		})
	}
	t.Run("COPY sources exist", func(t *testing.T) {
		for _, in := range find(final, "COPY") {
			if strings.Contains(in.args, "--from=") {
				continue
			}
			f := strings.Fields(in.args)
			if _, err := os.Stat(filepath.Join(repoRoot, f[len(f)-2])); err != nil {
				t.Errorf("COPY %s: %v", in.args, err)
			}
		}
	})

	// The same go build, flags unchanged, as a dry run (-n): the flags
	// parse and the package builds with CGO off. A real build with
	// -trimpath would recompile everything (its cache keys differ) for
	// minutes on a loaded CI machine; with CGO_ENABLED=0 and Go's internal
	// linker the binary is static by construction.
	m := goBuildRE.FindStringSubmatch(allRuns)
	if m == nil {
		t.Fatal("no go build in the build stage")
	}
	args := shellFields(m[1])
	t.Run("go build flags", func(t *testing.T) {
		if strings.Contains(m[1], "linkmode=external") {
			t.Error("-linkmode=external links with the C toolchain: not static")
		}
		cmd := exec.Command("go", append([]string{"build", "-n"}, args...)...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build -n %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	bin := filepath.Join(t.TempDir(), "addrwalk")
	gb := exec.Command("go", "build", "-o", bin, "./cmd/addrwalk")
	gb.Dir = repoRoot
	if out, err := gb.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("container configuration is valid", func(t *testing.T) {
		out, err := exec.Command(bin, "serve", "--config", filepath.Join(repoRoot, "examples/docker/addrwalk.toml"), "--check-config").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "configuration OK") {
			t.Errorf("--check-config: %v\n%s", err, out)
		}
	})
	t.Run("healthcheck command parses", func(t *testing.T) {
		hc := healthcheck(final)
		// Against a socket that does not exist, a well-formed command
		// fails (exit 3), it is not a usage error (exit 2).
		args := append([]string(nil), hc[1:]...)
		for i, a := range args {
			if strings.HasSuffix(a, ".sock") {
				args[i] = filepath.Join(t.TempDir(), "absent.sock")
			}
		}
		err := exec.Command(bin, args...).Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("healthcheck ran: %v, want exit status 3", err)
		}
		if diff := cmp.Diff(3, ee.ExitCode()); diff != "" {
			t.Errorf("healthcheck exit (-want +got):\n%s", diff)
		}
	})
}

func argsOf(ins []instruction) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.args)
	}
	return out
}

func nonRoot(users []instruction) bool {
	if len(users) == 0 {
		return false
	}
	u, _, _ := strings.Cut(users[len(users)-1].args, ":")
	return u != "root" && u != "0" && u != ""
}

// healthcheck returns the HEALTHCHECK's exec-form command when it runs
// the addrwalk binary, else nil.
func healthcheck(st []instruction) []string {
	hc := find(st, "HEALTHCHECK")
	if len(hc) != 1 {
		return nil
	}
	_, cmd, ok := strings.Cut(hc[0].args, "CMD ")
	if !ok || !strings.HasPrefix(strings.TrimSpace(cmd), "[") {
		return nil
	}
	var out []string
	for _, f := range strings.Split(strings.Trim(strings.TrimSpace(cmd), "[]"), ",") {
		out = append(out, strings.Trim(strings.TrimSpace(f), `"`))
	}
	if len(out) < 2 || filepath.Base(out[0]) != "addrwalk" {
		return nil
	}
	return out
}

func execForm(ins []instruction) bool {
	for _, in := range ins {
		if !strings.HasPrefix(in.args, "[") {
			return false
		}
	}
	return len(ins) > 0
}

func pinnedImages(ins []instruction) bool {
	for _, in := range ins {
		if in.cmd != "FROM" {
			continue
		}
		img := strings.Fields(in.args)[0]
		if img == "scratch" {
			continue
		}
		_, tag, ok := strings.Cut(img[strings.LastIndex(img, "/")+1:], ":")
		if !ok || tag == "latest" {
			return false
		}
	}
	return true
}

var aptInstallRE = regexp.MustCompile(`apt-get install ([^&;]*)`)

func aptClean(runs string) bool {
	for _, m := range aptInstallRE.FindAllStringSubmatch(runs, -1) {
		if !strings.Contains(m[1], "--no-install-recommends") {
			return false
		}
		for _, f := range strings.Fields(m[1]) {
			if !strings.HasPrefix(f, "-") && !strings.Contains(f, "=") {
				return false // an unpinned package
			}
		}
		if !strings.Contains(runs, "rm -rf /var/lib/apt/lists/*") {
			return false
		}
	}
	return true
}

func absWorkdirs(ins []instruction) bool {
	for _, in := range find(ins, "WORKDIR") {
		if !strings.HasPrefix(in.args, "/") {
			return false
		}
	}
	return true
}

func exposes(st []instruction, ports ...string) bool {
	got := strings.Fields(strings.Join(argsOf(find(st, "EXPOSE")), " "))
	for _, p := range ports {
		found := false
		for _, g := range got {
			found = found || g == p
		}
		if !found {
			return false
		}
	}
	return true
}

// shellFields splits a command line as sh does for the simple words of a
// go build command: at blanks outside single or double quotes, quotes
// removed.
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
