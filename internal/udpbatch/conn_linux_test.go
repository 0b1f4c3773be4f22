//go:build linux

package udpbatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// testWait bounds every wait of these tests for a datagram: loopback
// delivers at once, so reaching it means the code under test is stuck.
const testWait = 10 * time.Second

// listen opens a UDP socket of the given kind on loopback, port 0:
// "v4" (127.0.0.1), "v6" (::1) or "mapped" (an IPv6 socket bound to
// ::ffff:127.0.0.1, which talks to IPv4 peers through IPv4-mapped
// addresses, as a dual-stack listener does).
func listen(t testing.TB, kind string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	var err error
	switch kind {
	case "v4":
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	case "v6":
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("[::1]:0")))
	case "mapped":
		c, err = listenMapped()
	default:
		t.Fatalf("unknown socket kind %q", kind)
	}
	if err != nil {
		t.Fatalf("listen %s: %v", kind, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// listenMapped: Go's net package makes an IPv4 socket for an
// IPv4-mapped address, so this one is made by hand.
func listenMapped() (*net.UDPConn, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "mapped")
	defer f.Close() // FilePacketConn dups the descriptor
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: netip.MustParseAddr("::ffff:127.0.0.1").As16()}); err != nil {
		return nil, err
	}
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// addrOf is c's own address, as a peer sees it (unmapped).
func addrOf(c *net.UDPConn) netip.AddrPort {
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func newConn(t testing.TB, c *net.UDPConn, size int) *Conn {
	t.Helper()
	bc, err := New(c, size)
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

func send(t testing.TB, from *net.UDPConn, to netip.AddrPort, payloads ...[]byte) {
	t.Helper()
	for _, p := range payloads {
		if _, err := from.WriteToUDPAddrPort(p, to); err != nil {
			t.Fatalf("send to %v: %v", to, err)
		}
	}
}

// got is what a test compares of a datagram read.
type got struct {
	Data      string
	Addr      string // netip.AddrPort's String: cmp cannot look inside
	Truncated bool
	Stamped   bool
}

func gotOf(ms []Message) []got {
	var g []got
	for _, m := range ms {
		g = append(g, got{string(m.Buf[:m.N]), m.Addr.String(), m.Truncated, !m.Received.IsZero()})
	}
	return g
}

func messages(n, size int) []Message {
	ms := make([]Message, n)
	for i := range ms {
		ms[i].Buf = make([]byte, size)
	}
	return ms
}

// TestReadBatch reads what peers of each address family sent: sources
// (IPv4-mapped ones unmapped), cut-short datagrams (MSG_TRUNC), batches
// smaller and larger than what is queued, and the kernel's receive time
// with and without SO_TIMESTAMPNS.
func TestReadBatch(t *testing.T) {
	tests := []struct {
		name     string
		server   string // socket kind (listen)
		client   string
		stamps   bool // SO_TIMESTAMPNS on the server's socket
		sent     []string
		slot     int // bytes per message
		batch    int // messages passed to ReadBatch
		wantRead []int
	}{
		{name: "IPv4 source", server: "v4", client: "v4", sent: []string{"query"}, slot: 512, batch: 4, wantRead: []int{1}},
		{name: "IPv6 source", server: "v6", client: "v6", sent: []string{"query"}, slot: 512, batch: 4, wantRead: []int{1}},
		{name: "IPv4 source on an IPv6 socket is unmapped", server: "mapped", client: "v4", sent: []string{"query"}, slot: 512, batch: 4, wantRead: []int{1}},
		{name: "several queued, one call", server: "v4", client: "v4", sent: []string{"a", "bb", "ccc"}, slot: 512, batch: 8, wantRead: []int{3}},
		{name: "more queued than the batch", server: "v6", client: "v6", sent: []string{"a", "bb", "ccc", "dddd", "eeeee"}, slot: 512, batch: 3, wantRead: []int{3, 2}},
		{name: "cut short (MSG_TRUNC)", server: "v4", client: "v4", sent: []string{"0123456789abcdef", "short"}, slot: 10, batch: 4, wantRead: []int{2}},
		{name: "exact fit is whole", server: "v4", client: "v4", sent: []string{"0123456789"}, slot: 10, batch: 4, wantRead: []int{1}},
		{name: "empty datagram", server: "v4", client: "v4", sent: []string{""}, slot: 10, batch: 4, wantRead: []int{1}},
		{name: "receive time, IPv4", server: "v4", client: "v4", stamps: true, sent: []string{"a", "b"}, slot: 512, batch: 4, wantRead: []int{2}},
		{name: "receive time, IPv6", server: "v6", client: "v6", stamps: true, sent: []string{"a"}, slot: 512, batch: 4, wantRead: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli := listen(t, tt.server), listen(t, tt.client)
			if tt.stamps {
				rc, err := srv.SyscallConn()
				if err != nil {
					t.Fatal(err)
				}
				var serr error
				if err := rc.Control(func(fd uintptr) {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
				}); err != nil || serr != nil {
					t.Fatal(err, serr)
				}
			}
			before := time.Now()
			for _, p := range tt.sent {
				send(t, cli, addrOf(srv), []byte(p))
			}
			bc := newConn(t, srv, 32)
			_ = srv.SetReadDeadline(time.Now().Add(testWait))
			var reads []int
			var all []got
			var last []Message
			for range tt.wantRead { // bounded: one read per expected batch
				ms := messages(tt.batch, tt.slot)
				n, err := bc.ReadBatch(ms)
				if err != nil {
					t.Fatalf("read %d: %v", len(reads)+1, err)
				}
				reads = append(reads, n)
				all = append(all, gotOf(ms[:n])...)
				last = ms[:n]
			}
			var want []got
			for _, p := range tt.sent {
				w := got{Data: p, Addr: addrOf(cli).String(), Stamped: tt.stamps}
				if len(p) > tt.slot {
					w.Data, w.Truncated = p[:tt.slot], true
				}
				want = append(want, w)
			}
			if diff := cmp.Diff(tt.wantRead, reads); diff != "" {
				t.Errorf("datagrams per read (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, all); diff != "" {
				t.Errorf("datagrams (-want +got):\n%s", diff)
			}
			if tt.stamps && len(last) > 0 {
				// The kernel's wall clock: between the send and now, give
				// or take the clocks' granularity.
				if rx := last[0].Received; rx.Before(before.Add(-time.Second)) || rx.After(time.Now().Add(time.Second)) {
					t.Errorf("receive time %v, sent at %v", rx, before)
				}
			}
		})
	}
}

// TestWriteBatch sends to each address family from each kind of socket:
// what arrives, from where, and the error for a destination the socket
// cannot reach (a batch stops before it; the next call reports it).
func TestWriteBatch(t *testing.T) {
	tests := []struct {
		name     string
		server   string
		dests    []string // peer socket kinds; "" is the zero address
		wantSent []int    // per call, until every message is sent or one fails
		wantErr  bool     // the last call fails
	}{
		{name: "IPv4", server: "v4", dests: []string{"v4", "v4"}, wantSent: []int{2}},
		{name: "IPv6", server: "v6", dests: []string{"v6"}, wantSent: []int{1}},
		{name: "IPv4 from an IPv6 socket", server: "mapped", dests: []string{"v4", "v4", "v4"}, wantSent: []int{3}},
		{name: "IPv6 from an IPv4 socket", server: "v4", dests: []string{"v6"}, wantSent: []int{0}, wantErr: true},
		{name: "no address", server: "v6", dests: []string{""}, wantSent: []int{0}, wantErr: true},
		{name: "unreachable second: the first goes alone", server: "v4", dests: []string{"v4", "v6", "v4"}, wantSent: []int{1, 0}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := listen(t, tt.server)
			bc := newConn(t, srv, 32)
			ms := make([]Message, len(tt.dests))
			var peers []*net.UDPConn
			for i, kind := range tt.dests {
				ms[i].Buf = []byte{'r', byte('0' + i)}
				if kind != "" {
					p := listen(t, kind)
					peers = append(peers, p)
					ms[i].Addr = addrOf(p)
				}
			}
			var sent []int
			var err error
			for rest := ms; len(rest) > 0 && err == nil; { // bounded: each call sends at least one or fails
				var n int
				n, err = bc.WriteBatch(rest)
				sent = append(sent, n)
				rest = rest[n:]
			}
			if diff := cmp.Diff(tt.wantSent, sent); diff != "" {
				t.Errorf("sent per call (-want +got):\n%s", diff)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			total := 0
			for _, n := range sent {
				total += n
			}
			buf := make([]byte, 64)
			for i := range total {
				p := peers[i]
				_ = p.SetReadDeadline(time.Now().Add(testWait))
				n, from, err := p.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("peer %d: %v", i, err)
				}
				from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
				if string(buf[:n]) != string(ms[i].Buf) || from != addrOf(srv) {
					t.Errorf("peer %d got %q from %v, want %q from %v", i, buf[:n], from, ms[i].Buf, addrOf(srv))
				}
			}
		})
	}
}

// fakeCall stands in for recvmmsg or sendmmsg: it answers from a script
// (one entry per call; past its end, the real call), counting calls.
type fakeCall struct {
	script []fakeResult
	real   mmsgCall
	calls  atomic.Int32
	first  chan struct{} // closed on the first call
}

type fakeResult struct {
	n     int // messages moved (by the real call); -1: all of them
	errno unix.Errno
}

func newFake(real mmsgCall, script ...fakeResult) *fakeCall {
	return &fakeCall{script: script, real: real, first: make(chan struct{})}
}

func (f *fakeCall) call(fd uintptr, hdrs []unix.Mmsghdr) (int, unix.Errno) {
	i := int(f.calls.Add(1)) - 1
	if i == 0 {
		close(f.first)
	}
	if i >= len(f.script) {
		return f.real(fd, hdrs)
	}
	r := f.script[i]
	if r.errno != 0 {
		return 0, r.errno
	}
	switch {
	case r.n == 0:
		return 0, 0
	case r.n < 0 || r.n > len(hdrs):
		return f.real(fd, hdrs)
	}
	return f.real(fd, hdrs[:r.n])
}

// TestWriteErrors: the kernel's answers to sendmmsg, faked: a partial
// send reports what went; EINTR is retried at once; an error on the
// first message is returned with the errno; EAGAIN (the socket's buffer
// is full) parks the writer in the poller until the deadline: no
// spinning, one call, or two when the poller's first report that the new
// socket is writable wakes it once.
func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name      string
		script    []fakeResult
		deadline  bool // a write deadline in the past the wait reaches
		wantN     int
		wantErrIs error
		wantCalls int32
		maxCalls  int32 // when set, wantCalls to maxCalls calls
	}{
		{name: "partial send", script: []fakeResult{{n: 1}}, wantN: 1, wantCalls: 1},
		{name: "interrupted, then all", script: []fakeResult{{errno: unix.EINTR}, {errno: unix.EINTR}, {n: -1}}, wantN: 3, wantCalls: 3},
		{name: "interrupted without end", script: repeat(fakeResult{errno: unix.EINTR}, maxEINTR+4), wantErrIs: unix.EINTR, wantCalls: maxEINTR},
		{name: "first message refused", script: []fakeResult{{errno: unix.EPERM}}, wantErrIs: unix.EPERM, wantCalls: 1},
		{name: "sent nothing", script: []fakeResult{{n: 0}}, wantErrIs: errNothingSent, wantCalls: 1},
		{name: "buffer full until the deadline", script: repeat(fakeResult{errno: unix.EAGAIN}, 100), deadline: true, wantErrIs: os.ErrDeadlineExceeded, wantCalls: 1, maxCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, peer := listen(t, "v4"), listen(t, "v4")
			bc := newConn(t, srv, 32)
			f := newFake(sendmmsg, tt.script...)
			bc.send = f.call
			if tt.deadline {
				_ = srv.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			}
			ms := make([]Message, 3)
			for i := range ms {
				ms[i] = Message{Buf: []byte("reply"), Addr: addrOf(peer)}
			}
			n, err := bc.WriteBatch(ms)
			if n != tt.wantN {
				t.Errorf("sent %d, want %d", n, tt.wantN)
			}
			if tt.wantErrIs == nil && err != nil || tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("error %v, want %v", err, tt.wantErrIs)
			}
			if got := f.calls.Load(); got < tt.wantCalls || got > max(tt.wantCalls, tt.maxCalls) {
				t.Errorf("%d system calls, want %d to %d", got, tt.wantCalls, max(tt.wantCalls, tt.maxCalls))
			}
		})
	}
}

func repeat(r fakeResult, n int) []fakeResult {
	s := make([]fakeResult, n)
	for i := range s {
		s[i] = r
	}
	return s
}

// TestReadWaits: a read that finds the queue empty (EAGAIN) parks in the
// poller and wakes for the next datagram (two calls, no spinning), or
// for Close, or for its deadline; reads and writes on a closed socket
// fail with net.ErrClosed.
func TestReadWaits(t *testing.T) {
	tests := []struct {
		name      string
		then      string // what the test does once the reader has parked: send, close, deadline
		wantErrIs error
		wantCalls int32
	}{
		{name: "woken by a datagram", then: "send", wantCalls: 2},
		{name: "woken by Close", then: "close", wantErrIs: net.ErrClosed, wantCalls: 1},
		{name: "woken by the deadline", then: "deadline", wantErrIs: os.ErrDeadlineExceeded, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli := listen(t, "v4"), listen(t, "v4")
			bc := newConn(t, srv, 32)
			f := newFake(recvmmsg, fakeResult{errno: unix.EAGAIN})
			bc.recv = f.call
			if tt.then == "deadline" {
				_ = srv.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			} else {
				_ = srv.SetReadDeadline(time.Now().Add(testWait))
			}
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			ms := messages(4, 512)
			go func() {
				n, err := bc.ReadBatch(ms)
				done <- result{n, err}
			}()
			<-f.first // the queue looked empty: the reader parks (or is about to; a wake-up before it parks is kept)
			switch tt.then {
			case "send":
				send(t, cli, addrOf(srv), []byte("query"))
			case "close":
				_ = srv.Close()
			}
			r := <-done
			if tt.wantErrIs == nil {
				if r.err != nil || r.n != 1 || string(ms[0].Buf[:ms[0].N]) != "query" {
					t.Errorf("read %d (%q), %v; want the query", r.n, ms[0].Buf[:ms[0].N], r.err)
				}
			} else if !errors.Is(r.err, tt.wantErrIs) {
				t.Errorf("error %v, want %v", r.err, tt.wantErrIs)
			}
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("%d system calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

// TestClosed: a closed socket's reads and writes fail with net.ErrClosed.
func TestClosed(t *testing.T) {
	srv, peer := listen(t, "v6"), listen(t, "v6")
	bc := newConn(t, srv, 32)
	_ = srv.Close()
	if _, err := bc.ReadBatch(messages(2, 512)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read: %v, want net.ErrClosed", err)
	}
	if _, err := bc.WriteBatch([]Message{{Buf: []byte("x"), Addr: addrOf(peer)}}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write: %v, want net.ErrClosed", err)
	}
}

// cmsg builds one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func timespec64(sec, nsec int64) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint64(b, uint64(sec))
	binary.NativeEndian.PutUint64(b[8:], uint64(nsec))
	return b
}

// TestStamp parses control messages: the receive time alone, after
// another message, in the 32-bit layout; no time without the message,
// with a malformed one, or with a cut header.
func TestStamp(t *testing.T) {
	at := time.Unix(1796428800, 123456789)
	ts32 := make([]byte, 8)
	binary.NativeEndian.PutUint32(ts32, uint32(at.Unix()))
	binary.NativeEndian.PutUint32(ts32[4:], uint32(at.Nanosecond()))
	tests := []struct {
		name string
		oob  []byte
		want time.Time
	}{
		{"none", nil, time.Time{}},
		{"receive time", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec64(at.Unix(), int64(at.Nanosecond()))), at},
		{"after another message", bytes.Join([][]byte{cmsg(unix.IPPROTO_IP, unix.IP_TTL, []byte{64, 0, 0, 0}), cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec64(at.Unix(), int64(at.Nanosecond())))}, nil), at},
		{"32-bit timespec", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts32), at},
		{"another message only", cmsg(unix.IPPROTO_IP, unix.IP_TTL, []byte{64, 0, 0, 0}), time.Time{}},
		{"wrong length", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, []byte{1, 2, 3}), time.Time{}},
		{"cut header", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec64(1, 2))[:8], time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stamp(tt.oob); !got.Equal(tt.want) {
				t.Errorf("stamp = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNoAllocs: reading and writing a batch allocate nothing.
func TestNoAllocs(t *testing.T) {
	for _, kind := range []string{"v4", "v6", "mapped"} {
		t.Run(kind, func(t *testing.T) {
			srv := listen(t, kind)
			cliKind := kind
			if kind == "mapped" {
				cliKind = "v4"
			}
			cli := listen(t, cliKind)
			bc := newConn(t, srv, 32)
			cc := newConn(t, cli, 32)
			in := messages(32, 512)
			out := make([]Message, 8)
			for i := range out {
				out[i] = Message{Buf: []byte("query"), Addr: addrOf(srv)}
			}
			_ = srv.SetReadDeadline(time.Now().Add(testWait))
			allocs := testing.AllocsPerRun(100, func() {
				for rest := out; len(rest) > 0; { // bounded: each call sends at least one
					n, err := cc.WriteBatch(rest)
					if err != nil {
						t.Fatal(err)
					}
					rest = rest[n:]
				}
				for got := 0; got < len(out); { // bounded: each read returns at least one
					n, err := bc.ReadBatch(in)
					if err != nil {
						t.Fatal(err)
					}
					got += n
				}
			})
			if allocs != 0 {
				t.Errorf("a batch allocates %v times, want 0", allocs)
			}
		})
	}
}

// TestZones turns IPv6 scopes into zones and back, through the socket
// address forms: a link-local source gets its interface's name (or the
// index when no interface has it); a destination's zone, a name or an
// index, becomes the scope; IPv4-mapped and global sources get no zone.
func TestZones(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatalf("loopback interface: %v", err)
	}
	c := newConn(t, listen(t, "v6"), 1)
	ll := netip.MustParseAddr("fe80::1").As16()
	tests := []struct {
		name  string
		sa    unix.RawSockaddrInet6
		want  string // the source, as netip prints it
		scope uint32 // what dest writes back for it
	}{
		{"link-local on lo", unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ll, Scope_id: uint32(lo.Index)}, "[fe80::1%lo]:53", uint32(lo.Index)},
		{"no such interface", unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ll, Scope_id: 999999}, "[fe80::1%999999]:53", 999999},
		{"global", unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: netip.MustParseAddr("2001:db8::1").As16()}, "[2001:db8::1]:53", 0},
		{"IPv4-mapped", unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: netip.MustParseAddr("::ffff:192.0.2.1").As16()}, "192.0.2.1:53", 0},
		{"other family", unix.RawSockaddrInet6{Family: unix.AF_UNIX}, "invalid AddrPort", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sa := tt.sa
			setPort(&sa.Port, 53)
			ap := c.source(&sa, unix.SizeofSockaddrInet6)
			if got := ap.String(); got != tt.want {
				t.Errorf("source %s, want %s", got, tt.want)
			}
			if !ap.IsValid() {
				return
			}
			var back unix.RawSockaddrInet6
			if _, ok := c.dest(&back, ap); !ok {
				t.Fatalf("dest(%v) failed", ap)
			}
			if back.Scope_id != tt.scope || port(&back.Port) != 53 {
				t.Errorf("dest(%v): scope %d port %d, want scope %d port 53", ap, back.Scope_id, port(&back.Port), tt.scope)
			}
		})
	}
}
