//go:build linux

package arptrace

import (
	"context"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/addrwalk/addrwalk/internal/rawlink"
)

// packetLink is a link over an AF_PACKET socket bound to ETH_P_ARP (or
// ETH_P_ALL with an ARP filter for Watch), through internal/rawlink.
type packetLink struct {
	l *rawlink.Link
}

// arpOnlyFilter is classic BPF for "EtherType is ARP": load the half-word
// at offset 12, accept the frame if it is 0x0806, else drop it.
var arpOnlyFilter = rawlink.Assemble([]bpf.Instruction{
	bpf.LoadAbsolute{Off: 12, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_ARP, SkipFalse: 1},
	bpf.RetConstant{Val: rawlink.ReadBufSize},
	bpf.RetConstant{Val: 0},
})

func openLink(ctx context.Context, ifi Interface, promisc, keepOwn bool, now func() time.Time) (link, error) {
	nifi, err := net.InterfaceByIndex(ifi.Index)
	if err != nil {
		// Go's words would be "route ip+net: no such network interface".
		return nil, fmt.Errorf("%w %s: it is gone (index %d no longer exists)", ErrInterface, ifi.Name, ifi.Index)
	}
	// A socket bound to ETH_P_ARP sees only incoming frames: the kernel
	// hands outgoing ones to ETH_P_ALL taps only. A watcher (keepOwn)
	// must see this host's own ARP too, so it binds ETH_P_ALL with a BPF
	// filter that keeps ARP in the kernel.
	cfg := rawlink.Config{Proto: unix.ETH_P_ARP, Promiscuous: promisc, KeepOwn: keepOwn, Now: now}
	if keepOwn {
		cfg.Proto, cfg.Filter = unix.ETH_P_ALL, arpOnlyFilter
	}
	l, err := rawlink.Open(ctx, nifi, cfg)
	if err != nil {
		if rawlink.IsPermission(err) {
			return nil, &PermissionError{Op: "open AF_PACKET socket on " + ifi.Name, Err: err}
		}
		return nil, fmt.Errorf("arptrace: %w", err)
	}
	return &packetLink{l: l}, nil
}

func (p *packetLink) send(f Frame) error {
	b, err := EncodeFrame(f)
	if err != nil {
		return err
	}
	if err := p.l.Send(b, f.EthDst.HardwareAddr()); err != nil {
		return fmt.Errorf("arptrace: %w", err)
	}
	return nil
}

func (p *packetLink) recv(ctx context.Context, deadline time.Time) (Frame, time.Time, error) {
	var f Frame
	_, at, err := p.l.Recv(ctx, deadline, func(b []byte) bool {
		var derr error
		f, derr = DecodeFrame(b)
		return derr == nil
	})
	if err != nil {
		return Frame{}, time.Time{}, fmt.Errorf("arptrace: %w", err)
	}
	return f, at, nil
}

func (p *packetLink) dropped() (int, error) { return p.l.Dropped() }

func (p *packetLink) close() error { return p.l.Close() }
