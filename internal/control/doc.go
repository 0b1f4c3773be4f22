// Package control is addrwalk's control channel, after unbound-control: a
// running `addrwalk serve` listens on a Unix socket and `addrwalk ctl`
// sends it one command per connection (status, stats, reload, the flush
// commands, dump-cache and load-cache, lookup, list-forwards,
// list-local-data, anchors).
//
// Access is the socket's: it is created mode 0600, the server accepts only
// peers running as its own user or root (SO_PEERCRED on Linux), and the
// client refuses a socket that others may write to or that another user
// owns, so neither side talks to an impostor.
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
//     uid.
//   - protocol.go: Request, Response and the usage text of each command.
//   - server.go: Server, the listener loop and dispatch.
//   - commands.go: what each command does against the Backend.
//   - client.go: Do, the client side.
package control
