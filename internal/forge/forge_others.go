//go:build !linux

package forge

import (
	"errors"
	"net/netip"
)

// Forger is Linux only.
type Forger struct{}

// Open says that raw forging is Linux only.
func Open() (*Forger, error) {
	return nil, errors.New("forge: raw IPv4 forging is supported on Linux only")
}

// Close does nothing.
func (f *Forger) Close() error { return nil }

// Build does nothing.
func (f *Forger) Build(src, dst netip.AddrPort, msg []byte) {}

// Send fails.
func (f *Forger) Send(dst netip.Addr, port, id uint16) error {
	return errors.New("forge: raw IPv4 forging is supported on Linux only")
}
