package sdnotify

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// listenFDsStart is the first descriptor systemd passes (SD_LISTEN_FDS_START
// in sd-daemon.h): 0-2 are stdin, stdout and stderr.
const listenFDsStart = 3

// maxListenFDs bounds the descriptors accepted from $LISTEN_FDS: a
// resolver has a handful of listeners (UDP and TCP per address, DoT, DoH);
// a larger number is a broken environment, not sockets to adopt.
const maxListenFDs = 256

// ListenFile is one socket passed by systemd socket activation, with the
// name its unit's FileDescriptorName= gave it ("unknown" when unnamed).
type ListenFile struct {
	Name string
	File *os.File
}

// ErrListenEnv is wrapped by ListenFDs's errors: the LISTEN_* variables
// are set for this process but are not consistent.
var ErrListenEnv = errors.New("sdnotify: bad socket activation environment")

// ListenFDs returns the sockets systemd passed to the process with pid
// (sd_listen_fds_with_names(3)): $LISTEN_FDS descriptors from 3 on, named
// by the colon-separated $LISTEN_FDNAMES. It returns nothing when
// $LISTEN_PID is unset or names another process (the variables were
// inherited, not meant for us). The descriptors are marked close-on-exec.
// lookupEnv is os.LookupEnv outside tests; the caller unsets the
// variables (UnsetListenEnv) so that children do not see them.
func ListenFDs(lookupEnv func(string) (string, bool), pid int) ([]ListenFile, error) {
	names, err := listenNames(lookupEnv, pid)
	if err != nil {
		return nil, err
	}
	files := make([]ListenFile, 0, len(names))
	for i, name := range names {
		fd := listenFDsStart + i
		closeOnExec(fd)
		files = append(files, ListenFile{Name: name, File: os.NewFile(uintptr(fd), "systemd:"+name)})
	}
	return files, nil
}

// listenNames returns the names of the descriptors passed to pid, one per
// descriptor, or nil when none were.
func listenNames(lookupEnv func(string) (string, bool), pid int) ([]string, error) {
	ps, _ := lookupEnv("LISTEN_PID")
	if ps == "" {
		return nil, nil
	}
	p, err := strconv.Atoi(ps)
	if err != nil {
		return nil, fmt.Errorf("%w: LISTEN_PID=%q is not a process ID (a whole number)", ErrListenEnv, ps)
	}
	if p != pid {
		return nil, nil
	}
	ns, _ := lookupEnv("LISTEN_FDS")
	n, err := strconv.Atoi(ns)
	if err != nil || n < 0 || n > maxListenFDs {
		return nil, fmt.Errorf("%w: LISTEN_FDS=%q is not a count from 0 to %d", ErrListenEnv, ns, maxListenFDs)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "unknown" // sd_listen_fds_with_names's name for unnamed sockets
	}
	if v, ok := lookupEnv("LISTEN_FDNAMES"); ok {
		given := strings.Split(v, ":")
		if len(given) != n {
			return nil, fmt.Errorf("%w: LISTEN_FDNAMES has %d names for %d descriptors", ErrListenEnv, len(given), n)
		}
		copy(names, given)
	}
	return names, nil
}

// UnsetListenEnv removes the socket activation variables from the
// environment, as sd_listen_fds(1) does with unset_environment, so that
// processes we start do not take the sockets for theirs.
func UnsetListenEnv() {
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		_ = os.Unsetenv(k)
	}
}
