//go:build !linux

package udpbatch

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// MaxBatch is 1: one datagram per call outside Linux.
const MaxBatch = 1

// Conn moves one datagram per call through a net.UDPConn.
type Conn struct{ c *net.UDPConn }

// New returns a Conn on conn; size is ignored (one datagram per call).
func New(conn *net.UDPConn, _ int) (*Conn, error) { return &Conn{c: conn}, nil }

// ReadBatch reads one datagram into ms[0].Buf, waiting for it as conn's
// read does. Without the kernel's MSG_TRUNC flag, a datagram that fills
// the buffer is reported as cut short.
func (c *Conn) ReadBatch(ms []Message) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	m := &ms[0]
	n, ap, err := c.c.ReadFromUDPAddrPort(m.Buf)
	if err != nil {
		return 0, fmt.Errorf("udpbatch: read: %w", err)
	}
	m.N, m.Truncated, m.Received = n, n >= len(m.Buf), time.Time{}
	m.Addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return 1, nil
}

// WriteBatch sends ms[0]: 1, or the error that kept it from being sent.
func (c *Conn) WriteBatch(ms []Message) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	if _, err := c.c.WriteToUDPAddrPort(ms[0].Buf, ms[0].Addr); err != nil {
		return 0, fmt.Errorf("udpbatch: write to %v: %w", ms[0].Addr, err)
	}
	return 1, nil
}
