//go:build linux

package udpbatch

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// MaxBatch bounds a Conn's batch: the kernel moves at most UIO_MAXIOV
	// (1024) messages per recvmmsg or sendmmsg.
	MaxBatch = 1024
	// oobLen is the control-message room per datagram read: one
	// SCM_TIMESTAMPNS (a 16-byte header and a 16-byte timespec on 64-bit
	// systems), with room to spare for one more small message.
	oobLen = 64
	// maxEINTR bounds the retries of a system call a signal interrupted;
	// one retry nearly always succeeds, and a run this long means
	// something else is wrong, which the caller sees as the error.
	maxEINTR = 16
)

// mmsgCall is recvmmsg or sendmmsg on fd over hdrs: how many messages
// moved, or the error. Tests put fakes in a Conn's recv and send.
type mmsgCall func(fd uintptr, hdrs []unix.Mmsghdr) (int, unix.Errno)

// Conn reads and writes batches of datagrams on one UDP socket. A Conn is
// used by one goroutine at a time; several Conns may share a socket.
type Conn struct {
	rc     syscall.RawConn
	family int // unix.AF_INET or unix.AF_INET6: how destinations are written
	zone   zoneCache

	// Made once, reused by every call: a call's headers point at its
	// messages' buffers and at these.
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // room for either family's address
	oob   []byte                  // oobLen per message

	recv, send mmsgCall

	// The callbacks RawConn runs, made once (a closure made per call
	// would allocate), and what they share with the call in progress:
	// how many headers it uses, and what the system call returned.
	readFn, writeFn func(fd uintptr) bool
	k, n            int
	errno           unix.Errno
}

// New returns a Conn on conn that moves up to size datagrams per call
// (between 1 and MaxBatch).
func New(conn *net.UDPConn, size int) (*Conn, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("udpbatch: %w", err)
	}
	var family int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		family, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	}); err != nil {
		return nil, fmt.Errorf("udpbatch: %w", err)
	}
	if serr != nil {
		return nil, fmt.Errorf("udpbatch: socket family: %w", serr)
	}
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return nil, fmt.Errorf("udpbatch: socket family %d is not IPv4 or IPv6", family)
	}
	size = min(max(size, 1), MaxBatch)
	c := &Conn{
		rc:     rc,
		family: family,
		hdrs:   make([]unix.Mmsghdr, size),
		iovs:   make([]unix.Iovec, size),
		names:  make([]unix.RawSockaddrInet6, size),
		oob:    make([]byte, size*oobLen),
		recv:   recvmmsg,
		send:   sendmmsg,
	}
	for i := range c.hdrs {
		h := &c.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&c.names[i]))
		h.Iov = &c.iovs[i]
		h.SetIovlen(1)
	}
	c.readFn = func(fd uintptr) bool { return c.call(fd, c.recv) }
	c.writeFn = func(fd uintptr) bool { return c.call(fd, c.send) }
	return c, nil
}

// ReadBatch reads at least one datagram, waiting for one as a
// net.UDPConn's read does (deadlines and Close end the wait), and as many
// more as are queued, up to len(ms) and the Conn's size. Each message's
// Buf is where its datagram goes.
func (c *Conn) ReadBatch(ms []Message) (int, error) {
	k := min(len(ms), len(c.hdrs))
	if k == 0 {
		return 0, nil
	}
	for i := range k {
		h := &c.hdrs[i]
		h.Len = 0
		h.Hdr.Namelen = unix.SizeofSockaddrInet6
		h.Hdr.Control = &c.oob[i*oobLen]
		h.Hdr.SetControllen(oobLen)
		h.Hdr.Flags = 0
		c.setBuf(i, ms[i].Buf)
	}
	c.k = k
	if err := c.rc.Read(c.readFn); err != nil {
		return 0, fmt.Errorf("udpbatch: read: %w", err)
	}
	if c.errno != 0 {
		return 0, fmt.Errorf("udpbatch: %w", os.NewSyscallError("recvmmsg", c.errno))
	}
	for i := range c.n {
		h := &c.hdrs[i]
		m := &ms[i]
		m.N = min(int(h.Len), len(m.Buf))
		m.Truncated = h.Hdr.Flags&unix.MSG_TRUNC != 0
		m.Addr = c.source(&c.names[i], h.Hdr.Namelen)
		m.Received = stamp(c.oob[i*oobLen : i*oobLen+min(int(h.Hdr.Controllen), oobLen)])
	}
	return c.n, nil
}

// WriteBatch sends ms[0], and as many of the messages after it as the
// kernel takes in one call (up to the Conn's size), waiting while the
// socket's buffer is full. It returns how many it sent, at least one, or
// the error that kept ms[0] from being sent: the caller may skip that one
// and go on with the rest.
func (c *Conn) WriteBatch(ms []Message) (int, error) {
	k := min(len(ms), len(c.hdrs))
	if k == 0 {
		return 0, nil
	}
	for i := range k {
		h := &c.hdrs[i]
		n, ok := c.dest(&c.names[i], ms[i].Addr)
		if !ok {
			if i == 0 {
				return 0, fmt.Errorf("udpbatch: cannot send to %v from an %s socket", ms[0].Addr, familyName(c.family))
			}
			k = i // send those before it; the next call reports it
			break
		}
		h.Len = 0
		h.Hdr.Namelen = n
		h.Hdr.Control = nil
		h.Hdr.SetControllen(0)
		h.Hdr.Flags = 0
		c.setBuf(i, ms[i].Buf)
	}
	c.k = k
	if err := c.rc.Write(c.writeFn); err != nil {
		return 0, fmt.Errorf("udpbatch: write: %w", err)
	}
	if c.errno != 0 {
		return 0, fmt.Errorf("udpbatch: write to %v: %w", ms[0].Addr, os.NewSyscallError("sendmmsg", c.errno))
	}
	if c.n <= 0 {
		return 0, fmt.Errorf("udpbatch: write to %v: %w", ms[0].Addr, errNothingSent)
	}
	return c.n, nil
}

// errNothingSent: sendmmsg returned neither an error nor a count.
var errNothingSent = errors.New("sendmmsg sent nothing")

// setBuf points message i's I/O vector at buf.
func (c *Conn) setBuf(i int, buf []byte) {
	v := &c.iovs[i]
	if len(buf) == 0 {
		v.Base = nil
		v.SetLen(0)
		return
	}
	v.Base = &buf[0]
	v.SetLen(len(buf))
}

// call runs one system call for RawConn's Read or Write: false asks the
// runtime to park until the socket is ready (EAGAIN), true ends the wait
// with the result in c.n and c.errno. A signal's EINTR is retried at once:
// waiting for readiness instead could miss datagrams already queued.
func (c *Conn) call(fd uintptr, f mmsgCall) bool {
	for range maxEINTR {
		n, errno := f(fd, c.hdrs[:c.k])
		switch errno {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		c.n, c.errno = n, errno
		return true
	}
	c.n, c.errno = 0, unix.EINTR
	return true
}

func recvmmsg(fd uintptr, hdrs []unix.Mmsghdr) (int, unix.Errno) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), 0, 0, 0)
	return int(n), errno
}

func sendmmsg(fd uintptr, hdrs []unix.Mmsghdr) (int, unix.Errno) {
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), 0, 0, 0)
	return int(n), errno
}

func familyName(family int) string {
	if family == unix.AF_INET {
		return "IPv4"
	}
	return "IPv6"
}
