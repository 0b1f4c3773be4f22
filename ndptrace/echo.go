package ndptrace

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// ErrNotEchoReply means a frame is not an ICMPv6 Echo Reply.
var ErrNotEchoReply = errors.New("ndptrace: not an echo reply")

// echoHopLimit is the hop limit of an echo to a link-scope group: it must
// not leave the link, as ping's default multicast hop limit of 1.
const echoHopLimit = 1

// Echo is one ICMPv6 Echo Request or Reply (RFC 4443 section 4) and the
// addresses it travelled with.
type Echo struct {
	Frame     // addresses; Type, Target and the ND fields are unused
	ID    int `json:"id"`
	Seq   int `json:"seq"`
}

// EncodeEchoRequest builds an Ethernet frame carrying an Echo Request
// from e.Src to e.Dst with payload data.
func EncodeEchoRequest(e Echo, data []byte) ([]byte, error) {
	if !e.Src.Is6() || !e.Dst.Is6() {
		return nil, fmt.Errorf("ndptrace: encode echo: %v and %v must be IPv6", e.Src, e.Dst)
	}
	m := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{ID: e.ID, Seq: e.Seq, Data: data}}
	body, err := m.Marshal(icmp.IPv6PseudoHeader(net.IP(e.Src.AsSlice()), net.IP(e.Dst.AsSlice())))
	if err != nil {
		return nil, fmt.Errorf("ndptrace: encode echo: %w", err)
	}
	return envelope(e.Frame, echoHopLimit, body), nil
}

// DecodeEchoReply parses an Ethernet frame carrying an Echo Reply; it
// never panics, whatever b holds.
func DecodeEchoReply(b []byte) (Echo, error) {
	f, _, body, err := unwrap(b)
	if err != nil {
		return Echo{}, fmt.Errorf("%w: %w", ErrNotEchoReply, err)
	}
	m, err := icmp.ParseMessage(protoICMPv6, body)
	if err != nil {
		return Echo{}, fmt.Errorf("%w: %w", ErrNotEchoReply, err)
	}
	echo, ok := m.Body.(*icmp.Echo)
	if m.Type != ipv6.ICMPTypeEchoReply || !ok {
		return Echo{}, fmt.Errorf("%w: ICMPv6 type %v", ErrNotEchoReply, m.Type)
	}
	return Echo{Frame: f, ID: echo.ID, Seq: echo.Seq}, nil
}
