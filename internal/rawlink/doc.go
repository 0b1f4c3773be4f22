// Package rawlink is the one raw Ethernet link arptrace and ndptrace send
// and receive frames on: an AF_PACKET SOCK_RAW socket (packet(7)) bound to
// an interface and an EtherType, with an optional classic BPF filter that
// keeps unwanted frames in the kernel, context cancellation for a
// deadline-only socket, and a bounded receive loop that skips this host's
// own frames and those the caller does not accept.
//
// It needs CAP_NET_RAW; IsPermission tells that error apart so callers can
// print the setcap hint. Linux only: the packages that use it have their
// own stubs for other systems.
//
// Files: link_linux.go (Open, Link: send, receive, drops, close);
// after.go (what every probe does after the wire: CloseAfter closes the
// link keeping the probe's error, AfterProbe reads the neighbour cache even
// when the probe was interrupted).
package rawlink
