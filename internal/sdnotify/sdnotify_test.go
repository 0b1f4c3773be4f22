package sdnotify

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := New(path)
	for _, msg := range []string{Ready + "\nSTATUS=serving", Reloading, Stopping, Watchdog} {
		if err := n.Notify(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256)
		_ = l.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := l.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:k]); got != msg {
			t.Errorf("got %q, want %q", got, msg)
		}
	}
	if err := New("").Notify("READY=1"); err != nil {
		t.Errorf("no socket: %v", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if d, ok := WatchdogInterval(); !ok || d != 15*time.Second {
		t.Errorf("got %v %v, want 15s", d, ok)
	}
	t.Setenv("WATCHDOG_PID", "1")
	if _, ok := WatchdogInterval(); ok {
		t.Error("watchdog meant for another process is on")
	}
	t.Setenv("WATCHDOG_USEC", "")
	if _, ok := WatchdogInterval(); ok {
		t.Error("watchdog on without WATCHDOG_USEC")
	}
}

func TestListenNames(t *testing.T) {
	const pid = 4242
	tests := []struct {
		name    string
		env     map[string]string
		want    []string
		wantErr bool
	}{
		{"not activated", nil, nil, false},
		{"meant for another process", map[string]string{"LISTEN_PID": "1", "LISTEN_FDS": "2"}, nil, false},
		{"unnamed", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2"}, []string{"unknown", "unknown"}, false},
		{"named", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "3", "LISTEN_FDNAMES": "dns:dns:dot"},
			[]string{"dns", "dns", "dot"}, false},
		{"zero descriptors", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "0"}, []string{}, false},
		{"empty name kept", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "1", "LISTEN_FDNAMES": ""}, []string{""}, false},
		{"names and count disagree", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "dns"}, nil, true},
		{"bad pid", map[string]string{"LISTEN_PID": "x", "LISTEN_FDS": "1"}, nil, true},
		{"missing count", map[string]string{"LISTEN_PID": "4242"}, nil, true},
		{"negative count", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "-1"}, nil, true},
		{"absurd count", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "100000"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			got, err := listenNames(lookup, pid)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrListenEnv) {
				t.Errorf("err = %v, want ErrListenEnv", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}
