package control

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/listenerr"
)

// DefaultRemotePort is the remote control listener's port when an
// address has none: unbound-control's 8953, so firewall rules and habits
// carry over.
const DefaultRemotePort = 8953

// ServerName is the name the remote control server's certificate carries
// and clients check, whatever address they dial, as unbound-control checks
// "unbound": the CA is the control channel's own, so the name need not be
// the host's, and the same certificate serves on any address.
const ServerName = "addrwalk-control"

// ErrRemoteTLS is wrapped by the errors about the remote control
// channel's certificate files.
var ErrRemoteTLS = errors.New("control: remote channel")

// RemoteFiles names the PEM files of one side of the remote control
// channel (`addrwalk ctl setup` writes both sides').
type RemoteFiles struct {
	Cert string // this side's certificate chain
	Key  string // its private key
	CA   string // the CA the other side's certificate must chain to
	// Names are the flags or configuration keys that named Cert, Key
	// and CA, for errors ("" names none).
	Names [3]string
}

// ServerTLS is the remote listener's TLS configuration: it presents
// f.Cert and lets in only clients presenting a certificate that chains to
// f.CA with the clientAuth extended key usage (the Go default when
// verifying client certificates), valid now. TLS 1.3 only: both ends are
// addrwalk, and 1.3 encrypts the client's certificate.
func ServerTLS(f RemoteFiles) (*tls.Config, error) {
	cert, pool, err := load(f)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// ClientTLS is `addrwalk ctl --remote`'s TLS configuration: it presents
// f.Cert and accepts only a server certificate that chains to f.CA and
// names serverName ("" means ServerName).
func ClientTLS(f RemoteFiles, serverName string) (*tls.Config, error) {
	cert, pool, err := load(f)
	if err != nil {
		return nil, err
	}
	if serverName == "" {
		serverName = ServerName
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ServerName:   serverName,
	}, nil
}

// load reads a key pair and a CA bundle; every file must be named.
func load(f RemoteFiles) (tls.Certificate, *x509.CertPool, error) {
	for _, p := range []struct{ what, file string }{{"certificate", f.Cert}, {"key", f.Key}, {"CA", f.CA}} {
		if p.file == "" {
			return tls.Certificate{}, nil, fmt.Errorf("%w: no %s file given (`addrwalk ctl setup` makes them)", ErrRemoteTLS, p.what)
		}
	}
	cert, err := fileerr.LoadKeyPair(f.Names[0], f.Cert, f.Names[1], f.Key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("%w: %w", ErrRemoteTLS, err)
	}
	pool, err := fileerr.LoadCertPool(f.Names[2], f.CA)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("%w: %w", ErrRemoteTLS, err)
	}
	return cert, pool, nil
}

// ListenRemote binds the remote control listener on addr; Serve then
// answers the clients that cfg (ServerTLS) lets in. A client must finish
// its handshake within the request timeout.
func ListenRemote(ctx context.Context, addr netip.AddrPort, cfg *tls.Config) (net.Listener, error) {
	if cfg == nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil {
		// Never a control channel anyone on the network may use.
		return nil, fmt.Errorf("%w: the remote listener needs client certificates verified against a CA", ErrRemoteTLS)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("control: remote listener: %w", listenerr.Wrap("tcp", addr, err))
	}
	return tls.NewListener(ln, cfg), nil
}

// handshake runs a remote client's TLS handshake, bounded by the request
// timeout so a silent client does not hold a connection slot.
func (s *Server) handshake(ctx context.Context, c *tls.Conn) error {
	hctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return c.HandshakeContext(hctx)
}

// DoRemote is Do over the remote control listener at addr (HOST:PORT),
// with cfg from ClientTLS.
func DoRemote(ctx context.Context, addr string, cfg *tls.Config, req Request, upload io.Reader, out io.Writer) error {
	d := tls.Dialer{Config: cfg}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("control: %s: %w", addr, err)
	}
	c := nc.(*tls.Conn)
	defer c.Close()
	if err := exchange(ctx, c, req, upload, out); err != nil {
		// With TLS 1.3 the server judges the client's certificate after
		// the client's handshake ended: its refusal comes as an alert
		// on the first read.
		return fmt.Errorf("%w (from %s)", err, addr)
	}
	return nil
}
