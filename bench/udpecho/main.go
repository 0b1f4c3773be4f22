// Command udpecho is the ceiling bench/peers.sh measures addrwalk serve
// against: the least a Go program can do to answer a DNS query over UDP.
// It reads each datagram, sets QR and RCODE REFUSED in place and sends it
// back, from one SO_REUSEPORT socket per core (as serve does), so dnsperf
// sees a reply of the query's size for every query. Whatever addrwalk
// costs above this is its own; the rest is the Go runtime and the kernel.
//
// Two ceilings: plain (one datagram per read and write system call) and
// -batch (up to 32 per recvmmsg and sendmmsg, through internal/udpbatch,
// as serve's UDP listener does).
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

	"github.com/addrwalk/addrwalk/internal/reuseport"
	"github.com/addrwalk/addrwalk/internal/udpbatch"
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
	if !reuseport.Supported {
		n = 1 // a second socket could not bind the address
	}
	lc := net.ListenConfig{Control: reuseport.Control}
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

// echoBatch is echo with up to echoBatchSize datagrams per system call,
// through the batch layer serve's UDP listener uses (internal/udpbatch).
func echoBatch(c *net.UDPConn) {
	bc, err := udpbatch.New(c, echoBatchSize)
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpecho:", err)
		return
	}
	in := make([]udpbatch.Message, echoBatchSize)
	out := make([]udpbatch.Message, echoBatchSize)
	for i := range in {
		in[i].Buf = make([]byte, 4096)
	}
	for {
		n, err := bc.ReadBatch(in)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		k := 0
		for _, m := range in[:n] {
			if m.N < 12 || m.Truncated {
				continue
			}
			b := m.Buf[:m.N]
			b[2] |= 0x80         // QR
			b[3] = b[3]&0xf0 | 5 // RCODE REFUSED
			out[k].Buf, out[k].Addr = b, m.Addr
			k++
		}
		// Each call sends at least one message or fails on the first,
		// which is skipped: at most k calls.
		for sent := 0; sent < k; {
			w, err := bc.WriteBatch(out[sent:k])
			if errors.Is(err, net.ErrClosed) {
				return
			}
			sent += max(w, 1)
		}
	}
}

// echoBatchSize is serve's udpBatch: 32 datagrams per system call.
const echoBatchSize = 32
