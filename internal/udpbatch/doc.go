// Package udpbatch reads and writes UDP datagrams in batches, allocating
// nothing per datagram: the one socket layer of addrwalk serve's UDP
// listeners (and of bench/udpecho, the ceiling they are measured against).
//
// On Linux a batch is one recvmmsg(2) or sendmmsg(2) system call over
// headers, I/O vectors, socket addresses and control-message buffers that
// a Conn allocates once; the calls run inside syscall.RawConn's Read and
// Write callbacks, so a reader with nothing to read parks in the runtime's
// network poller (EAGAIN), deadlines and Close work as on a net.UDPConn,
// and nothing spins. Each datagram read carries its source address
// (IPv4-mapped sources of an IPv6 socket unmapped), whether the kernel cut
// it short (MSG_TRUNC), and the kernel's receive time when the socket has
// SO_TIMESTAMPNS on (socket(7)). golang.org/x/net's ipv4.PacketConn
// ReadBatch, which this replaces, allocated twice per datagram for its
// net.Addr.
//
// Elsewhere the same API moves one datagram per call through net.UDPConn
// (no receive times; a datagram that fills its buffer is reported as cut
// short, since the flag is not portable).
//
// Files: message.go (Message, the API both implementations share);
// conn_linux.go (Conn: recvmmsg, sendmmsg, the callbacks); sockaddr_linux.go
// (socket addresses and control messages to and from their kernel form);
// conn_others.go (the portable Conn).
package udpbatch
