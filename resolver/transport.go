package resolver

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Exchanger sends one query to one server and returns the reply. network
// is "udp" or "tcp". Implementations must return only a reply whose ID and
// question match q and that came from server; anything else is to be
// ignored while waiting. The resolver checks ID and question again.
//
// The resolver reaches the network only through an Exchanger, so tests,
// the offline demo and the conformance runner supply their own.
type Exchanger interface {
	Exchange(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error)
}

// ExchangerFunc adapts a function to Exchanger.
type ExchangerFunc func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error)

// Exchange calls f.
func (f ExchangerFunc) Exchange(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
	return f(ctx, q, network, server)
}

// maxIgnoredReplies bounds how many non-matching datagrams one UDP wait
// reads before giving up: a flood of forgeries must not keep a query alive
// forever (the deadline also ends it). A server sends one reply per
// query, so 64 on one fresh socket is a flood, never a broken server:
// the wait ends with errReplyFlood and the question goes over TCP.
const maxIgnoredReplies = 64

// errReplyFlood is wrapped by the error of a UDP wait that read
// maxIgnoredReplies replies failing the checks.
var errReplyFlood = errors.New("too many replies failing the checks: a forgery flood")

// maxTCPMessages bounds the messages read on one TCP connection while
// looking for the one with our ID.
const maxTCPMessages = 8

// maxUDPReply is the largest UDP reply read: 4096 bytes, the largest EDNS
// payload size in common use (RFC 6891 §6.2.5's example; BIND's and
// Unbound's former default). We advertise EDNSBufferSize (1232), so a
// larger datagram breaks RFC 6891 §7; the question is asked again over
// TCP, where any size fits (errOversizedReply). Each UDP query in flight
// holds one receive buffer: at 64 KiB (dns.MaxMsgSize) those buffers were
// the largest item of the heap outside the caches under a flood of cache
// misses (10 MB of a 48 MB live heap at 3,000 q/s, and up to 64 MiB at
// max-inflight 1000); at 4 KiB they are a sixteenth of that.
const maxUDPReply = 4096

// errOversizedReply is returned for a UDP reply larger than maxUDPReply
// whose ID and question match: the resolver asks again over TCP, as after
// TC=1. Its cookie, in the OPT record at the cut-off end, is checked on
// the TCP reply instead; a forger who guesses ID and port gains only that
// TCP query, as with a forged TC=1 reply.
var errOversizedReply = errors.New("resolver: UDP reply larger than 4096 bytes")

// NetExchanger is the real network transport. Each UDP query uses a new
// connected socket from a fresh random source port (RFC 5452 §9.2; see
// SourcePorts), and the kernel drops datagrams from any other source; the ID and
// question are checked on every datagram that does arrive.
type NetExchanger struct {
	// Timeout is the wait for one reply; the context's deadline wins when
	// it is earlier. Zero means DefaultQueryTimeout.
	Timeout time.Duration
	// Dialer is used for both transports; nil means a zero net.Dialer.
	Dialer *net.Dialer
	// Ports are the UDP source ports drawn from; nil means the kernel's
	// ephemeral range. The resolver's default NetExchanger uses every
	// unprivileged port (see SourcePorts).
	Ports *SourcePorts
	// TLS lists servers reached over DNS over TLS (RFC 7858) whatever
	// network is asked for, with the configuration their certificate is
	// verified with (forward zones' tls:// servers). It must not change
	// once queries are sent.
	TLS map[netip.AddrPort]*tls.Config
	// OnUnwanted, if set, is called for every reply from the server with
	// the wrong ID or question (a forger's guess, or a late reply).
	OnUnwanted func(server netip.AddrPort)

	// bufs recycles UDP receive buffers (maxUDPReply plus the byte that
	// tells a datagram too large): a fresh buffer per query was most of a
	// cold resolution's allocated bytes. After it, queryRoom bytes the
	// query is packed in.
	bufs sync.Pool
}

var _ Exchanger = (*NetExchanger)(nil)

// Exchange implements Exchanger.
func (x *NetExchanger) Exchange(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
	timeout := x.Timeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	return x.exchange(ctx, time.Now().Add(timeout), q, network, server)
}

// exchange is Exchange waiting until deadline, or ctx's deadline when
// that is earlier. The resolver calls it with each query's own timeout
// (Resolver.exchange): over UDP a socket deadline is all a query needs,
// and a context of its own per query, with its timer and its watch for
// cancellation, was 700 bytes of every cache miss (#11).
func (x *NetExchanger) exchange(ctx context.Context, deadline time.Time, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if network == "udp" && x.TLS[server] == nil {
		bp, _ := x.bufs.Get().(*[]byte)
		if bp == nil {
			b := make([]byte, maxUDPReply+1+queryRoom)
			bp = &b
		}
		defer x.bufs.Put(bp)
		buf := *bp
		wire, err := packQuery(q, buf[maxUDPReply+1:])
		if err != nil {
			return nil, err
		}
		return exchangeUDP(ctx, deadline, x.Dialer, x.Ports, x.OnUnwanted, buf[:maxUDPReply+1], wire, q, server)
	}
	wire, err := packQuery(q, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if tc, ok := x.TLS[server]; ok {
		return exchangeTLS(ctx, x.streamDialer(), tc, wire, q, server)
	}
	if network != "tcp" {
		return nil, fmt.Errorf("resolver: unknown network %q", network)
	}
	return exchangeTCP(ctx, x.streamDialer(), wire, q, server)
}

// queryRoom is the room for the query after a pooled UDP receive buffer
// (NetExchanger.bufs), so packing it allocates nothing (#11): a query is
// its header, a name of at most 255 octets, the type and class and an
// OPT record with a cookie (11 + 4 + 40 octets), under 350; a larger one
// is packed into a buffer of its own.
const queryRoom = 512

// packQuery packs q into buf when it fits, else into a new buffer.
func packQuery(q *dns.Msg, buf []byte) ([]byte, error) {
	wire, err := q.PackBuffer(buf)
	if err != nil {
		return nil, fmt.Errorf("resolver: packing query: %w", err)
	}
	return wire, nil
}

// watchContext makes a deadline-only conn honour ctx cancellation.
func watchContext(ctx context.Context, c net.Conn) func() {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }
}

// exchangeUDP sends wire to server from a socket of its own (dialUDP: d
// may be nil) and waits for the reply to q until deadline, or until ctx
// is cancelled when it can be.
func exchangeUDP(ctx context.Context, deadline time.Time, d *net.Dialer, sp *SourcePorts, onUnwanted func(netip.AddrPort), buf, wire []byte, q *dns.Msg, server netip.AddrPort) (*dns.Msg, error) {
	uc, err := dialUDP(ctx, d, sp, server)
	if err != nil {
		return nil, netErr(ctx, err)
	}
	defer uc.Close()
	if err := uc.SetDeadline(deadline); err != nil {
		return nil, netErr(ctx, err)
	}
	stopWatch := func() {}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { uc.SetDeadline(time.Unix(1, 0)) })
		stopWatch = func() { stop() }
	}
	defer stopWatch()
	if _, err := uc.Write(wire); err != nil {
		return nil, netErr(ctx, err)
	}
	var lastBad error
	looked := false
	for i := 0; i < maxIgnoredReplies; i++ {
		n, from, err := readDatagram(ctx, uc, buf, &looked, stopWatch)
		if err != nil {
			if lastBad != nil {
				return nil, fmt.Errorf("%w: %w", ErrMalformed, lastBad)
			}
			return nil, netErr(ctx, err)
		}
		if from.Addr().Unmap() != server.Addr().Unmap() || from.Port() != server.Port() {
			continue // not from the server we asked: ignore, keep waiting
		}
		var m *dns.Msg
		if n > maxUDPReply {
			if err = oversizedMatches(buf[:n], q); err == nil {
				return nil, errOversizedReply
			}
		} else {
			m, err = checkReply(buf[:n], q, false)
		}
		if err != nil {
			lastBad = err
			if onUnwanted != nil {
				onUnwanted(server)
			}
			continue
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: %w (%d), the last: %w", ErrMalformed, errReplyFlood, maxIgnoredReplies, lastBad)
}

// lastLookWait bounds the last look (readDatagram) when nothing is
// queued: a timeout costs at most this much more. A queued reply is taken
// by the first read, without waiting.
const lastLookWait = time.Millisecond

// readDatagram reads the next datagram from uc. When the read ends at the
// deadline (the server's RTO), it looks once more (looked records it,
// once per exchange), for at most lastLookWait: after a stall of this
// process longer than the RTO (a loaded machine), Go's runtime fires the
// expired deadline before it sees the socket readable, and a reply that
// arrived in time waits in the socket's queue. Taken, it saves asking
// another server the same question. Measured: with an 80 ms stop of the
// process, a 30 ms deadline and a 5 ms reply, 27 of 50 reads timed out
// with the reply queued, and a last look took 26 of them. Not when the
// caller cancelled ctx (its request ended). stop ends ctx's watch first,
// so the past deadline it sets when ctx ends does not undo the look (if
// the watch is running already, the look may still see that deadline:
// then the timeout stands, as before).
func readDatagram(ctx context.Context, uc udpConn, buf []byte, looked *bool, stop func()) (int, netip.AddrPort, error) {
	n, from, err := uc.ReadFromUDPAddrPort(buf)
	if err == nil || !lookAgain(ctx, uc, err, looked, stop) {
		return n, from, err
	}
	if n2, from2, err2 := uc.ReadFromUDPAddrPort(buf); err2 == nil {
		return n2, from2, nil
	}
	return n, from, err
}

// readStream fills b from a TCP or TLS connection, with the same last
// look as readDatagram when the read ends at the deadline: a stall of
// the process past the query's timeout leaves the reply in the socket's
// queue just as over UDP (measured, an 80 ms stop of the process, a 30 ms
// timeout, a 5 ms reply: 4-12 of 50 TCP reads timed out with the reply
// queued, and the question was asked again; inflight.go: lastLookGrace).
// The bytes read before
// the deadline are kept; the look reads the rest. A TLS connection
// survives the timeout (crypto/tls keeps a partial record and treats a
// deadline error as temporary).
func readStream(ctx context.Context, c net.Conn, b []byte, looked *bool, stop func()) error {
	n, err := io.ReadFull(c, b)
	if err == nil || !lookAgain(ctx, c, err, looked, stop) {
		return err
	}
	if _, err2 := io.ReadFull(c, b[n:]); err2 == nil {
		return nil
	}
	return err
}

// lookAgain reports whether a read that failed with err gets its last
// look, and readies c for it (a read deadline lastLookWait away): only
// when the deadline ended it, once per exchange (looked), and not when
// the caller cancelled ctx. stop ends ctx's watch first.
func lookAgain(ctx context.Context, c interface{ SetReadDeadline(time.Time) error }, err error, looked *bool, stop func()) bool {
	if *looked || !errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	*looked = true
	stop()
	return c.SetReadDeadline(time.Now().Add(lastLookWait)) == nil
}

func exchangeTCP(ctx context.Context, d *net.Dialer, wire []byte, q *dns.Msg, server netip.AddrPort) (*dns.Msg, error) {
	c, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return nil, netErr(ctx, err)
	}
	defer c.Close()
	stopWatch := watchContext(ctx, c)
	defer stopWatch()
	return exchangeStream(ctx, c, wire, q, stopWatch)
}

// streamDialer is the Dialer for TCP and TLS: x.Dialer, a zero one when
// nil, with a local address given for UDP (the source address the UDP
// queries use) used for TCP too, rather than failing the dial with a
// mismatched address type.
func (x *NetExchanger) streamDialer() *net.Dialer {
	d := x.Dialer
	if d == nil {
		return &net.Dialer{}
	}
	la, ok := d.LocalAddr.(*net.UDPAddr)
	if !ok || la == nil {
		return d
	}
	dd := *d
	dd.LocalAddr = &net.TCPAddr{IP: la.IP, Zone: la.Zone}
	return &dd
}

// exchangeTLS is exchangeTCP inside TLS (RFC 7858): the handshake
// verifies the server's certificate with tc before the query is sent.
func exchangeTLS(ctx context.Context, d *net.Dialer, tc *tls.Config, wire []byte, q *dns.Msg, server netip.AddrPort) (*dns.Msg, error) {
	raw, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return nil, netErr(ctx, err)
	}
	defer raw.Close()
	stopWatch := watchContext(ctx, raw)
	defer stopWatch()
	c := tls.Client(raw, tc)
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("resolver: TLS with %v: %w", server, netErr(ctx, err))
	}
	return exchangeStream(ctx, c, wire, q, stopWatch)
}

// exchangeStream sends wire with its length prefix on c and reads replies
// until one matches q. stop ends the watch of ctx on c (readStream's last
// look).
func exchangeStream(ctx context.Context, c net.Conn, wire []byte, q *dns.Msg, stop func()) (*dns.Msg, error) {
	out := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(out, uint16(len(wire)))
	copy(out[2:], wire)
	if _, err := c.Write(out); err != nil {
		return nil, netErr(ctx, err)
	}
	var lastBad error
	looked := false
	for i := 0; i < maxTCPMessages; i++ {
		var l [2]byte
		if err := readStream(ctx, c, l[:], &looked, stop); err != nil {
			if lastBad != nil {
				return nil, fmt.Errorf("%w: %w", ErrMalformed, lastBad)
			}
			return nil, netErr(ctx, err)
		}
		buf := make([]byte, binary.BigEndian.Uint16(l[:]))
		if err := readStream(ctx, c, buf, &looked, stop); err != nil {
			return nil, netErr(ctx, err)
		}
		m, err := checkReply(buf, q, true)
		if err != nil {
			lastBad = err
			continue
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: no matching reply on TCP", ErrMalformed)
}

// errRejected is wrapped by every reason checkReply and matchesQuestion
// give for not using a reply: over UDP, from the server's own address, it
// is what a blind forger's guesses look like (exchange.go then asks over
// TCP where the server is known to send cookies; spoof.go).
var errRejected = errors.New("reply rejected")

// checkReply parses b and checks that it answers q: QR set, same ID, same
// question (RFC 5452 §9.1), and the client cookie if one was sent
// (cookies.go); stream says it came over TCP or TLS. The name is compared
// without regard to case here: the resolver checks a 0x20 pattern itself
// (caps.go), since a server that does not echo case must be told apart
// from a forger.
func checkReply(b []byte, q *dns.Msg, stream bool) (*dns.Msg, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%w: short message", errRejected)
	}
	if binary.BigEndian.Uint16(b) != q.Id {
		return nil, fmt.Errorf("%w: wrong ID", errRejected)
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return nil, fmt.Errorf("%w: unpacking reply: %v", errRejected, err)
	}
	if err := matchesQuestion(m, q, stream); err != nil {
		return nil, err
	}
	return m, nil
}

// oversizedMatches checks the header and question of a datagram too
// large for the receive buffer (b is cut at its end) against the query:
// a reply, with q's ID and question.
func oversizedMatches(b []byte, q *dns.Msg) error {
	if len(b) < 12 || binary.BigEndian.Uint16(b[4:]) != 1 {
		return fmt.Errorf("%w: oversized reply without one question", errRejected)
	}
	name, off, err := dns.UnpackDomainName(b, 12)
	if err != nil || off+4 > len(b) {
		return fmt.Errorf("%w: unpacking the question of an oversized reply: %v", errRejected, err)
	}
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: binary.BigEndian.Uint16(b), Response: b[2]&0x80 != 0},
		Question: []dns.Question{{Name: name, Qtype: binary.BigEndian.Uint16(b[off:]), Qclass: binary.BigEndian.Uint16(b[off+2:])}}}
	return questionMatches(m, q)
}

// matchesQuestion checks a parsed reply against the query: QR bit, ID,
// question and cookie; stream says it came over TCP or TLS (cookies.go:
// checkCookie).
func matchesQuestion(m, q *dns.Msg, stream bool) error {
	if err := questionMatches(m, q); err != nil {
		return err
	}
	return checkCookie(m, q, stream)
}

// questionMatches checks a reply's QR bit, ID and question against the
// query's.
func questionMatches(m, q *dns.Msg) error {
	if !m.Response {
		return fmt.Errorf("%w: QR bit not set", errRejected)
	}
	if m.Id != q.Id {
		return fmt.Errorf("%w: wrong ID", errRejected)
	}
	if len(m.Question) != 1 || len(q.Question) != 1 {
		// RFC 7766 allows an empty question only for some errors; a
		// reply we cannot tie to our question is not used.
		return fmt.Errorf("%w: reply has no question", errRejected)
	}
	mq, qq := m.Question[0], q.Question[0]
	if mq.Qtype != qq.Qtype || mq.Qclass != qq.Qclass || !strings.EqualFold(mq.Name, qq.Name) {
		return fmt.Errorf("%w: wrong question %s %s", errRejected, mq.Name, dns.TypeToString[mq.Qtype])
	}
	return nil
}

// netErr turns a network error into ErrTimeout when it is one.
func netErr(ctx context.Context, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return fmt.Errorf("resolver: network: %w", err)
}
