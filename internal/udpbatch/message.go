package udpbatch

import (
	"net/netip"
	"time"
)

// Message is one datagram of a batch.
type Message struct {
	// Buf is, for a read, the room for the datagram (its length, not its
	// capacity); for a write, the datagram.
	Buf []byte
	// N is how many bytes of Buf a read filled.
	N int
	// Addr is the source of a datagram read (an IPv4-mapped source of an
	// IPv6 socket is unmapped) and the destination of one written.
	Addr netip.AddrPort
	// Truncated: the datagram read was longer than Buf, and the kernel
	// dropped the rest.
	Truncated bool
	// Received is the kernel's receive time of a datagram read: wall
	// clock, zero unless the socket stamps datagrams (SO_TIMESTAMPNS).
	Received time.Time
}
