package arptrace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// lookupInterface finds an interface by name and checks it can carry ARP:
// it must exist, not be loopback, be up, and have a 6-byte Ethernet address.
func lookupInterface(name string) (Interface, error) {
	ifi, err := InterfaceByName(name)
	if err != nil {
		return Interface{}, err
	}
	return checkInterface(ifi)
}

func checkInterface(ifi *net.Interface) (Interface, error) {
	if ifi.Flags&net.FlagLoopback != 0 {
		return Interface{}, fmt.Errorf("%w %s: loopback has no link layer, ARP is never used there", ErrInterface, ifi.Name)
	}
	mac, ok := MACFrom(ifi.HardwareAddr)
	if !ok {
		return Interface{}, fmt.Errorf("%w %s: not an Ethernet interface (hardware address %q), ARP needs Ethernet",
			ErrInterface, ifi.Name, ifi.HardwareAddr.String())
	}
	if ifi.Flags&net.FlagUp == 0 {
		return Interface{}, fmt.Errorf("%w %s: it is down ('ip link set %s up' brings it up)", ErrInterface, ifi.Name, ifi.Name)
	}
	out := Interface{Name: ifi.Name, Index: ifi.Index, MAC: mac}
	addrs, err := ifi.Addrs()
	if err != nil {
		return Interface{}, fmt.Errorf("arptrace: addresses of %s: %w", ifi.Name, err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok || !ip.Unmap().Is4() {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out.Addrs = append(out.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}

// interfaceWithAddr names the non-loopback interface holding ip.
func interfaceWithAddr(ip netip.Addr) (string, bool) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", false
	}
	for i := range ifs {
		if ifs[i].Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifs[i].Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if x, ok := netip.AddrFromSlice(ipn.IP); ok && x.Unmap() == ip {
					return ifs[i].Name, true
				}
			}
		}
	}
	return "", false
}

// sourceFor picks the interface address on the same subnet as dst, else the
// first IPv4 address, else 0.0.0.0 (an interface without IPv4 can still
// probe, as RFC 5227 does).
func (i Interface) sourceFor(dst netip.Addr) netip.Addr {
	for _, p := range i.Addrs {
		if p.Contains(dst) {
			return p.Addr()
		}
	}
	if len(i.Addrs) > 0 {
		return i.Addrs[0].Addr()
	}
	return netip.IPv4Unspecified()
}

// link is a raw ARP socket on one interface. Implementations are
// platform specific (link_linux.go).
type link interface {
	send(f Frame) error
	// recv returns the next ARP frame not sent by this host, or an error
	// wrapping os.ErrDeadlineExceeded at deadline, or ctx's error.
	recv(ctx context.Context, deadline time.Time) (Frame, time.Time, error)
	// dropped is how many frames the kernel dropped on the socket.
	dropped() (int, error)
	close() error
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
