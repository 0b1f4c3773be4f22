package ndptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/ndp"

	"github.com/addrwalk/addrwalk/arptrace"
)

// Ethernet and IPv6 header layout (RFC 2464, RFC 8200).
const (
	etherTypeIPv6 = 0x86dd
	ethHeaderLen  = 14
	ipv6HeaderLen = 40
	protoICMPv6   = 58
	// ndHopLimit: RFC 4861 7.1.1 — a receiver drops ND messages whose hop
	// limit is not 255, proof that they were not forwarded.
	ndHopLimit = 255
)

// ICMPv6 types the links listen for (RFC 4861 section 4.4, RFC 4443 4.2).
const (
	icmpNA        = 136
	icmpEchoReply = 129
)

// ErrNotNA means a frame is not an Ethernet/IPv6 Neighbor Advertisement.
var ErrNotNA = errors.New("ndptrace: not a neighbor advertisement")

// Frame is one Neighbor Solicitation or Advertisement as on the wire.
type Frame struct {
	EthDst arptrace.MAC `json:"eth_dst"`
	EthSrc arptrace.MAC `json:"eth_src"`
	Src    netip.Addr   `json:"src"` // IPv6 source (:: for DAD)
	Dst    netip.Addr   `json:"dst"` // IPv6 destination
	// Type is "NS" or "NA".
	Type   string     `json:"type"`
	Target netip.Addr `json:"target"`
	// Router, Solicited, Override are an NA's R, S and O flags.
	Router    bool `json:"router,omitempty"`
	Solicited bool `json:"solicited,omitempty"`
	Override  bool `json:"override,omitempty"`
	// LLAddr is the link-layer address option: source (SLLA) in an NS,
	// target (TLLA) in an NA; zero when absent.
	LLAddr arptrace.MAC `json:"lladdr,omitzero"`
}

// MulticastMAC is the Ethernet address of IPv6 multicast address a
// (RFC 2464 section 7): 33:33 and the address's last four bytes.
func MulticastMAC(a netip.Addr) arptrace.MAC {
	b := a.As16()
	return arptrace.MAC{0x33, 0x33, b[12], b[13], b[14], b[15]}
}

// EncodeNS builds an Ethernet frame carrying a Neighbor Solicitation for
// f.Target from f.Src to f.Dst; a zero LLAddr leaves out the source
// link-layer option (as DAD must).
func EncodeNS(f Frame) ([]byte, error) {
	m := &ndp.NeighborSolicitation{TargetAddress: f.Target}
	if !f.LLAddr.IsZero() {
		m.Options = []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: f.LLAddr.HardwareAddr()}}
	}
	return encode(f, m)
}

// EncodeNA builds an Ethernet frame carrying a Neighbor Advertisement
// (used by tests to play a neighbour).
func EncodeNA(f Frame) ([]byte, error) {
	m := &ndp.NeighborAdvertisement{TargetAddress: f.Target, Router: f.Router, Solicited: f.Solicited, Override: f.Override}
	if !f.LLAddr.IsZero() {
		m.Options = []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: f.LLAddr.HardwareAddr()}}
	}
	return encode(f, m)
}

func encode(f Frame, m ndp.Message) ([]byte, error) {
	if !f.Src.Is6() || !f.Dst.Is6() {
		return nil, fmt.Errorf("ndptrace: encode: %v and %v must be IPv6", f.Src, f.Dst)
	}
	body, err := ndp.MarshalMessageChecksum(m, f.Src, f.Dst)
	if err != nil {
		return nil, fmt.Errorf("ndptrace: encode: %w", err)
	}
	return envelope(f, ndHopLimit, body), nil
}

// envelope puts an ICMPv6 message in an IPv6 header (hop limit hops) and
// an Ethernet header, addressed as f says.
func envelope(f Frame, hops uint8, body []byte) []byte {
	b := make([]byte, ethHeaderLen+ipv6HeaderLen, ethHeaderLen+ipv6HeaderLen+len(body))
	copy(b[0:6], f.EthDst[:])
	copy(b[6:12], f.EthSrc[:])
	binary.BigEndian.PutUint16(b[12:14], etherTypeIPv6)
	ip := b[ethHeaderLen:]
	ip[0] = 6 << 4 // version 6, traffic class 0, flow label 0
	binary.BigEndian.PutUint16(ip[4:6], uint16(len(body)))
	ip[6] = protoICMPv6
	ip[7] = hops
	s, d := f.Src.As16(), f.Dst.As16()
	copy(ip[8:24], s[:])
	copy(ip[24:40], d[:])
	return append(b, body...)
}

// DecodeNA parses an Ethernet frame carrying a Neighbor Advertisement. It
// drops what RFC 4861 7.1.2 says a node must drop (hop limit not 255) and
// never panics, whatever b holds.
func DecodeNA(b []byte) (Frame, error) {
	f, m, err := decode(b)
	if err != nil {
		return Frame{}, err
	}
	na, ok := m.(*ndp.NeighborAdvertisement)
	if !ok {
		return Frame{}, fmt.Errorf("%w: ICMPv6 type %v", ErrNotNA, m.Type())
	}
	f.Type, f.Target = "NA", na.TargetAddress
	f.Router, f.Solicited, f.Override = na.Router, na.Solicited, na.Override
	for _, o := range na.Options {
		if l, ok := o.(*ndp.LinkLayerAddress); ok && l.Direction == ndp.Target {
			f.LLAddr, _ = arptrace.MACFrom(l.Addr)
		}
	}
	return f, nil
}

// DecodeNS parses an Ethernet frame carrying a Neighbor Solicitation.
func DecodeNS(b []byte) (Frame, error) {
	f, m, err := decode(b)
	if err != nil {
		return Frame{}, err
	}
	ns, ok := m.(*ndp.NeighborSolicitation)
	if !ok {
		return Frame{}, fmt.Errorf("ndptrace: not a neighbor solicitation: ICMPv6 type %v", m.Type())
	}
	f.Type, f.Target = "NS", ns.TargetAddress
	for _, o := range ns.Options {
		if l, ok := o.(*ndp.LinkLayerAddress); ok && l.Direction == ndp.Source {
			f.LLAddr, _ = arptrace.MACFrom(l.Addr)
		}
	}
	return f, nil
}

func decode(b []byte) (Frame, ndp.Message, error) {
	f, hops, body, err := unwrap(b)
	if err != nil {
		return Frame{}, nil, fmt.Errorf("%w: %w", ErrNotNA, err)
	}
	if hops != ndHopLimit {
		return Frame{}, nil, fmt.Errorf("%w: hop limit %d, not 255 (RFC 4861 7.1.2)", ErrNotNA, hops)
	}
	m, err := ndp.ParseMessage(body)
	if err != nil {
		return Frame{}, nil, fmt.Errorf("ndptrace: parse ICMPv6: %w", err)
	}
	return f, m, nil
}

// unwrap takes the Ethernet and IPv6 headers off an ICMPv6 frame and
// returns the addresses, the hop limit and the ICMPv6 message. Its errors
// say what the frame is instead; the caller wraps them in its sentinel.
func unwrap(b []byte) (Frame, uint8, []byte, error) {
	if len(b) < ethHeaderLen+ipv6HeaderLen {
		return Frame{}, 0, nil, fmt.Errorf("%d bytes, too short for the Ethernet and IPv6 headers", len(b))
	}
	if binary.BigEndian.Uint16(b[12:14]) != etherTypeIPv6 {
		return Frame{}, 0, nil, fmt.Errorf("ethertype %#04x, not IPv6", binary.BigEndian.Uint16(b[12:14]))
	}
	ip := b[ethHeaderLen:]
	if ip[0]>>4 != 6 || ip[6] != protoICMPv6 {
		return Frame{}, 0, nil, fmt.Errorf("not ICMPv6 (next header %d)", ip[6])
	}
	n := int(binary.BigEndian.Uint16(ip[4:6]))
	body := ip[ipv6HeaderLen:]
	if n > len(body) {
		return Frame{}, 0, nil, fmt.Errorf("payload length %d beyond the frame", n)
	}
	var f Frame
	f.EthDst, _ = arptrace.MACFrom(net.HardwareAddr(b[0:6]))
	f.EthSrc, _ = arptrace.MACFrom(net.HardwareAddr(b[6:12]))
	f.Src = netip.AddrFrom16([16]byte(ip[8:24]))
	f.Dst = netip.AddrFrom16([16]byte(ip[24:40]))
	return f, ip[7], body[:n], nil
}

// Flags writes an NA's R, S and O flags the way ndisc6 and the trace
// print them: "R=0 S=1 O=1".
func (f Frame) Flags() string {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return fmt.Sprintf("R=%d S=%d O=%d", b(f.Router), b(f.Solicited), b(f.Override))
}
