//go:build linux

package udpbatch

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// source decodes the address the kernel wrote into sa (n bytes of it):
// the zero AddrPort when it is not an IPv4 or IPv6 address.
func (c *Conn) source(sa *unix.RawSockaddrInet6, n uint32) netip.AddrPort {
	switch {
	case sa.Family == unix.AF_INET && n >= unix.SizeofSockaddrInet4:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port(&sa4.Port))
	case sa.Family == unix.AF_INET6 && n >= unix.SizeofSockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if a.Is4In6() {
			a = a.Unmap()
		} else if sa.Scope_id != 0 {
			a = a.WithZone(c.zone.name(sa.Scope_id))
		}
		return netip.AddrPortFrom(a, port(&sa.Port))
	}
	return netip.AddrPort{}
}

// dest encodes ap into sa for the Conn's socket family: its length, or
// false when the socket cannot send there (an IPv6 address from an IPv4
// socket, or no address). An IPv6 socket sends to IPv4 addresses through
// their IPv4-mapped form.
func (c *Conn) dest(sa *unix.RawSockaddrInet6, ap netip.AddrPort) (uint32, bool) {
	a := ap.Addr()
	switch {
	case !a.IsValid():
		return 0, false
	case c.family == unix.AF_INET:
		if !a.Unmap().Is4() {
			return 0, false
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		setPort(&sa4.Port, ap.Port())
		return unix.SizeofSockaddrInet4, true
	default:
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16(), Scope_id: c.zone.index(a.Zone())}
		setPort(&sa.Port, ap.Port())
		return unix.SizeofSockaddrInet6, true
	}
}

// port reads a port the kernel stores in network byte order.
func port(p *uint16) uint16 { return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(p))[:]) }

func setPort(p *uint16, v uint16) { binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(p))[:], v) }

// zoneCache turns an IPv6 scope (an interface index) into the zone of a
// netip.Addr and back, remembering the last one: link-local clients are
// rare, and one interface's are all alike, so only the first costs a
// lookup of the interface.
type zoneCache struct {
	idx  uint32
	zone string
}

func (z *zoneCache) name(idx uint32) string {
	if idx != z.idx || z.zone == "" {
		z.idx, z.zone = idx, strconv.FormatUint(uint64(idx), 10)
		if ifi, err := net.InterfaceByIndex(int(idx)); err == nil {
			z.zone = ifi.Name
		}
	}
	return z.zone
}

func (z *zoneCache) index(zone string) uint32 {
	switch {
	case zone == "":
		return 0
	case zone == z.zone:
		return z.idx
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// stamp returns the kernel's receive time from a datagram's control
// messages (SCM_TIMESTAMPNS), or the zero time when there is none.
func stamp(oob []byte) time.Time {
	// Each message takes at least a header: at most oobLen/SizeofCmsghdr
	// fit in a datagram's control buffer.
	for range oobLen / unix.SizeofCmsghdr {
		if len(oob) == 0 {
			break
		}
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return time.Time{}
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS {
			switch len(data) {
			case 16: // 64-bit time_t and long
				return time.Unix(int64(binary.NativeEndian.Uint64(data)), int64(binary.NativeEndian.Uint64(data[8:])))
			case 8: // 32-bit systems' timespec
				return time.Unix(int64(int32(binary.NativeEndian.Uint32(data))), int64(int32(binary.NativeEndian.Uint32(data[4:]))))
			}
			return time.Time{}
		}
		oob = rest
	}
	return time.Time{}
}
