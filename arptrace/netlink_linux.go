//go:build linux

package arptrace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"
)

// clockTick is the unit of the kernel's neighbour cache info (USER_HZ).
const clockTick = 10 * time.Millisecond

// dialNetlink opens an rtnetlink socket whose reads honour ctx.
func dialNetlink(ctx context.Context) (*rtnetlink.Conn, func(), error) {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("arptrace: dial rtnetlink: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Unix(1, 0)) })
	return c, func() { stop(); _ = c.Close() }, nil
}

// Route asks the kernel which interface, source address and next hop it
// would use to reach dst (like `ip route get`).
func Route(ctx context.Context, dst netip.Addr) (RouteInfo, error) {
	if !dst.IsValid() || dst.IsUnspecified() || dst.IsMulticast() {
		return RouteInfo{}, InvalidAddressf("arptrace", "%v is not a unicast address", dst)
	}
	family, bits := uint8(unix.AF_INET), uint8(32)
	if dst.Is6() {
		family, bits = unix.AF_INET6, 128
	}
	if err := ctx.Err(); err != nil {
		return RouteInfo{}, fmt.Errorf("arptrace: route: %w", err)
	}
	c, done, err := dialNetlink(ctx)
	if err != nil {
		return RouteInfo{}, err
	}
	defer done()
	req := &rtnetlink.RouteMessage{
		Family:    family,
		DstLength: bits,
		Attributes: rtnetlink.RouteAttributes{
			Dst: net.IP(dst.AsSlice()),
		},
	}
	msgs, err := c.Route.Get(req)
	if err != nil {
		if ctx.Err() != nil {
			return RouteInfo{}, fmt.Errorf("arptrace: route to %v: %w", dst, ctx.Err())
		}
		if errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EHOSTUNREACH) {
			return RouteInfo{}, fmt.Errorf("%w to %v: %w", ErrNoRoute, dst, err)
		}
		return RouteInfo{}, fmt.Errorf("arptrace: route to %v: %w", dst, err)
	}
	if len(msgs) == 0 {
		return RouteInfo{}, fmt.Errorf("%w to %v", ErrNoRoute, dst)
	}
	m := msgs[0]
	ri := RouteInfo{Destination: dst, Index: int(m.Attributes.OutIface), Type: routeTypeName(m.Type)}
	if a, ok := netip.AddrFromSlice(m.Attributes.Src); ok {
		ri.Source = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(m.Attributes.Gateway); ok {
		ri.Gateway = a.Unmap()
	}
	ri.OnLink = !ri.Gateway.IsValid()
	ri.NextHop = dst
	if !ri.OnLink {
		ri.NextHop = ri.Gateway
	}
	if ri.Index > 0 {
		if ifi, err := net.InterfaceByIndex(ri.Index); err == nil {
			ri.Interface = ifi.Name
		}
	}
	return ri, nil
}

func routeTypeName(t uint8) string {
	switch t {
	case unix.RTN_UNICAST:
		return "unicast"
	case unix.RTN_LOCAL:
		return "local"
	case unix.RTN_BROADCAST:
		return "broadcast"
	case unix.RTN_MULTICAST:
		return "multicast"
	case unix.RTN_UNREACHABLE:
		return "unreachable"
	case unix.RTN_BLACKHOLE:
		return "blackhole"
	case unix.RTN_PROHIBIT:
		return "prohibit"
	default:
		return fmt.Sprintf("type%d", t)
	}
}

// Neighbours reads the kernel's IPv4 neighbour table, like `ip -4 neigh
// show nud all`. An empty ifaceName means every interface.
func Neighbours(ctx context.Context, ifaceName string) ([]Neighbour, error) {
	return neighbours(ctx, ifaceName, unix.AF_INET)
}

// Neighbours6 reads the kernel's IPv6 neighbour (ND) table, like `ip -6
// neigh show nud all`. An empty ifaceName means every interface.
func Neighbours6(ctx context.Context, ifaceName string) ([]Neighbour, error) {
	return neighbours(ctx, ifaceName, unix.AF_INET6)
}

func neighbours(ctx context.Context, ifaceName string, family uint8) ([]Neighbour, error) {
	idx := 0
	if ifaceName != "" {
		ifi, err := InterfaceByName(ifaceName)
		if err != nil {
			return nil, err
		}
		idx = ifi.Index
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("arptrace: neighbours: %w", err)
	}
	c, done, err := dialNetlink(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	msgs, err := c.Neigh.List()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("arptrace: neighbours: %w", ctx.Err())
		}
		return nil, fmt.Errorf("arptrace: list neighbours: %w", err)
	}
	names := map[int]string{}
	var out []Neighbour
	for _, m := range msgs {
		if m.Family != uint16(family) || m.Attributes == nil {
			continue
		}
		if idx != 0 && int(m.Index) != idx {
			continue
		}
		ip, ok := netip.AddrFromSlice(m.Attributes.Address)
		if !ok {
			continue
		}
		n := Neighbour{
			IP: ip.Unmap(), Index: int(m.Index), StateBits: m.State, State: NUDStateName(m.State),
			Router: m.Flags&unix.NTF_ROUTER != 0,
		}
		if mac, ok := MACFrom(m.Attributes.LLAddress); ok {
			n.MAC, n.HasMAC = mac, true
		}
		if ci := m.Attributes.CacheInfo; ci != nil {
			n.Ages = &NeighbourAges{Confirmed: Millis(time.Duration(ci.Confirmed) * clockTick),
				Used: Millis(time.Duration(ci.Used) * clockTick), Updated: Millis(time.Duration(ci.Updated) * clockTick)}
		}
		name, ok := names[n.Index]
		if !ok {
			if ifi, err := net.InterfaceByIndex(n.Index); err == nil {
				name = ifi.Name
			}
			names[n.Index] = name
		}
		n.Interface = name
		out = append(out, n)
	}
	sortNeighbours(out)
	return out, nil
}
