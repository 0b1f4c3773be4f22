package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/addrwalk/addrwalk/internal/fileerr"
)

// ErrUsage is wrapped by Do's error when the server refused the request
// itself (unknown command, wrong arguments).
var ErrUsage = errors.New("usage")

// ServerError is a command that the server ran and that failed.
type ServerError struct{ Msg string }

func (e *ServerError) Error() string { return e.Msg }

// Do sends req to the server at socket, with upload (may be nil) as the
// body, and copies the output to out. The socket is checked first
// (CheckSocket). ctx bounds the whole exchange.
func Do(ctx context.Context, socket string, req Request, upload io.Reader, out io.Writer) error {
	if err := CheckSocket(socket); err != nil {
		return err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", socket)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("control: nothing listens on %s (left by a server that stopped? is addrwalk serve running?): %w", socket, syscall.ECONNREFUSED)
	}
	if err != nil {
		return fmt.Errorf("control: %w", fileerr.Read("socket", socket, err))
	}
	c := nc.(*net.UnixConn)
	defer c.Close()
	return exchange(ctx, c, req, upload, out)
}

// halfCloser is a connection whose writing side closes alone: a Unix or
// TLS connection (whose CloseWrite sends close_notify).
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// exchange runs one request on c: the request line and the upload go
// out while the reply comes back.
func exchange(ctx context.Context, c halfCloser, req Request, upload io.Reader, out io.Writer) error {
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	// The upload goes while the server reads it; the reply comes after.
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(append(b, '\n'))
		if err == nil && upload != nil {
			_, err = io.Copy(c, upload)
		}
		_ = c.CloseWrite()
		werr <- err
	}()
	br := bufio.NewReader(c)
	line, err := readLine(br, maxRequestLine)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("control: %w", ctx.Err())
		}
		if e := <-werr; e != nil {
			return fmt.Errorf("control: sending: %w", e)
		}
		return fmt.Errorf("control: reading the reply: %w", err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		// Not encoding/json's words ("invalid character …"): what came.
		return fmt.Errorf("control: the reply is not the control protocol's JSON (is this addrwalk's socket?): %.60q", line)
	}
	if !resp.OK {
		if resp.Usage {
			return &usageError{msg: resp.Error}
		}
		return &ServerError{resp.Error}
	}
	if _, err := io.Copy(out, br); err != nil {
		return fmt.Errorf("control: reading the output: %w", err)
	}
	return nil
}
