//go:build !linux

package resolver

import "net/netip"

// rawUDP is Linux's (udpsock_linux.go); elsewhere net.DialUDP opens
// every upstream UDP socket.
type rawUDP struct{ udpConn }

// dialRawUDP reports that the raw socket is not available (ok false).
func dialRawUDP(uint16, netip.AddrPort) (*rawUDP, bool, error) { return nil, false, nil }
