//go:build linux

package rawlink

import (
	"bytes"
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

// ReadBufSize holds any Ethernet frame without jumbo support; filters
// return it as "keep the whole frame".
const ReadBufSize = 1600

// maxFramesPerRecv bounds how many frames one Recv skips (this host's own,
// or ones the caller does not accept) before giving control back: a flood
// of garbage must not pin the loop.
const maxFramesPerRecv = 10000

// Config says what a link receives.
type Config struct {
	Proto       uint16               // EtherType to bind: unix.ETH_P_ARP, ETH_P_IPV6, ETH_P_ALL
	Filter      []bpf.RawInstruction // nil: every frame of Proto
	Promiscuous bool
	// KeepOwn delivers frames this host sent (a packet socket sees them
	// when bound to ETH_P_ALL); otherwise they are skipped.
	KeepOwn bool
	Now     func() time.Time // receive timestamps; nil: time.Now
}

// Link is an open AF_PACKET socket on one interface.
type Link struct {
	c       *packet.Conn
	mac     net.HardwareAddr
	keepOwn bool
	now     func() time.Time
	stop    func() bool
	buf     []byte
}

// Assemble assembles a constant BPF program, panicking on a mistake in it
// (which shows at init, or never).
func Assemble(prog []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		panic(err)
	}
	return raw
}

// IsPermission reports whether err is the kernel refusing a raw socket
// (no CAP_NET_RAW).
func IsPermission(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// Open opens a link on ifi. When ctx ends, blocked reads and writes wake
// with ctx's error.
func Open(ctx context.Context, ifi *net.Interface, cfg Config) (*Link, error) {
	var pc *packet.Config
	if cfg.Filter != nil {
		pc = &packet.Config{Filter: cfg.Filter}
	}
	c, err := packet.Listen(ifi, packet.Raw, int(cfg.Proto), pc)
	if err != nil {
		return nil, fmt.Errorf("rawlink: open AF_PACKET socket on %s: %w", ifi.Name, err)
	}
	if cfg.Promiscuous {
		if err := c.SetPromiscuous(true); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("rawlink: promiscuous mode on %s: %w", ifi.Name, err)
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	l := &Link{c: c, mac: ifi.HardwareAddr, keepOwn: cfg.KeepOwn, now: now, buf: make([]byte, ReadBufSize)}
	// Raw sockets only know deadlines: when ctx ends, a past deadline
	// wakes any blocked read or write.
	l.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return l, nil
}

// Send writes one whole Ethernet frame b addressed to dst.
func (l *Link) Send(b []byte, dst net.HardwareAddr) error {
	if _, err := l.c.WriteTo(b, &packet.Addr{HardwareAddr: dst}); err != nil {
		return fmt.Errorf("rawlink: send: %w", err)
	}
	return nil
}

// Recv returns the next frame that accept takes (and that this host did
// not send, unless KeepOwn) with its arrival time; the bytes are valid
// until the next Recv. At deadline the error wraps os.ErrDeadlineExceeded;
// when ctx ends, ctx's error.
func (l *Link) Recv(ctx context.Context, deadline time.Time, accept func([]byte) bool) ([]byte, time.Time, error) {
	if err := l.c.SetReadDeadline(deadline); err != nil {
		return nil, time.Time{}, fmt.Errorf("rawlink: set deadline: %w", err)
	}
	// Checked after setting the deadline: a cancel racing with it has
	// either set the past deadline already or is seen here.
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("rawlink: %w", err)
	}
	for range maxFramesPerRecv {
		n, _, err := l.c.ReadFrom(l.buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, time.Time{}, fmt.Errorf("rawlink: %w", ctx.Err())
			}
			return nil, time.Time{}, fmt.Errorf("rawlink: receive: %w", err)
		}
		at := l.now()
		b := l.buf[:n]
		if n < 12 || (!l.keepOwn && bytes.Equal(b[6:12], l.mac)) {
			continue // too short for Ethernet, or our own frame looped back
		}
		if accept(b) {
			return b, at, nil
		}
	}
	return nil, time.Time{}, fmt.Errorf("rawlink: receive: %w (%d frames skipped)", os.ErrDeadlineExceeded, maxFramesPerRecv)
}

// Dropped is how many frames the kernel dropped on the socket.
func (l *Link) Dropped() (int, error) {
	st, err := l.c.Stats()
	if err != nil {
		return 0, fmt.Errorf("rawlink: socket statistics: %w", err)
	}
	return int(st.Drops), nil
}

// Close closes the socket.
func (l *Link) Close() error {
	l.stop()
	return l.c.Close()
}
