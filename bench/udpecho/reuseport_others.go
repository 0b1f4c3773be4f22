//go:build !linux

package main

import "syscall"

// reusePort is false: one socket, as serve's UDP listener elsewhere (its
// reuseport_others.go); -sockets is then 1. The program builds
// everywhere, but the ceiling bench/peers.sh measures is Linux's.
const reusePort = false

func reusePortControl(_, _ string, _ syscall.RawConn) error { return nil }
