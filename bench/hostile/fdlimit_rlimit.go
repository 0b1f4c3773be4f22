//go:build linux || darwin

package main

import "syscall"

// raiseFDLimit lifts the soft file-descriptor limit to n (or the hard one).
func raiseFDLimit(n int) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if uint64(n) > l.Cur {
		l.Cur = min(uint64(n), l.Max)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
