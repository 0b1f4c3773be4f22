//go:build !linux

package main

import (
	"net"
	"time"
)

// stampSocket does nothing: the kernel's receive stamps are read on Linux
// only.
func stampSocket(*net.UDPConn) {}

// lastRx has no stamp to give outside Linux: round trips are measured to
// the read.
func lastRx(*net.UDPConn) (time.Time, bool) { return time.Time{}, false }

// schedTimes is Linux's schedstat; unknown elsewhere.
func schedTimes(int) (run, wait time.Duration, ok bool) { return 0, 0, false }
