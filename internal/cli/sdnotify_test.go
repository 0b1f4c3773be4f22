package cli

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/internal/sdnotify"
)

// TestServeNotifiesSystemd checks the Type=notify protocol: READY=1 once
// serving, RELOADING=1 then READY=1 around a reload, STOPPING=1 on the
// way out.
func TestServeNotifiesSystemd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	next := func() string {
		t.Helper()
		buf := make([]byte, 512)
		_ = l.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := l.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	lab := startServeLab(t)
	s := startServeWith(t, lab, "", func(c *ServeCmd) { c.notify = sdnotify.New(path) })
	if got := next(); !strings.HasPrefix(got, "READY=1\nSTATUS=serving on ") {
		t.Errorf("first notification %q", got)
	}
	if code, _, errOut := s.ctl(t, "", "reload"); code != ExitOK {
		t.Fatal(errOut)
	}
	if got := next(); got != "RELOADING=1" {
		t.Errorf("reload starts with %q", got)
	}
	if got := next(); !strings.HasPrefix(got, "READY=1") {
		t.Errorf("reload ends with %q", got)
	}
	s.cancel()
	if got := next(); got != "STOPPING=1" {
		t.Errorf("shutdown notification %q", got)
	}
}
