package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"

	"golang.org/x/net/netutil"
)

// EncryptedConfig configures the DNS-over-TLS (RFC 7858) and
// DNS-over-HTTPS (RFC 8484) listeners. Both are off unless addresses are
// given; then TLS is required.
type EncryptedConfig struct {
	// DoT are the addresses served over TLS; DoH over HTTPS.
	DoT []netip.AddrPort
	DoH []netip.AddrPort
	// TLS holds the certificate (GetCertificate lets the caller swap it
	// on reload without dropping connections). The listeners clone it and
	// set their own ALPN protocols.
	TLS *tls.Config
	// DoHPath is the URL path of queries; "" means /dns-query.
	DoHPath string
	// DoHTrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header is believed.
	DoHTrustedProxies []netip.Prefix
}

// ErrNoCertificate is returned by Start when an encrypted listener is
// configured without a certificate.
var ErrNoCertificate = errors.New("server: DNS over TLS or HTTPS needs a certificate " +
	"(set tls-cert and tls-key in [server], or use `addrwalk serve --self-signed` for loopback tests)")

// dohReadHeaderTimeout bounds reading a DoH request's headers, as the
// plain TCP listener bounds reading one query.
const dohReadHeaderTimeout = DefaultTCPReadTimeout

// encryptedListeners is the state of the encrypted listeners; guarded by Server.mu.
type encryptedListeners struct {
	dot      []net.Listener
	doh      []net.Listener
	https    []*http.Server
	dotAddrs []netip.AddrPort
	dohAddrs []netip.AddrPort
}

// bindEncrypted binds the DoT and DoH listeners; the caller holds s.mu and
// closes everything on error.
func (s *Server) bindEncrypted(ctx context.Context) error {
	e := &s.cfg.Encrypted
	act := &s.cfg.Activated
	if len(e.DoT)+len(e.DoH)+len(act.DoT)+len(act.DoH) == 0 {
		return nil
	}
	if e.TLS == nil || (len(e.TLS.Certificates) == 0 && e.TLS.GetCertificate == nil && e.TLS.GetConfigForClient == nil) {
		return ErrNoCertificate
	}
	dotTLS := e.TLS.Clone()
	dotTLS.MinVersion = max(dotTLS.MinVersion, tls.VersionTLS12) // RFC 8310 §9 / RFC 7525
	dotTLS.NextProtos = []string{"dot"}                          // RFC 7858's ALPN id (IANA)
	s.adoptActivatedEncrypted(dotTLS)
	var lc net.ListenConfig
	for _, ap := range e.DoT {
		ln, err := lc.Listen(ctx, "tcp", ap.String())
		if err != nil {
			return bindErr("tcp", ap, err)
		}
		s.enc.dot = append(s.enc.dot, tls.NewListener(ln, dotTLS))
		s.enc.dotAddrs = append(s.enc.dotAddrs, ln.Addr().(*net.TCPAddr).AddrPort())
	}
	for _, ap := range e.DoH {
		ln, err := lc.Listen(ctx, "tcp", ap.String())
		if err != nil {
			return bindErr("tcp", ap, err)
		}
		s.enc.doh = append(s.enc.doh, ln)
		s.enc.dohAddrs = append(s.enc.dohAddrs, ln.Addr().(*net.TCPAddr).AddrPort())
	}
	return nil
}

// serveEncrypted starts serving the bound encrypted listeners; the caller
// holds s.mu.
func (s *Server) serveEncrypted() {
	for _, ln := range s.enc.dot {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// The plain TCP connection rules, unchanged: framing, the
			// no-progress timer (which also bounds the TLS handshake:
			// it happens on the first read), pipelining, the caps.
			s.serveStream(ln, TransportTLS)
		}()
	}
	for _, ln := range s.enc.doh {
		hs := s.newDoHServer()
		s.enc.https = append(s.enc.https, hs)
		// Connections count against the same cap as TCP's, by listener:
		// HTTP/2 multiplexes many queries on one.
		lim := netutil.LimitListener(ln, s.cfg.MaxTCPConns)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := hs.ServeTLS(lim, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("doh serve", "err", err)
			}
		}()
	}
}

// newDoHServer returns the HTTP server of one DoH listener.
func (s *Server) newDoHServer() *http.Server {
	cfg := s.cfg.Encrypted.TLS.Clone()
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12) // RFC 8484 §5.2 requires HTTP/2's TLS 1.2+
	cfg.NextProtos = []string{"h2", "http/1.1"}
	return &http.Server{
		Handler:           newDoHHandler(s, s.cfg.Encrypted.DoHPath, s.cfg.Encrypted.DoHTrustedProxies),
		TLSConfig:         cfg,
		ReadHeaderTimeout: dohReadHeaderTimeout,
		ReadTimeout:       s.cfg.TCPIdleTimeout,
		WriteTimeout:      DefaultResolveTimeout + s.cfg.TCPWriteTimeout,
		IdleTimeout:       s.cfg.TCPIdleTimeout,
		// A DoH request has a few small headers; 16 KiB is generous and
		// keeps a hostile client from making us buffer megabytes.
		MaxHeaderBytes: 16 << 10,
		HTTP2: &http.HTTP2Config{
			// Pipelined queries per connection, as the TCP listener's
			// TCPMaxInflight.
			MaxConcurrentStreams: s.cfg.TCPMaxInflight,
		},
		ErrorLog: nil,
	}
}

// EncryptedAddrs returns the bound DoT and DoH addresses.
func (s *Server) EncryptedAddrs() (dot, doh []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.AddrPort(nil), s.enc.dotAddrs...), append([]netip.AddrPort(nil), s.enc.dohAddrs...)
}

// stopEncrypted stops accepting on the encrypted listeners; DoH servers
// finish their requests in flight until ctx ends. The caller holds s.mu.
func (s *Server) stopEncrypted(ctx context.Context) {
	for _, ln := range s.enc.dot {
		_ = ln.Close()
	}
	for _, hs := range s.enc.https {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := hs.Shutdown(ctx); err != nil {
				_ = hs.Close()
			}
		}()
	}
}

// closeEncrypted closes every encrypted listener and connection; the
// caller holds s.mu.
func (s *Server) closeEncrypted() {
	for _, ln := range s.enc.dot {
		_ = ln.Close()
	}
	for _, ln := range s.enc.doh {
		_ = ln.Close()
	}
	for _, hs := range s.enc.https {
		_ = hs.Close()
	}
}
