// Package reuseport lets several UDP sockets share one address
// (SO_REUSEPORT, Linux): the kernel spreads clients over them, so each
// socket can have a reader of its own. serve's UDP listeners
// (server/server.go) and the benchmark's echo ceiling (bench/udpecho) use
// it alike.
//
// Files: reuseport_linux.go (the socket option), reuseport_others.go
// (elsewhere: one socket per address).
package reuseport
