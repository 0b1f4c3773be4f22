//go:build !linux

package server

import "syscall"

// reusePort is false: one UDP socket per address, read by several
// goroutines.
const reusePort = false

func reusePortControl(_, _ string, _ syscall.RawConn) error { return nil }
