//go:build linux

package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stampSocket asks the kernel to record the receive time of each datagram
// c gets, for lastRx: the first SIOCGSTAMPNS turns the socket's stamping
// on (and finds no stamp yet). Not SO_TIMESTAMPNS: with it the kernel
// hands the stamp over as a control message only, and the ioctl finds
// none.
func stampSocket(c *net.UDPConn) { _, _ = lastRx(c) }

// lastRx is the kernel's receive time of the datagram c read last
// (SIOCGSTAMPNS), false when there is none. A round trip measured to it
// leaves out how long the measuring process took to be scheduled and
// read the reply: under a flood the client shares the CPU with the
// flood's senders, and that wait is not the resolver's.
func lastRx(c *net.UDPConn) (time.Time, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return time.Time{}, false
	}
	var ts unix.Timespec
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, unix.SIOCGSTAMPNS, uintptr(unsafe.Pointer(&ts)))
	}); err != nil || errno != 0 {
		return time.Time{}, false
	}
	return time.Unix(ts.Unix()), true
}

// runQueueWait is how long the threads of pid have waited, runnable, for
// a CPU since they started (the second field of each
// /proc/PID/task/TID/schedstat); false when it cannot be read. The
// difference over a phase says how much of the resolver's latency was
// the machine's CPU, not its own work.
func runQueueWait(pid int) (time.Duration, bool) {
	if pid == 0 {
		return 0, false
	}
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	for _, t := range tasks { // bounded by the process's threads
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				sum += time.Duration(v)
			}
		}
	}
	return sum, true
}
