package resolver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Upstream UDP source ports (RFC 5452 §4.5, §9.2): each query's source
// port is drawn at random from every unprivileged port, 1024-65535, not
// from the kernel's ephemeral range (typically 32768-60999, some 28 000
// ports), as Unbound's outgoing-port-permit does; ports in use by other
// programs (and any the user excludes) are skipped. With a 16-bit ID that
// is close to 32 bits a blind forger must guess.
const (
	// MinSourcePort is the lowest port drawn: ports below are privileged
	// and belong to well-known services.
	MinSourcePort = 1024
	// maxPortTries bounds the draws for one query when the drawn ports are
	// busy (another socket holds them); past it the kernel chooses. With
	// a few thousand busy ports out of 64 000, ten misses in a row happen
	// less than once in 10^12 queries.
	maxPortTries = 10
)

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

// ParsePortRange reads "5353" or "8000-8100".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	if err != nil {
		return PortRange{}, fmt.Errorf("resolver: port range %q: %w", s, err)
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 16); err != nil {
			return PortRange{}, fmt.Errorf("resolver: port range %q: %w", s, err)
		}
	}
	if b < a {
		return PortRange{}, fmt.Errorf("resolver: port range %q: end below start", s)
	}
	return PortRange{uint16(a), uint16(b)}, nil
}

// SourcePorts is the set of ports upstream UDP queries are sent from. It is
// read-only after NewSourcePorts, so safe for concurrent use.
type SourcePorts struct {
	ports []uint16
}

// NewSourcePorts returns the ports 1024-65535 minus exclude. It fails when
// nothing is left.
func NewSourcePorts(exclude []PortRange) (*SourcePorts, error) {
	var skip [65536]bool
	for _, r := range exclude {
		for p := int(r.Lo); p <= int(r.Hi); p++ {
			skip[p] = true
		}
	}
	sp := &SourcePorts{}
	for p := MinSourcePort; p <= 65535; p++ {
		if !skip[p] {
			sp.ports = append(sp.ports, uint16(p))
		}
	}
	if len(sp.ports) == 0 {
		return nil, errors.New("resolver: every source port is excluded")
	}
	return sp, nil
}

// Len is the number of ports drawn from.
func (sp *SourcePorts) Len() int { return len(sp.ports) }

// EntropyBits is log2 of the number of ports: the bits a forger must
// guess besides the 16-bit query ID.
func (sp *SourcePorts) EntropyBits() float64 { return math.Log2(float64(len(sp.ports))) }

// pick draws a port. math/rand/v2's top-level functions use a ChaCha8
// generator seeded from the operating system, so draws are unpredictable.
func (sp *SourcePorts) pick() uint16 { return sp.ports[rand.IntN(len(sp.ports))] }

// udpConn is an upstream UDP socket connected to one server: a
// *net.UDPConn, or on Linux a rawUDP (udpsock_linux.go).
type udpConn interface {
	Write(b []byte) (int, error)
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	LocalAddr() net.Addr
	Close() error
}

// dialUDP opens a UDP socket connected to server from a random port of sp
// (nil sp: the kernel's choice). A busy port is drawn again, up to
// maxPortTries times; then the kernel chooses. A nil d (NetExchanger's
// default) opens it with raw system calls where that is built (Linux:
// rawUDP, four system calls fewer per query), else with net.DialUDP,
// which takes the addresses as they are: net.Dialer formats the server's
// address and parses it back, and runs its dial machinery, 600 bytes and
// a tenth of a cache miss's CPU (#11).
func dialUDP(ctx context.Context, d *net.Dialer, sp *SourcePorts, server netip.AddrPort) (udpConn, error) {
	if d == nil {
		if sp != nil {
			for range maxPortTries {
				c, err := dialDefault(sp.pick(), server)
				if err == nil || !portBusy(err) {
					return c, err
				}
			}
		}
		return dialDefault(0, server)
	}
	if sp == nil {
		return asUDP(d.DialContext(ctx, "udp", server.String()))
	}
	for range maxPortTries {
		dd := *d
		var ip net.IP
		if la, ok := d.LocalAddr.(*net.UDPAddr); ok && la != nil {
			ip = la.IP
		}
		dd.LocalAddr = &net.UDPAddr{IP: ip, Port: int(sp.pick())}
		c, err := dd.DialContext(ctx, "udp", server.String())
		if err == nil {
			return asUDP(c, nil)
		}
		if !portBusy(err) {
			return nil, err
		}
	}
	return asUDP(d.DialContext(ctx, "udp", server.String()))
}

// portBusy reports a bind that failed because the drawn port is taken
// (or not ours to take): another is drawn.
func portBusy(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES)
}

// dialDefault opens a socket from port (0: the kernel's choice)
// connected to server: a rawUDP where built and usable, else
// net.DialUDP.
func dialDefault(port uint16, server netip.AddrPort) (udpConn, error) {
	c, ok, err := dialRawUDP(port, server)
	switch {
	case err != nil:
		return nil, err
	case ok:
		return c, nil
	}
	var laddr *net.UDPAddr
	if port != 0 {
		laddr = &net.UDPAddr{Port: int(port)}
	}
	uc, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, err
	}
	return uc, nil
}

// asUDP is the UDP socket a net.Dialer returned for "udp".
func asUDP(c net.Conn, err error) (udpConn, error) {
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}
