// Command udpecho is the ceiling bench/peers.sh measures addrwalk serve
// against: the least a Go program can do to answer a DNS query over UDP.
// It reads each datagram, sets QR and RCODE REFUSED in place and sends it
// back, from one SO_REUSEPORT socket per core (as serve does), so dnsperf
// sees a reply of the query's size for every query. Whatever addrwalk
// costs above this is its own; the rest is the Go runtime and the kernel.
//
// Two ceilings: plain (one datagram per read and write system call) and
// -batch (up to 32 per recvmmsg and sendmmsg, through x/net's ipv4
// ReadBatch and WriteBatch, as serve's UDP listener does).
//
// It listens only where -listen says (bench/peers.sh: a loopback address
// in a namespace of its own) until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "udpecho:", err)
		os.Exit(1)
	}
}

// maxSockets bounds -sockets: one per core is the point; 64 is more cores
// than any machine this runs on.
const maxSockets = 64

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("udpecho", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:5353", "UDP address to answer on")
	sockets := fs.Int("sockets", runtime.GOMAXPROCS(0), "SO_REUSEPORT sockets, one reading goroutine each")
	batch := fs.Bool("batch", false, "read and write up to 32 datagrams per system call (recvmmsg, sendmmsg)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := min(max(*sockets, 1), maxSockets)
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	conns := make([]net.PacketConn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := lc.ListenPacket(ctx, "udp", *listen)
		if err != nil {
			return fmt.Errorf("listen %s: %w", *listen, err)
		}
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if *batch {
				echoBatch(c.(*net.UDPConn))
			} else {
				echo(c.(*net.UDPConn))
			}
		}()
	}
	<-ctx.Done()
	for _, c := range conns {
		_ = c.Close()
	}
	wg.Wait()
	return nil
}

// echo answers every datagram on c until c is closed.
func echo(c *net.UDPConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil || n < 12 {
			continue
		}
		buf[2] |= 0x80           // QR
		buf[3] = buf[3]&0xf0 | 5 // RCODE REFUSED
		_, _ = c.WriteToUDPAddrPort(buf[:n], from)
	}
}

// echoBatch is echo with up to echoBatchSize datagrams per system call.
func echoBatch(c *net.UDPConn) {
	pc := ipv4.NewPacketConn(c)
	in := make([]ipv4.Message, echoBatchSize)
	out := make([]ipv4.Message, echoBatchSize)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, 4096)}
		out[i].Buffers = [][]byte{nil}
	}
	for {
		n, err := pc.ReadBatch(in, 0)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		k := 0
		for _, m := range in[:n] {
			if m.N < 12 {
				continue
			}
			b := m.Buffers[0][:m.N]
			b[2] |= 0x80         // QR
			b[3] = b[3]&0xf0 | 5 // RCODE REFUSED
			out[k].Buffers[0], out[k].Addr = b, m.Addr
			k++
		}
		// Each call sends at least one message or fails: at most k calls.
		for sent := 0; sent < k; {
			w, err := pc.WriteBatch(out[sent:k], 0)
			if err != nil || w <= 0 {
				break
			}
			sent += w
		}
	}
}

// echoBatchSize is serve's udpBatch: 32 datagrams per system call.
const echoBatchSize = 32
