//go:build linux

package netlab

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStale: which namespace names a lab removes, with a fake process
// table.
func TestStale(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	live := owner{pid: 4242, start: 777}
	alive := func(o owner) bool { return o == live }
	tests := []struct {
		name    string
		ns      string
		created time.Time
		want    bool
	}{
		{"owner running", "aw-0a1b2c-4242-777-h1", now, false},
		{"owner gone", "aw-0a1b2c-5151-777-h1", now, true},
		{"PID reused by a later process", "aw-0a1b2c-4242-778-br", now, true},
		{"owner gone, just created: still stale", "aw-0a1b2c-5151-777-br", now.Add(-time.Second), true},
		{"legacy name, recent: its run may be going on", "aw-0a1b2c-h1", now.Add(-59 * time.Minute), false},
		{"legacy name, over an hour old", "aw-0a1b2c-br", now.Add(-61 * time.Minute), true},
		{"legacy name, age unknown", "aw-0a1b2c-h2", time.Time{}, false},
		{"benchmark script's namespace", "aw-hostile-1234-5678", now.Add(-24 * time.Hour), false},
		{"interop's namespace", "aw-interop-99", now.Add(-24 * time.Hour), false},
		{"someone else's namespace", "blue", now.Add(-24 * time.Hour), false},
		{"PID too large to parse", "aw-0a1b2c-99999999999999999999-1-h1", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stale(tt.ns, tt.created, now, alive); got != tt.want {
				t.Errorf("stale(%q) = %v, want %v", tt.ns, got, tt.want)
			}
		})
	}
}

// TestStartTime: this process's start time reads back, and an owner
// made from it is running; the same PID with another start time is not.
func TestStartTime(t *testing.T) {
	o, err := self()
	if err != nil {
		t.Fatal(err)
	}
	if !running(o) {
		t.Errorf("running(self %+v) = false", o)
	}
	if running(owner{pid: o.pid, start: o.start + 1}) {
		t.Errorf("running(self with another start time) = true")
	}
}

// TestSweep: a lab removes the namespaces of test processes that are
// gone (killed, or a PID since reused) and keeps those of running ones
// and every other name. Other labs may sweep at the same time, so what
// is checked is what exists afterwards.
func TestSweep(t *testing.T) {
	Require(t)
	me, err := self()
	if err != nil {
		t.Fatal(err)
	}
	// A process that ran and is gone: its PID and start time.
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	start, err := startTime(child.Process.Pid)
	_ = child.Process.Kill()
	_ = child.Wait()
	if err != nil {
		t.Fatal(err)
	}
	dead := owner{pid: child.Process.Pid, start: start}

	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	rnd := hex.EncodeToString(b[:])
	names := map[string]bool{ // name: kept by the sweep
		dead.prefix(rnd) + "h1": false,
		owner{pid: me.pid, start: me.start + 1}.prefix(rnd) + "br": false,
		me.prefix(rnd) + "h2": true,
		"aw-hostile-" + rnd:   true,
	}
	for name := range names {
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	}
	gone, err := sweep(time.Now(), running)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(gone, me.prefix(rnd)+"h2") {
		t.Errorf("swept its own running process's namespace: %v", gone)
	}
	want, got := map[string]bool{}, map[string]bool{}
	for name, kept := range names {
		want[name] = kept
		_, err := os.Stat("/var/run/netns/" + name)
		got[name] = err == nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("namespaces left after the sweep (-want +got):\n%s", diff)
	}
}
