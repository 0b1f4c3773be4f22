// Package control is addrwalk's control channel, after unbound-control: a
// running `addrwalk serve` listens on a Unix socket and `addrwalk ctl`
// sends it one command per connection (status, stats, reload, the flush
// commands, dump-cache and load-cache, lookup, list-forwards,
// list-local-data, anchors, trace-on, trace-off, trace-dump).
//
// Access is the socket's: it is created mode 0600, the server accepts only
// peers running as its own user or root (SO_PEERCRED on Linux), and the
// client refuses a socket that others may write to or that another user
// owns, so neither side talks to an impostor.
//
// A remote control listener (off unless configured, as unbound's
// control-interface) speaks the same protocol over TLS 1.3 with mutual
// authentication: the client must present a certificate from the control
// channel's own CA (RFC 5280 path validation, extended key usage
// clientAuth, not expired), and checks that the server's certificate,
// from the same CA, names ServerName. Setup makes that CA and both key
// pairs, as unbound-control-setup does.
//
// Wire protocol (one exchange per connection): the client writes one JSON
// Request on a line, then for load-cache the dump text, then closes its
// writing side. The server answers one JSON Response line, then the
// command's output as text until it closes the connection.
//
// Files:
//
//   - socket.go: Listen (mode 0600, stale socket removal) and CheckSocket
//     (the client's ownership and mode checks); peercred_*.go: the peer's
//     uid; owner_*.go: a file's owner (none outside Unix).
//   - protocol.go: Request, Response and the usage text of each command.
//   - server.go: Server, the listener loop and dispatch.
//   - commands.go: what each command does against the Backend.
//   - client.go: Do, the client side.
//   - remote.go: the remote listener's and client's TLS configurations,
//     ListenRemote and DoRemote.
//   - setup.go: Setup, the CA and key pairs of the remote channel.
//   - trace.go: trace-on, trace-off and trace-dump (runtime tracing of a
//     name, kept by the server's Handler).
package control
