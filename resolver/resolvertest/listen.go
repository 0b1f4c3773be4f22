package resolvertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// maxPortAttempts bounds the search for a port free on every address: an
// attempt fails only if some other socket holds the kernel's pick on one of
// the other 127.x addresses, which is rare; 32 failures in a row mean
// something else is wrong.
const maxPortAttempts = 32

// closeTimeout bounds how long Close waits for one server to stop. Handlers
// stop at once (simulated latency is aborted), so this is only reached if
// something is badly stuck.
const closeTimeout = 5 * time.Second

// listeners are the lab's bound sockets and the servers running on them.
type listeners struct {
	port    uint16
	forger  net.PacketConn // UDP only
	udp     []net.PacketConn
	tcp     []net.Listener
	running []*dns.Server // servers that signalled they started
}

// bindAll binds UDP and TCP on every address at port, and UDP on forger.
// Port 0 lets the kernel pick a port on the first address and retries on a
// collision elsewhere.
func bindAll(ctx context.Context, forger netip.Addr, addrs []netip.Addr, port uint16) (*listeners, error) {
	if port != 0 {
		return bindPort(ctx, forger, addrs, port, nil)
	}
	var lc net.ListenConfig
	var lastErr error
	for range maxPortAttempts {
		first, err := lc.ListenPacket(ctx, "udp", netip.AddrPortFrom(addrs[0], 0).String())
		if err != nil {
			return nil, fmt.Errorf("resolvertest: bind %v: %w", addrs[0], err)
		}
		p := uint16(first.LocalAddr().(*net.UDPAddr).Port)
		ls, err := bindPort(ctx, forger, addrs, p, first)
		if err == nil {
			return ls, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("resolvertest: no port free on all %d addresses after %d attempts: %w", len(addrs), maxPortAttempts, lastErr)
}

// bindPort binds every socket at port. first, if not nil, is the UDP socket
// of addrs[0], already bound. On error everything is closed, first too.
func bindPort(ctx context.Context, forger netip.Addr, addrs []netip.Addr, port uint16, first net.PacketConn) (*listeners, error) {
	var lc net.ListenConfig
	ls := &listeners{port: port}
	fail := func(err error) (*listeners, error) {
		ls.closeAll()
		return nil, err
	}
	for i, a := range addrs {
		ap := netip.AddrPortFrom(a, port).String()
		pc := first
		if i != 0 || pc == nil {
			var err error
			pc, err = lc.ListenPacket(ctx, "udp", ap)
			if err != nil {
				return fail(fmt.Errorf("resolvertest: bind udp %s: %w", ap, err))
			}
		}
		ls.udp = append(ls.udp, pc)
		tl, err := lc.Listen(ctx, "tcp", ap)
		if err != nil {
			return fail(fmt.Errorf("resolvertest: bind tcp %s: %w", ap, err))
		}
		ls.tcp = append(ls.tcp, tl)
	}
	ap := netip.AddrPortFrom(forger, port).String()
	pc, err := lc.ListenPacket(ctx, "udp", ap)
	if err != nil {
		return fail(fmt.Errorf("resolvertest: bind forger udp %s: %w", ap, err))
	}
	ls.forger = pc
	return ls, nil
}

// serve starts a dns.Server on each socket of each server (in the order
// they were bound) and waits until each has signalled it is serving.
func (ls *listeners) serve(ctx context.Context, servers []*Server) error {
	for i, s := range servers {
		for _, transport := range []string{"udp", "tcp"} {
			started := make(chan struct{})
			srv := &dns.Server{
				Handler:           s.handler(transport, ls.forger),
				NotifyStartedFunc: func() { close(started) },
				UDPSize:           dns.MaxMsgSize,
			}
			if transport == "udp" {
				srv.PacketConn = ls.udp[i]
			} else {
				srv.Listener = ls.tcp[i]
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.ActivateAndServe() }()
			select {
			case <-started:
				ls.running = append(ls.running, srv)
			case err := <-errc:
				return fmt.Errorf("resolvertest: serve %s %s: %w", transport, s.addr, err)
			case <-ctx.Done():
				return fmt.Errorf("resolvertest: start: %w", ctx.Err())
			}
		}
	}
	return nil
}

// shutdown stops the running servers and closes every socket.
func (ls *listeners) shutdown() error {
	var errs []error
	for _, srv := range ls.running {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("resolvertest: shutdown: %w", err))
		}
		cancel()
	}
	ls.running = nil
	ls.closeAll()
	return errors.Join(errs...)
}

// closeAll closes every socket; errors (mostly "already closed" after a
// server shut down) do not matter here.
func (ls *listeners) closeAll() {
	for _, pc := range ls.udp {
		_ = pc.Close()
	}
	for _, tl := range ls.tcp {
		_ = tl.Close()
	}
	if ls.forger != nil {
		_ = ls.forger.Close()
	}
}
