// Package listenerr words a failed bind or listen for the person who
// configured the address: "cannot listen on udp 127.0.0.1:53: the port is
// in use by another program", not Go's "listen udp 127.0.0.1:53: bind:
// address already in use". The wrapped error stays reachable with
// errors.Is and errors.As (syscall.EADDRINUSE, *net.OpError).
//
// Files:
//   - listenerr.go: Wrap and the errno → words table.
package listenerr
