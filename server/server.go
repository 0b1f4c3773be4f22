package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/addrwalk/addrwalk/internal/listenerr"
	"github.com/addrwalk/addrwalk/internal/reuseport"
)

// ErrPrivilegedPort is wrapped by Start's error when binding a port below
// 1024 was not permitted.
var ErrPrivilegedPort = errors.New("server: ports below 1024 need root or CAP_NET_BIND_SERVICE " +
	"(run as root, or `sudo setcap cap_net_bind_service+ep $(command -v addrwalk)`, or listen on a high port such as 127.0.0.1:5353)")

// DefaultListen are the addresses served when none are configured.
func DefaultListen() []netip.AddrPort {
	return []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53"), netip.MustParseAddrPort("[::1]:53")}
}

// pendingPerSlot is how many queries may wait on resolutions per
// resolution slot: several clients often share one resolution of a
// popular name, but beyond this the server answers SERVFAIL rather than
// park more goroutines.
const pendingPerSlot = 4

// pendingClientShare: one client address may hold at most this fraction
// (1/8) of the waiting slots by default, so at least eight clients are
// needed to fill them and one flooding client leaves the rest room.
const pendingClientShare = 8

// Config configures a Server.
type Config struct {
	// Listen are the addresses served over UDP and TCP; nil means
	// DefaultListen. Port 0 picks a free port (the same for UDP and TCP).
	Listen []netip.AddrPort
	// Handler answers the queries; required.
	Handler *Handler
	// MaxInflight is the resolution bound the Handler was made with (to
	// size the queue of waiting queries); 0 means DefaultMaxInflight.
	MaxInflight int
	// MaxPendingPerClient bounds the queries of one client address waiting
	// on resolutions; 0 means an eighth of all waiting slots.
	MaxPendingPerClient int
	// MaxTCPConns, MaxTCPConnsPerClient, TCPIdleTimeout, TCPReadTimeout,
	// TCPWriteTimeout and TCPMaxInflight bound TCP clients; zero values
	// mean the defaults. TCPIdleTimeout is a no-progress timer: only valid
	// queries (and replies) reset it.
	MaxTCPConns          int
	MaxTCPConnsPerClient int
	TCPIdleTimeout       time.Duration
	TCPReadTimeout       time.Duration
	TCPWriteTimeout      time.Duration
	TCPMaxInflight       int
	// Activated are sockets bound by systemd (activation.go), served
	// besides the Listen addresses; with plain DNS sockets among them, a
	// nil Listen binds nothing.
	Activated Activated
	// Encrypted configures DoT and DoH listeners (encrypted.go); off
	// unless addresses are given.
	Encrypted EncryptedConfig
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
}

// Server serves a Handler over UDP and TCP.
type Server struct {
	cfg     Config
	h       *Handler
	log     *slog.Logger
	pending chan struct{} // queries waiting on resolutions
	clients *clientSlots  // the same, per client address
	misses  *missPool     // runs the misses of every listener
	wg      sync.WaitGroup
	conns   *connTable // open stream connections
	// stopping is set by Shutdown; TCP readers check it before each query.
	stopping atomic.Bool

	mu  sync.Mutex // guards the following
	udp []*net.UDPConn
	// udpReplies are the miss workers' handles on the UDP sockets
	// (replyConn), closed with them.
	udpReplies []*net.UDPConn
	tcp        []net.Listener
	addrs      []netip.AddrPort
	enc        encryptedListeners
	started    bool
	closing    bool
}

// New returns a server for cfg; Start binds it.
func New(cfg Config) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("server: no handler")
	}
	if len(cfg.Listen) == 0 && !cfg.Activated.Plain() {
		cfg.Listen = DefaultListen()
	}
	for _, ap := range cfg.Listen {
		if !ap.IsValid() {
			return nil, fmt.Errorf("server: invalid listen address %v", ap)
		}
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.MaxTCPConns <= 0 {
		cfg.MaxTCPConns = DefaultMaxTCPConns
	}
	if cfg.MaxTCPConnsPerClient <= 0 {
		cfg.MaxTCPConnsPerClient = min(DefaultMaxTCPConnsPerClient, cfg.MaxTCPConns)
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if cfg.TCPReadTimeout <= 0 {
		cfg.TCPReadTimeout = DefaultTCPReadTimeout
	}
	if cfg.TCPWriteTimeout <= 0 {
		cfg.TCPWriteTimeout = DefaultTCPWriteTimeout
	}
	if cfg.TCPMaxInflight <= 0 {
		cfg.TCPMaxInflight = DefaultTCPMaxInflight
	}
	if cfg.MaxPendingPerClient <= 0 {
		cfg.MaxPendingPerClient = max(1, cfg.MaxInflight*pendingPerSlot/pendingClientShare)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, h: cfg.Handler, log: log,
		pending: make(chan struct{}, cfg.MaxInflight*pendingPerSlot),
		clients: newClientSlots(cfg.MaxPendingPerClient),
		conns:   newConnTable(cfg.MaxTCPConns, cfg.MaxTCPConnsPerClient)}
	// Every miss in the pool holds a pending slot, so the queue never
	// needs more room than there are slots.
	s.misses = newMissPool(cap(s.pending), s.answerMiss)
	s.h.m.setMissPool(s.misses)
	return s, nil
}

// Start binds every listener (UDP and TCP on each address) and starts
// serving. It returns once the server is ready, or with the first bind
// error, after closing whatever it had bound.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("server: Start called twice")
	}
	s.started = true
	activated := len(s.adoptActivated())
	for _, ap := range s.cfg.Listen {
		u, t, err := bindPair(ctx, ap)
		if err != nil {
			s.abortStart()
			return err
		}
		bound := u.LocalAddr().(*net.UDPAddr).AddrPort()
		s.udp = append(s.udp, u)
		s.tcp = append(s.tcp, t)
		s.addrs = append(s.addrs, bound)
		if reuseport.Supported {
			// More sockets on the same address: the kernel spreads
			// clients over them, one reader each.
			for range udpSockets() - 1 {
				pc, err := reuseConfig().ListenPacket(ctx, "udp", bound.String())
				if err != nil {
					s.abortStart()
					return bindErr("udp", bound, err)
				}
				s.udp = append(s.udp, pc.(*net.UDPConn))
			}
		}
	}
	if err := s.bindEncrypted(ctx); err != nil {
		s.abortStart()
		return err
	}
	readers := udpSockets()
	if reuseport.Supported {
		readers = 1
	}
	for i, u := range s.udp {
		if i < activated {
			s.serveUDP(u, udpSockets()) // one socket per address
			continue
		}
		s.serveUDP(u, readers)
	}
	for _, t := range s.tcp {
		s.wg.Add(1)
		go s.serveTCP(t)
	}
	s.serveEncrypted()
	return nil
}

// reuseConfig returns the listen configuration of UDP sockets.
func reuseConfig() *net.ListenConfig {
	return &net.ListenConfig{Control: reuseport.Control}
}

// maxPortTries bounds the attempts to find a port free for both UDP and TCP
// when port 0 is asked for; a clash is rare, so a few tries suffice.
const maxPortTries = 10

// bindPair binds UDP and TCP on ap.
func bindPair(ctx context.Context, ap netip.AddrPort) (*net.UDPConn, net.Listener, error) {
	var lc net.ListenConfig
	for try := 0; ; try++ {
		pc, err := reuseConfig().ListenPacket(ctx, "udp", ap.String())
		if err != nil {
			return nil, nil, bindErr("udp", ap, err)
		}
		u := pc.(*net.UDPConn)
		tap := ap
		if ap.Port() == 0 {
			tap = netip.AddrPortFrom(ap.Addr(), u.LocalAddr().(*net.UDPAddr).AddrPort().Port())
		}
		t, err := lc.Listen(ctx, "tcp", tap.String())
		if err != nil {
			_ = u.Close()
			if ap.Port() == 0 && errors.Is(err, syscall.EADDRINUSE) && try < maxPortTries {
				continue
			}
			return nil, nil, bindErr("tcp", tap, err)
		}
		return u, t, nil
	}
}

// bindErr words a failed bind (internal/listenerr); ports below 1024
// refused for lack of privilege also carry ErrPrivilegedPort's hint.
func bindErr(network string, ap netip.AddrPort, err error) error {
	err = listenerr.Wrap(network, ap, err)
	if errors.Is(err, syscall.EACCES) && ap.Port() < 1024 {
		return fmt.Errorf("%w: %w", ErrPrivilegedPort, err)
	}
	return fmt.Errorf("server: %w", err)
}

// Addrs returns the bound addresses (with the real port when 0 was asked).
func (s *Server) Addrs() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.AddrPort(nil), s.addrs...)
}

// closeListeners closes every socket; the caller holds s.mu.
func (s *Server) closeListeners() {
	for _, u := range s.udp {
		_ = u.Close()
	}
	for _, u := range s.udpReplies {
		_ = u.Close()
	}
	for _, t := range s.tcp {
		_ = t.Close()
	}
	s.closeEncrypted()
}

// Shutdown stops accepting queries and waits for the ones in flight to be
// answered, until ctx ends; then it cancels the resolutions left and
// closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.stopping.Store(true)
	// UDP sockets stay open until the queries in flight are answered;
	// stop reading TCP at once: connections finish what they have.
	for _, t := range s.tcp {
		_ = t.Close()
	}
	s.stopEncrypted(ctx)
	s.conns.stopReading()
	udp := s.udp
	s.mu.Unlock()

	// Stop UDP readers without closing the sockets: a read deadline in
	// the past makes them return; replies can still be written.
	for _, u := range udp {
		_ = u.SetReadDeadline(time.Now())
	}
	// Idle miss workers exit now, busy ones once no miss waits.
	s.misses.close()
	err := s.h.Wait(ctx)
	done := make(chan struct{})
	go func() {
		s.wg.Wait() // listeners and the misses they handed on
		// Only listeners (and workers) hand misses to the pool, so no
		// worker starts after this.
		s.misses.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = fmt.Errorf("server: shutdown: %w", ctx.Err())
		}
	}
	s.mu.Lock()
	s.closeListeners()
	s.mu.Unlock()
	s.conns.closeAll()
	<-done
	return err
}
