package arptrace

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

// MAC is an Ethernet (EUI-48) address. Being an array it is comparable and
// can key a map; it prints and marshals as "aa:bb:cc:dd:ee:ff".
type MAC [6]byte

// Broadcast is the Ethernet broadcast address a who-has is sent to.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// MACFrom converts a 6-byte hardware address; ok is false for other lengths.
func MACFrom(hw net.HardwareAddr) (m MAC, ok bool) {
	if len(hw) != len(m) {
		return m, false
	}
	copy(m[:], hw)
	return m, true
}

// ParseMAC parses "aa:bb:cc:dd:ee:ff" (any form net.ParseMAC accepts that is
// 6 bytes long).
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return MAC{}, fmt.Errorf("arptrace: %w", err)
	}
	m, ok := MACFrom(hw)
	if !ok {
		return MAC{}, fmt.Errorf("arptrace: %q is not a 6-byte Ethernet address", s)
	}
	return m, nil
}

// HardwareAddr returns m as a net.HardwareAddr (a fresh slice).
func (m MAC) HardwareAddr() net.HardwareAddr { return append(net.HardwareAddr(nil), m[:]...) }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// String formats m as six lower-case hex pairs separated by colons.
func (m MAC) String() string {
	var b [17]byte
	for i, c := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		hex.Encode(b[3*i:3*i+2], []byte{c})
	}
	return string(b[:])
}

// MarshalText implements encoding.TextMarshaler.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *MAC) UnmarshalText(b []byte) error {
	v, err := ParseMAC(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Kind classifies an ARP packet by what it is used for.
type Kind string

// Packet kinds. A request or reply whose sender and target IP are equal is
// gratuitous (RFC 5944 4.6); a request from 0.0.0.0 is an RFC 5227 probe.
const (
	KindRequest    Kind = "who-has"
	KindReply      Kind = "is-at"
	KindProbe      Kind = "probe"      // RFC 5227 2.1.1: sender IP 0.0.0.0
	KindGratuitous Kind = "gratuitous" // RFC 5944 4.6 / RFC 5227 announcement
)

// Frame is one decoded ARP-over-Ethernet frame, as sent or received.
type Frame struct {
	EthDst    MAC        `json:"eth_dst"`
	EthSrc    MAC        `json:"eth_src"`
	Op        uint16     `json:"op"` // 1 request, 2 reply
	Kind      Kind       `json:"kind"`
	SenderMAC MAC        `json:"sender_mac"`
	SenderIP  netip.Addr `json:"sender_ip"`
	TargetMAC MAC        `json:"target_mac"`
	TargetIP  netip.Addr `json:"target_ip"`
}

// Errors from DecodeFrame. They are wrapped; test with errors.Is.
var (
	ErrNotARP          = errors.New("arptrace: not an ARP frame")
	ErrNotEthernetIPv4 = errors.New("arptrace: ARP packet is not Ethernet/IPv4")
)

// DecodeFrame decodes an Ethernet frame carrying an Ethernet/IPv4 ARP packet.
// Trailing padding is ignored. It never panics, whatever b holds.
func DecodeFrame(b []byte) (Frame, error) {
	var ef ethernet.Frame
	if err := ef.UnmarshalBinary(b); err != nil {
		return Frame{}, fmt.Errorf("%w: %d bytes, too short for an Ethernet header", ErrNotARP, len(b))
	}
	if ef.EtherType != ethernet.EtherTypeARP {
		return Frame{}, fmt.Errorf("%w: ethertype %#04x", ErrNotARP, uint16(ef.EtherType))
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(ef.Payload); err != nil {
		return Frame{}, fmt.Errorf("%w: %d bytes of ARP payload, too short for a packet", ErrNotARP, len(ef.Payload))
	}
	if p.HardwareType != 1 || p.ProtocolType != uint16(ethernet.EtherTypeIPv4) ||
		p.HardwareAddrLength != 6 || p.IPLength != 4 {
		return Frame{}, fmt.Errorf("%w: htype %d ptype %#04x hlen %d plen %d",
			ErrNotEthernetIPv4, p.HardwareType, p.ProtocolType, p.HardwareAddrLength, p.IPLength)
	}
	if p.Operation != arp.OperationRequest && p.Operation != arp.OperationReply {
		return Frame{}, fmt.Errorf("%w: operation %d", ErrNotARP, p.Operation)
	}
	f := Frame{Op: uint16(p.Operation), SenderIP: p.SenderIP, TargetIP: p.TargetIP}
	f.EthDst, _ = MACFrom(ef.Destination)
	f.EthSrc, _ = MACFrom(ef.Source)
	f.SenderMAC, _ = MACFrom(p.SenderHardwareAddr)
	f.TargetMAC, _ = MACFrom(p.TargetHardwareAddr)
	f.Kind = classify(f)
	return f, nil
}

func classify(f Frame) Kind {
	switch {
	case f.Op == uint16(arp.OperationRequest) && f.SenderIP.IsUnspecified():
		return KindProbe
	case f.SenderIP == f.TargetIP:
		return KindGratuitous
	case f.Op == uint16(arp.OperationReply):
		return KindReply
	default:
		return KindRequest
	}
}

// ethMinPayload is the minimum Ethernet payload (IEEE 802.3): frames are
// padded to it so that switches and NICs do not drop them as runts.
const ethMinPayload = 46

// EncodeFrame builds the wire bytes of f (Kind is ignored; Op decides).
func EncodeFrame(f Frame) ([]byte, error) {
	if !f.SenderIP.Is4() || !f.TargetIP.Is4() {
		return nil, fmt.Errorf("arptrace: encode: sender %v and target %v must be IPv4", f.SenderIP, f.TargetIP)
	}
	p := arp.Packet{
		HardwareType:       1,
		ProtocolType:       uint16(ethernet.EtherTypeIPv4),
		HardwareAddrLength: 6,
		IPLength:           4,
		Operation:          arp.Operation(f.Op),
		SenderHardwareAddr: f.SenderMAC.HardwareAddr(),
		SenderIP:           f.SenderIP,
		TargetHardwareAddr: f.TargetMAC.HardwareAddr(),
		TargetIP:           f.TargetIP,
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("arptrace: encode arp: %w", err)
	}
	if len(pb) < ethMinPayload {
		pb = append(pb, make([]byte, ethMinPayload-len(pb))...)
	}
	ef := ethernet.Frame{
		Destination: f.EthDst.HardwareAddr(),
		Source:      f.EthSrc.HardwareAddr(),
		EtherType:   ethernet.EtherTypeARP,
		Payload:     pb,
	}
	b, err := ef.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("arptrace: encode ethernet: %w", err)
	}
	return b, nil
}

// whoHas builds a request for target from (srcMAC, srcIP), sent to dst
// (Broadcast, or a known MAC for a unicast re-probe).
func whoHas(dst, srcMAC MAC, srcIP, target netip.Addr) Frame {
	f := Frame{
		EthDst: dst, EthSrc: srcMAC, Op: uint16(arp.OperationRequest),
		SenderMAC: srcMAC, SenderIP: srcIP, TargetIP: target,
	}
	f.Kind = classify(f)
	return f
}
