package control

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/server"
)

const (
	// maxConns bounds concurrent control connections: this is an
	// operator's channel, a few at a time is plenty, and a runaway
	// script must not pile up goroutines.
	maxConns = 8
	// requestTimeout bounds reading the request line.
	requestTimeout = 10 * time.Second
	// maxRequestLine bounds the request line (a command and a name or
	// two).
	maxRequestLine = 64 << 10
	// maxLoadBytes bounds a load-cache upload. A dump's text is a few
	// times the cache's weight; 1 GiB covers caches far beyond the
	// default 64 MiB budget while keeping a mistaken upload (a disk
	// image) from exhausting memory.
	maxLoadBytes = 1 << 30
	// ioTimeout bounds each exchange with a client that stopped reading
	// or writing.
	ioTimeout = time.Minute
)

// Listener is one listener of the server, for status.
type Listener struct {
	Transport string `json:"transport"` // udp, tcp, dot, doh, metrics
	Addr      string `json:"addr"`
}

// Zone is a configured forward or stub zone.
type Zone struct {
	Zone    string   `json:"zone"`
	Kind    string   `json:"kind"` // "forward" or "stub"
	Servers []string `json:"servers"`
}

// Backend is what the commands act on; the serve command fills it in.
// Nil funcs and pointers make the commands that need them fail with a
// clear error.
type Backend struct {
	Version    string
	ConfigFile string
	Started    time.Time
	Listeners  func() []Listener
	Cache      *cache.Cache
	Infra      *cache.Infra
	Handler    *server.Handler
	Metrics    *server.Metrics
	// Reload re-reads the configuration (the SIGHUP path) and reports
	// its error.
	Reload   func(ctx context.Context) error
	Forwards func() []Zone
	// Anchors describes the trust anchors, one line each.
	Anchors func() []string
	// SharedCache describes the [cachedb] shared cache's state and
	// counters in one line; nil when none is configured.
	SharedCache func() string
	// FormatTrace writes a recorded walk for people (trace-dump); nil
	// prints only each resolution's summary.
	FormatTrace func(w io.Writer, t *resolver.Trace)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server answers control connections.
type Server struct {
	b     Backend
	log   *slog.Logger
	slots chan struct{}
	wg    sync.WaitGroup
}

// NewServer returns a server for b; log nil discards.
func NewServer(b Backend, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if b.Now == nil {
		b.Now = time.Now
	}
	return &Server{b: b, log: log, slots: make(chan struct{}, maxConns)}
}

// Serve accepts connections on ln until ctx ends or ln is closed, then
// closes ln and waits for the commands running. ln is the Unix socket of
// Listen or the mutual-TLS listener of ListenRemote; Serve may run on
// both at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	defer s.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			s.log.Warn("control accept", "err", err)
			time.Sleep(100 * time.Millisecond) // EMFILE and the like
			continue
		}
		select {
		case s.slots <- struct{}{}:
		default:
			// A TLS connection would need its handshake first, which
			// must not hold up this loop: it is just closed.
			if _, ok := c.(*tls.Conn); !ok {
				writeResponse(c, Response{Error: "too many control connections"})
			}
			_ = c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			defer c.Close()
			s.handle(ctx, c)
		}()
	}
}

// handle runs one exchange, once the peer is known to be allowed: on the
// Unix socket a process of our user or root, on the remote listener a
// client whose certificate the control CA issued.
func (s *Server) handle(ctx context.Context, c net.Conn) {
	switch cc := c.(type) {
	case *net.UnixConn:
		if uid, ok := peerUID(cc); ok && uid != 0 && uid != uint32(os.Geteuid()) {
			s.log.Warn("control: connection from another user refused", "uid", uid)
			writeResponse(c, Response{Error: fmt.Sprintf("uid %d may not use this control socket", uid)})
			return
		}
	case *tls.Conn:
		if err := s.handshake(ctx, cc); err != nil {
			s.log.Warn("control: remote connection refused", "client", c.RemoteAddr().String(), "err", err)
			return
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(requestTimeout))
	br := bufio.NewReaderSize(&capReader{r: c, left: maxLoadBytes}, 4096)
	line, err := readLine(br, maxRequestLine)
	if err != nil {
		writeResponse(c, Response{Error: "reading request: " + err.Error(), Usage: true})
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		writeResponse(c, Response{Error: "request is not JSON: " + err.Error(), Usage: true})
		return
	}
	if _, err := checkArgs(req); err != nil {
		writeResponse(c, Response{Error: err.Error(), Usage: true})
		return
	}
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	var out bytes.Buffer
	err = s.run(ctx, req, br, &out)
	if err != nil {
		var ue *usageError
		writeResponse(c, Response{Error: err.Error(), Usage: errors.As(err, &ue)})
		return
	}
	writeResponse(c, Response{OK: true})
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	_, _ = out.WriteTo(c)
}

// readLine reads one line of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > max {
			return nil, errors.New("request line too long")
		}
		if !isPrefix {
			return line, nil
		}
	}
}

func writeResponse(w io.Writer, r Response) {
	b, _ := json.Marshal(r)
	_, _ = w.Write(append(b, '\n'))
}

// usageError is a command's complaint about its arguments, on the
// server; the client returns the server's as one too: said as it came
// ("usage: flush NAME [TYPE]"), without ErrUsage's word before it, and
// still ErrUsage to errors.Is.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// capReader fails a read beyond its bound instead of ending quietly, so a
// truncated upload is an error and not a shorter dump.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("upload larger than %d bytes", int64(maxLoadBytes))
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
