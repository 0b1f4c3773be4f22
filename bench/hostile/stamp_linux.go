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

// schedTimes are the CPU time the threads of pid have run, and how long
// they have waited, runnable, for a CPU, since they started (the first
// two fields of each /proc/PID/task/TID/schedstat); false when they
// cannot be read. Their differences over a phase say how much CPU the
// resolver used and how much of its latency was the machine's CPU, not
// its own work.
func schedTimes(pid int) (run, wait time.Duration, ok bool) {
	if pid == 0 {
		return 0, 0, false
	}
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, false
	}
	for _, t := range tasks { // bounded by the process's threads
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		r, err1 := strconv.ParseInt(f[0], 10, 64)
		w, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 == nil && err2 == nil {
			run += time.Duration(r)
			wait += time.Duration(w)
		}
	}
	return run, wait, true
}
