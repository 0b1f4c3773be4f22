//go:build !linux

package reuseport

import "syscall"

// Supported is false: one UDP socket per address, read by several
// goroutines.
const Supported = false

// Control does nothing here.
func Control(_, _ string, _ syscall.RawConn) error { return nil }
