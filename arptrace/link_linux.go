//go:build linux

package arptrace

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
)

// packetLink is a link over an AF_PACKET SOCK_RAW socket bound to ETH_P_ARP.
type packetLink struct {
	c       *packet.Conn
	mac     MAC
	keepOwn bool // deliver frames this host sent (Watch); probes skip them
	now     func() time.Time
	stop    func() bool
	buf     []byte
}

// arpOnlyFilter is classic BPF for "EtherType is ARP": load the half-word
// at offset 12, accept the frame if it is 0x0806, else drop it.
var arpOnlyFilter = mustAssemble([]bpf.Instruction{
	bpf.LoadAbsolute{Off: 12, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_ARP, SkipFalse: 1},
	bpf.RetConstant{Val: readBufSize},
	bpf.RetConstant{Val: 0},
})

func mustAssemble(prog []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		panic(err) // a constant program: fails at init or never
	}
	return raw
}

// readBufSize holds any Ethernet frame without jumbo support; ARP frames
// are 42 to 64 bytes.
const readBufSize = 1600

func openLink(ctx context.Context, ifi Interface, promisc, keepOwn bool, now func() time.Time) (link, error) {
	nifi, err := net.InterfaceByIndex(ifi.Index)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrInterface, ifi.Name, err)
	}
	// A socket bound to ETH_P_ARP sees only incoming frames: the kernel
	// hands outgoing ones to ETH_P_ALL taps only. A watcher (keepOwn)
	// must see this host's own ARP too, so it binds ETH_P_ALL with a BPF
	// filter that keeps ARP in the kernel.
	proto, cfg := unix.ETH_P_ARP, (*packet.Config)(nil)
	if keepOwn {
		proto, cfg = unix.ETH_P_ALL, &packet.Config{Filter: arpOnlyFilter}
	}
	c, err := packet.Listen(nifi, packet.Raw, proto, cfg)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, &PermissionError{Op: "open AF_PACKET socket on " + ifi.Name, Err: err}
		}
		return nil, fmt.Errorf("arptrace: open AF_PACKET socket on %s: %w", ifi.Name, err)
	}
	if promisc {
		if err := c.SetPromiscuous(true); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("arptrace: promiscuous mode on %s: %w", ifi.Name, err)
		}
	}
	l := &packetLink{c: c, mac: ifi.MAC, keepOwn: keepOwn, now: now, buf: make([]byte, readBufSize)}
	// Raw sockets only know deadlines: when ctx ends, a past deadline
	// wakes any blocked read or write.
	l.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return l, nil
}

func (l *packetLink) send(f Frame) error {
	b, err := EncodeFrame(f)
	if err != nil {
		return err
	}
	if _, err := l.c.WriteTo(b, &packet.Addr{HardwareAddr: f.EthDst.HardwareAddr()}); err != nil {
		return fmt.Errorf("arptrace: send: %w", err)
	}
	return nil
}

func (l *packetLink) recv(ctx context.Context, deadline time.Time) (Frame, time.Time, error) {
	if err := l.c.SetReadDeadline(deadline); err != nil {
		return Frame{}, time.Time{}, fmt.Errorf("arptrace: set deadline: %w", err)
	}
	// Checked after setting the deadline: a cancel racing with it has
	// either set the past deadline already or is seen here.
	if err := ctx.Err(); err != nil {
		return Frame{}, time.Time{}, fmt.Errorf("arptrace: %w", err)
	}
	for range maxFramesPerRecv {
		n, _, err := l.c.ReadFrom(l.buf)
		if err != nil {
			if ctx.Err() != nil {
				return Frame{}, time.Time{}, fmt.Errorf("arptrace: %w", ctx.Err())
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return Frame{}, time.Time{}, fmt.Errorf("arptrace: receive: %w", os.ErrDeadlineExceeded)
			}
			return Frame{}, time.Time{}, fmt.Errorf("arptrace: receive: %w", err)
		}
		at := l.now()
		f, err := DecodeFrame(l.buf[:n])
		if err != nil {
			continue
		}
		if f.EthSrc == l.mac && !l.keepOwn {
			continue // our own outgoing frame, looped back by AF_PACKET
		}
		return f, at, nil
	}
	return Frame{}, time.Time{}, fmt.Errorf("arptrace: receive: %w (%d undecodable frames)", os.ErrDeadlineExceeded, maxFramesPerRecv)
}

func (l *packetLink) dropped() (int, error) {
	st, err := l.c.Stats()
	if err != nil {
		return 0, fmt.Errorf("arptrace: socket statistics: %w", err)
	}
	return int(st.Drops), nil
}

func (l *packetLink) close() error {
	l.stop()
	return l.c.Close()
}
