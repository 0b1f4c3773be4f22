//go:build linux

package resolver

import (
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rawUDP is an upstream UDP socket made with the system calls a query
// needs and no more: socket (non-blocking, close-on-exec), bind to the
// drawn port, connect to the server, then the runtime's poller (through
// os.NewFile) for deadlines and waiting. net.DialUDP adds SO_BROADCAST,
// getsockname and getpeername to each socket and allocates the addresses
// they return: 13 system calls per query in all, against 10 here
// (socket, bind, connect, the fcntl os.NewFile makes, the poller's two
// epoll_ctl, write, a read that finds nothing yet, the read of the reply,
// close).
// Measured under a flood of cache misses, the socket was a fifth of a
// miss's CPU (#11).
//
// The socket is connected, so the kernel delivers only datagrams from the
// server's address and port (RFC 5452 §9.2's check of the source): a read
// reports server as the source. Errors are *net.OpError values with the
// ops, addresses and wrapped system-call errors net's own would carry, so
// the trace's words and errors.Is on them do not change.
type rawUDP struct {
	f *os.File
	// fd is f's descriptor, used directly by Write and LocalAddr: only
	// Close closes it, after the exchange's last read or write.
	fd     int
	rc     syscall.RawConn
	server netip.AddrPort
	// port is the drawn source port, 0 when the kernel chose.
	port uint16
	// sa4 holds the IPv4 addresses given to bind and connect, local
	// then remote: in the struct, not each on the heap (IPv6 ones are).
	sa4 [2]unix.SockaddrInet4
	// The read in progress (read, run by rc.Read): its buffer, and
	// what the system call returned.
	buf    []byte
	n      int
	err    error
	readFn func(uintptr) bool
}

var _ udpConn = (*rawUDP)(nil)

// dialRawUDP opens a socket from port (0: the kernel's choice) connected
// to server. ok is false when the address needs what only net's dialer
// does (an IPv6 zone, which names an interface).
func dialRawUDP(port uint16, server netip.AddrPort) (c *rawUDP, ok bool, err error) {
	addr := server.Addr().Unmap()
	if addr.Zone() != "" {
		return nil, false, nil
	}
	server = netip.AddrPortFrom(addr, server.Port())
	family := unix.AF_INET6
	if addr.Is4() {
		family = unix.AF_INET
	}
	opErr := func(call string, err error) error {
		var laddr net.Addr
		if port != 0 {
			laddr = &net.UDPAddr{Port: int(port)}
		}
		return &net.OpError{Op: "dial", Net: "udp", Source: laddr, Addr: net.UDPAddrFromAddrPort(server), Err: os.NewSyscallError(call, err)}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, true, opErr("socket", err)
	}
	c = &rawUDP{fd: fd, server: server, port: port}
	var la, ra unix.Sockaddr
	if family == unix.AF_INET {
		c.sa4[0].Port = int(port)
		c.sa4[1] = unix.SockaddrInet4{Port: int(server.Port()), Addr: addr.As4()}
		la, ra = &c.sa4[0], &c.sa4[1]
	} else {
		la, ra = &unix.SockaddrInet6{Port: int(port)}, &unix.SockaddrInet6{Port: int(server.Port()), Addr: addr.As16()}
	}
	if port != 0 {
		if err := unix.Bind(fd, la); err != nil {
			unix.Close(fd)
			return nil, true, opErr("bind", err)
		}
	}
	if err := unix.Connect(fd, ra); err != nil {
		unix.Close(fd)
		return nil, true, opErr("connect", err)
	}
	c.f = os.NewFile(uintptr(fd), "udp")
	if c.rc, err = c.f.SyscallConn(); err != nil {
		c.f.Close()
		return nil, true, opErr("socket", err)
	}
	c.readFn = c.read
	return c, true, nil
}

// opError wraps a failed op (read, write) as net's UDPConn would.
func (c *rawUDP) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: c.LocalAddr(), Addr: net.UDPAddrFromAddrPort(c.server), Err: err}
}

// LocalAddr is the socket's source address, from the kernel (the
// address the route chose, and the port when the kernel chose it).
func (c *rawUDP) LocalAddr() net.Addr {
	if sa, err := unix.Getsockname(c.fd); err == nil {
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			return &net.UDPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
		case *unix.SockaddrInet6:
			return &net.UDPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
		}
	}
	return &net.UDPAddr{Port: int(c.port)}
}

// Write sends b as one datagram. A UDP socket's send buffer is never
// full in practice: the write goes straight to the system call, and only
// EAGAIN waits for the poller.
func (c *rawUDP) Write(b []byte) (int, error) {
	n, err := unix.Write(c.fd, b)
	if err == unix.EAGAIN {
		n, err = c.writeWaiting(b)
	}
	if err != nil {
		return 0, c.writeError(err)
	}
	return n, nil
}

// writeWaiting writes b once the poller says the socket is writable (or
// its deadline passes).
func (c *rawUDP) writeWaiting(b []byte) (n int, err error) {
	var werr error
	if err := c.rc.Write(func(fd uintptr) bool {
		n, werr = unix.Write(int(fd), b)
		return werr != unix.EAGAIN
	}); err != nil {
		return 0, err
	}
	return n, werr
}

// writeError is err from Write as net's would be.
func (c *rawUDP) writeError(err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError("write", errno)
	}
	return c.opError("write", err)
}

// ReadFromUDPAddrPort reads the next datagram into b. It comes from the
// server (the socket is connected), which it reports as the source.
func (c *rawUDP) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	c.buf, c.n, c.err = b, 0, nil
	err := c.rc.Read(c.readFn)
	c.buf = nil
	if err == nil && c.err != nil {
		err = os.NewSyscallError("read", c.err)
	}
	if err != nil {
		return 0, netip.AddrPort{}, c.opError("read", err)
	}
	return c.n, c.server, nil
}

// read is the poller's callback for ReadFromUDPAddrPort: true when the
// read is done (a datagram or an error), false to wait for the socket to
// become readable. It always tries the read first, even right after the
// query was sent: the poller forgets a readiness it saw before the wait
// began (rc.Read resets it), so a reply that came back fast would wait
// for the deadline.
func (c *rawUDP) read(fd uintptr) bool {
	for range maxEINTR {
		n, err := unix.Read(int(fd), c.buf)
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		c.n, c.err = n, err
		return true
	}
	c.err = unix.EINTR
	return true
}

// maxEINTR bounds the reads one read retries when a signal interrupts
// them: Go installs its signal handlers with SA_RESTART, so EINTR is
// rare, and three in a row is a storm of signals, reported as an error.
const maxEINTR = 3

// SetDeadline sets the read and write deadline.
func (c *rawUDP) SetDeadline(t time.Time) error { return c.f.SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (c *rawUDP) SetReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

// Close closes the socket.
func (c *rawUDP) Close() error { return c.f.Close() }
