//go:build linux

package ndptrace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/addrwalk/addrwalk/arptrace"
)

// naFilter keeps IPv6 frames whose next header is ICMPv6 and whose ICMPv6
// type is 136 (Neighbor Advertisement); everything else stays in the
// kernel. Extension headers are not followed: ND messages never carry
// them (RFC 4861 section 11.2 forbids fragmenting them, and nodes send
// them bare).
var naFilter = func() []bpf.RawInstruction {
	raw, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: etherTypeIPv6, SkipFalse: 5},
		bpf.LoadAbsolute{Off: ethHeaderLen + 6, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoICMPv6, SkipFalse: 3},
		bpf.LoadAbsolute{Off: ethHeaderLen + ipv6HeaderLen, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 136, SkipFalse: 1},
		bpf.RetConstant{Val: readBufSize},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(err) // a constant program: fails at init or never
	}
	return raw
}()

// readBufSize holds a full Ethernet frame.
const readBufSize = 1600

// maxFramesPerRecv bounds undecodable frames skipped per recv call.
const maxFramesPerRecv = 10000

type packetLink struct {
	c    *packet.Conn
	mac  arptrace.MAC
	stop func() bool
	buf  []byte
}

func openLink(ctx context.Context, ifi arptrace.Interface) (link, error) {
	nifi, err := net.InterfaceByIndex(ifi.Index)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", arptrace.ErrInterface, ifi.Name, err)
	}
	c, err := packet.Listen(nifi, packet.Raw, unix.ETH_P_IPV6, &packet.Config{Filter: naFilter})
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, &arptrace.PermissionError{Op: "open AF_PACKET socket on " + ifi.Name, Err: err}
		}
		return nil, fmt.Errorf("ndptrace: open AF_PACKET socket on %s: %w", ifi.Name, err)
	}
	l := &packetLink{c: c, mac: ifi.MAC, buf: make([]byte, readBufSize)}
	l.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return l, nil
}

func (l *packetLink) send(b []byte, dst arptrace.MAC) error {
	if _, err := l.c.WriteTo(b, &packet.Addr{HardwareAddr: dst.HardwareAddr()}); err != nil {
		return fmt.Errorf("ndptrace: send: %w", err)
	}
	return nil
}

func (l *packetLink) recv(ctx context.Context, deadline time.Time) (Frame, time.Time, error) {
	if err := l.c.SetReadDeadline(deadline); err != nil {
		return Frame{}, time.Time{}, fmt.Errorf("ndptrace: set deadline: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, time.Time{}, fmt.Errorf("ndptrace: %w", err)
	}
	for range maxFramesPerRecv {
		n, _, err := l.c.ReadFrom(l.buf)
		if err != nil {
			if ctx.Err() != nil {
				return Frame{}, time.Time{}, fmt.Errorf("ndptrace: %w", ctx.Err())
			}
			return Frame{}, time.Time{}, fmt.Errorf("ndptrace: receive: %w", err)
		}
		at := time.Now()
		f, err := DecodeNA(l.buf[:n])
		if err != nil || f.EthSrc == l.mac {
			continue
		}
		return f, at, nil
	}
	return Frame{}, time.Time{}, fmt.Errorf("ndptrace: receive: %w (%d undecodable frames)", os.ErrDeadlineExceeded, maxFramesPerRecv)
}

func (l *packetLink) close() error {
	l.stop()
	return l.c.Close()
}
