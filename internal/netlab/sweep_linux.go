//go:build linux

package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A lab's namespaces carry their creator in their names,
// aw-<random>-<pid>-<start>-<short>, where start is the creating
// process's start time (/proc/PID/stat, clock ticks since boot), so that
// a reused PID is not taken for the creator. A test run killed before its
// cleanups (a timeout's SIGQUIT, a kill -9) leaves its namespaces behind;
// the next lab to start removes those whose creator is gone. Namespaces
// of a creator still running, in any worktree, are never touched, nor
// are names of any other form (the benchmark scripts' aw-hostile-...,
// aw-interop-..., aw-bench-...), except netlab's names from before the
// owner was recorded (aw-<random>-<short>), once older than
// legacyStaleAge.
var (
	ownedName  = regexp.MustCompile(`^aw-[0-9a-f]{6}-([0-9]+)-([0-9]+)-`)
	legacyName = regexp.MustCompile(`^aw-[0-9a-f]{6}-[a-z][a-z0-9]*$`)
)

// legacyStaleAge is how old a namespace named without its owner must be
// before a lab removes it: no test holds a lab that long (go test's
// default timeout is 10 minutes, and the whole CI run takes under 25).
const legacyStaleAge = time.Hour

// owner is what a lab's namespace names record of their creator.
type owner struct {
	pid   int
	start uint64
}

// self is this process as owner: its PID and start time.
func self() (owner, error) {
	pid := os.Getpid()
	start, err := startTime(pid)
	if err != nil {
		return owner{}, err
	}
	return owner{pid: pid, start: start}, nil
}

// prefix is the name prefix of a lab with random part rnd owned by o.
func (o owner) prefix(rnd string) string {
	return fmt.Sprintf("aw-%s-%d-%d-", rnd, o.pid, o.start)
}

// startTime reads the start time of pid (field 22 of /proc/PID/stat,
// counted after the command name, which may hold spaces and parentheses).
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("netlab: %w", err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("netlab: /proc/%d/stat: no command name", pid)
	}
	// After ") " come fields 3 onwards: the start time is field 22.
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("netlab: /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("netlab: /proc/%d/stat start time: %w", pid, err)
	}
	return v, nil
}

// running reports whether o is a process running now: its PID exists and
// started when the name says.
func running(o owner) bool {
	start, err := startTime(o.pid)
	return err == nil && start == o.start
}

// stale says whether the namespace name, created at created, is one a
// lab left behind: its owner is not running (per alive), or a legacy
// name older than legacyStaleAge at now.
func stale(name string, created, now time.Time, alive func(owner) bool) bool {
	if m := ownedName.FindStringSubmatch(name); m != nil {
		pid, err1 := strconv.Atoi(m[1])
		start, err2 := strconv.ParseUint(m[2], 10, 64)
		return err1 == nil && err2 == nil && !alive(owner{pid: pid, start: start})
	}
	return legacyName.MatchString(name) && !created.IsZero() && now.Sub(created) > legacyStaleAge
}

// listNamespaces returns the names `ip netns list` prints.
func listNamespaces() ([]string, error) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("netlab: list namespaces: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") { // one line per namespace
		if name, _, _ := strings.Cut(strings.TrimSpace(line), " "); name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

// sweep deletes the namespaces labs left behind (stale) and returns their
// names. Two labs may sweep at once: a namespace another already deleted
// is not an error.
func sweep(now time.Time, alive func(owner) bool) ([]string, error) {
	names, err := listNamespaces()
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, name := range names {
		var created time.Time
		if fi, err := os.Stat("/var/run/netns/" + name); err == nil {
			created = fi.ModTime()
		}
		if !stale(name, created, now, alive) {
			continue
		}
		out, err := exec.Command("ip", "netns", "del", name).CombinedOutput()
		if err != nil {
			if _, serr := os.Stat("/var/run/netns/" + name); os.IsNotExist(serr) {
				continue // another lab swept it first
			}
			return gone, fmt.Errorf("netlab: delete stale namespace %s: %w: %s", name, err, out)
		}
		gone = append(gone, name)
	}
	return gone, nil
}
