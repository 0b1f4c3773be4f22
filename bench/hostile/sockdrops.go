package main

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// udpDrops sums the kernel's drop counter (the last column of
// /proc/net/udp: datagrams that arrived while the socket's receive buffer
// was full) over the UDP sockets bound to target, the resolver's
// listeners (several with SO_REUSEPORT). -1 when it cannot be read (not
// Linux, IPv6 target). The file is per network namespace: the caller runs
// in the resolver's.
func udpDrops(target netip.AddrPort) int64 {
	if !target.Addr().Is4() {
		return -1
	}
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return -1
	}
	// local_address is the IPv4 address as a host-order (little-endian
	// on the machines this runs on) hex word, then the port in hex.
	ip := target.Addr().As4()
	want := strings.ToUpper(hex.EncodeToString(binary.LittleEndian.AppendUint32(nil, binary.BigEndian.Uint32(ip[:])))) +
		":" + strings.ToUpper(strconv.FormatUint(uint64(target.Port())|0x10000, 16)[1:])
	var sum int64
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 13 || f[1] != want {
			continue
		}
		n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err == nil {
			sum += n
		}
	}
	return sum
}
