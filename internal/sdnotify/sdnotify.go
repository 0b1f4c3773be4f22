// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)): READY=1, RELOADING=1, STOPPING=1, STATUS= and WATCHDOG=1
// datagrams to the socket in $NOTIFY_SOCKET, and the watchdog interval
// from $WATCHDOG_USEC. It is the few lines of the protocol that
// `addrwalk serve` needs, rather than github.com/coreos/go-systemd (whose
// daemon and activation packages are the same protocol and a module more
// in go.mod).
//
// Socket activation (listen.go): ListenFDs reads the sockets systemd
// passes in $LISTEN_FDS, named by $LISTEN_FDNAMES, as
// sd_listen_fds_with_names(3) does (cloexec_*.go: marking them
// close-on-exec, a no-op outside Unix).
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notifier sends notifications to one socket. The zero value, or one made
// outside systemd (no $NOTIFY_SOCKET), does nothing.
type Notifier struct {
	addr string // "" when not under systemd
}

// FromEnv returns the notifier of $NOTIFY_SOCKET.
func FromEnv() *Notifier { return &Notifier{addr: os.Getenv("NOTIFY_SOCKET")} }

// New returns a notifier for the socket at addr ("@name" is an abstract
// socket); tests point it at their own socket.
func New(addr string) *Notifier { return &Notifier{addr: addr} }

// Enabled reports whether notifications go anywhere.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != "" }

// Notify sends the newline-separated assignments in state, such as
// "READY=1\nSTATUS=serving".
func (n *Notifier) Notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	addr := n.addr
	if strings.HasPrefix(addr, "@") {
		addr = "\x00" + addr[1:] // Linux abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// States serve sends.
const (
	Ready     = "READY=1"
	Reloading = "RELOADING=1" // then Ready when the reload is done
	Stopping  = "STOPPING=1"
	Watchdog  = "WATCHDOG=1"
)

// WatchdogInterval returns how often systemd expects WATCHDOG=1 (half its
// WatchdogSec=, as sd_watchdog_enabled(3) advises), or false when the
// watchdog is off or meant for another process.
func WatchdogInterval() (time.Duration, bool) {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond / 2, true
}
