package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
)

// Activated holds sockets bound by someone else (systemd socket
// activation): the server serves them as it serves the ones it binds, and
// closes them on Shutdown.
type Activated struct {
	UDP []*net.UDPConn // plain DNS over UDP
	TCP []net.Listener // plain DNS over TCP
	DoT []net.Listener // DNS over TLS, unencrypted sockets: the server adds TLS
	DoH []net.Listener // DNS over HTTPS, likewise
}

// Names of passed sockets (systemd's FileDescriptorName=) and the
// listener each becomes. "unknown" is what systemd calls a socket whose
// unit names none; like "dns" it is plain DNS over UDP or TCP, by the
// socket's type.
const (
	ActivatedDNS     = "dns"
	ActivatedDoT     = "dot"
	ActivatedDoH     = "doh"
	activatedUnnamed = "unknown"
)

// ErrActivatedSocket is wrapped by Add's errors.
var ErrActivatedSocket = errors.New("server: cannot serve on a descriptor systemd passed")

// Add adopts the passed socket f under its name: a UDP socket or a
// listening TCP socket for "dns" (or "unknown"), a listening TCP socket
// for "dot" and "doh". f is closed either way (the server keeps its own
// duplicate).
func (a *Activated) Add(name string, f *os.File) error {
	defer f.Close()
	switch name {
	case ActivatedDNS, activatedUnnamed, ActivatedDoT, ActivatedDoH:
	default:
		return fmt.Errorf("%w: name %q (FileDescriptorName= must be %s, %s or %s)",
			ErrActivatedSocket, name, ActivatedDNS, ActivatedDoT, ActivatedDoH)
	}
	if pc, err := net.FilePacketConn(f); err == nil {
		u, ok := pc.(*net.UDPConn)
		if !ok || (name != ActivatedDNS && name != activatedUnnamed) {
			_ = pc.Close()
			return fmt.Errorf("%w: %q is a %s datagram socket; only plain DNS is served over UDP",
				ErrActivatedSocket, name, pc.LocalAddr().Network())
		}
		a.UDP = append(a.UDP, u)
		return nil
	}
	ln, err := net.FileListener(f)
	if err != nil {
		// err is Go's ("file file+net systemd:dns: getsockopt: …"):
		// what the descriptor is not says it better.
		return fmt.Errorf("%w: %q is neither a UDP socket nor a listening TCP socket (Accept=no)", ErrActivatedSocket, name)
	}
	if _, ok := ln.(*net.TCPListener); !ok {
		_ = ln.Close()
		return fmt.Errorf("%w: %q listens on %s, not TCP", ErrActivatedSocket, name, ln.Addr().Network())
	}
	switch name {
	case ActivatedDoT:
		a.DoT = append(a.DoT, ln)
	case ActivatedDoH:
		a.DoH = append(a.DoH, ln)
	default:
		a.TCP = append(a.TCP, ln)
	}
	return nil
}

// Plain reports whether plain DNS sockets were passed; then the server
// binds no default addresses.
func (a *Activated) Plain() bool { return len(a.UDP)+len(a.TCP) > 0 }

// Close closes every socket (when the server will not be started).
func (a *Activated) Close() {
	for _, u := range a.UDP {
		_ = u.Close()
	}
	for _, l := range a.all() {
		_ = l.Close()
	}
}

func (a *Activated) all() []net.Listener {
	return append(append(append([]net.Listener(nil), a.TCP...), a.DoT...), a.DoH...)
}

// adoptActivated adds the passed plain sockets to the server's; the caller
// holds s.mu. It returns the UDP sockets to serve: unlike the ones Start
// binds, there is one socket per address, read by several goroutines.
func (s *Server) adoptActivated() []*net.UDPConn {
	a := &s.cfg.Activated
	for _, u := range a.UDP {
		s.udp = append(s.udp, u)
		s.addrs = append(s.addrs, u.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	for _, t := range a.TCP {
		s.tcp = append(s.tcp, t)
		if ap := t.Addr().(*net.TCPAddr).AddrPort(); !slices.Contains(s.addrs, ap) {
			s.addrs = append(s.addrs, ap)
		}
	}
	return a.UDP
}

// adoptActivatedEncrypted adds the passed DoT and DoH sockets; the caller
// holds s.mu and has checked the TLS configuration.
func (s *Server) adoptActivatedEncrypted(dotTLS *tls.Config) {
	a := &s.cfg.Activated
	for _, ln := range a.DoT {
		s.enc.dot = append(s.enc.dot, tls.NewListener(ln, dotTLS))
		s.enc.dotAddrs = append(s.enc.dotAddrs, ln.Addr().(*net.TCPAddr).AddrPort())
	}
	for _, ln := range a.DoH {
		s.enc.doh = append(s.enc.doh, ln)
		s.enc.dohAddrs = append(s.enc.dohAddrs, ln.Addr().(*net.TCPAddr).AddrPort())
	}
}

// abortStart closes everything when Start fails: what it bound, and every
// passed socket too, adopted yet or not (a DoT or DoH socket is adopted
// only once the certificate is known to be there), so a failed Start
// leaks no descriptor and leaves no port held. The caller holds s.mu.
// Closing an adopted socket a second time is harmless.
func (s *Server) abortStart() {
	s.closeListeners()
	s.cfg.Activated.Close()
}
