//go:build linux

package ndptrace

import (
	"context"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/rawlink"
)

// icmpv6Filter keeps IPv6 frames whose next header is ICMPv6 and whose
// ICMPv6 type is icmpType; everything else stays in the kernel. Extension
// headers are not followed: ND messages never carry them (RFC 4861
// section 11.2 forbids fragmenting them, and nodes send them bare), and
// neither do echo replies to a bare request.
func icmpv6Filter(icmpType uint32) []bpf.RawInstruction {
	return rawlink.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv6, SkipFalse: 5},
		bpf.LoadAbsolute{Off: ethHeaderLen + 6, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoICMPv6, SkipFalse: 3},
		bpf.LoadAbsolute{Off: ethHeaderLen + ipv6HeaderLen, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: icmpType, SkipFalse: 1},
		bpf.RetConstant{Val: rawlink.ReadBufSize},
		bpf.RetConstant{Val: 0},
	})
}

type packetLink struct {
	l *rawlink.Link
}

func openLink(ctx context.Context, ifi arptrace.Interface, icmpType uint32) (link, error) {
	nifi, err := net.InterfaceByIndex(ifi.Index)
	if err != nil {
		// Go's words would be "route ip+net: no such network interface".
		return nil, fmt.Errorf("%w %s: it is gone (index %d no longer exists)", arptrace.ErrInterface, ifi.Name, ifi.Index)
	}
	l, err := rawlink.Open(ctx, nifi, rawlink.Config{Proto: unix.ETH_P_IPV6, Filter: icmpv6Filter(icmpType)})
	if err != nil {
		if rawlink.IsPermission(err) {
			return nil, &arptrace.PermissionError{Op: "open AF_PACKET socket on " + ifi.Name, Err: err}
		}
		return nil, fmt.Errorf("ndptrace: %w", err)
	}
	return &packetLink{l: l}, nil
}

func (p *packetLink) send(b []byte, dst arptrace.MAC) error {
	if err := p.l.Send(b, dst.HardwareAddr()); err != nil {
		return fmt.Errorf("ndptrace: %w", err)
	}
	return nil
}

func (p *packetLink) recv(ctx context.Context, deadline time.Time, accept func([]byte) bool) ([]byte, time.Time, error) {
	b, at, err := p.l.Recv(ctx, deadline, accept)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("ndptrace: %w", err)
	}
	return b, at, nil
}

func (p *packetLink) close() error { return p.l.Close() }
