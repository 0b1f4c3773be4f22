package listenerr

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Error is a failed bind or listen on one address.
type Error struct {
	Network string         // "udp" or "tcp"
	Addr    netip.AddrPort // the address asked for
	Err     error          // what the socket call returned
}

// Wrap returns err as an *Error for network and addr; nil stays nil.
func Wrap(network string, addr netip.AddrPort, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Network: network, Addr: addr, Err: err}
}

func (e *Error) Error() string {
	return fmt.Sprintf("cannot listen on %s %v: %s", e.Network, e.Addr, why(e.Err))
}

func (e *Error) Unwrap() error { return e.Err }

// why says what went wrong in the words of the person who chose the
// address; an errno not in the table keeps the kernel's own short text.
func why(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "the port is in use by another program (see 'ss -lntup')"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "the address is not one of this host's (see 'ip addr')"
	case errors.Is(err, syscall.EACCES):
		return "permission denied"
	case errors.As(err, &errno):
		return errno.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}
