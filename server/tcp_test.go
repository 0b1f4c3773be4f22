package server_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// dialFrom opens a TCP connection to addr from the local address src
// (port 0), so tests can act as several clients.
func dialFrom(t *testing.T, src netip.Addr, addr netip.AddrPort) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// frame prefixes b with its two-octet length (RFC 1035 §4.2.2).
func frame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// askTCP sends one query on c and reads its reply.
func askTCP(t *testing.T, c net.Conn, name string) (*dns.Msg, error) {
	t.Helper()
	if _, err := c.Write(frame(pack(t, question(name, dns.TypeA)))); err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	dc := &dns.Conn{Conn: c}
	return dc.ReadMsg()
}

// waitClosed reads from c until the server closes it, and returns how long
// that took; it fails the test when the connection stays open for max.
func waitClosed(t *testing.T, c net.Conn, max time.Duration) time.Duration {
	t.Helper()
	d, err := closeWait(c, max)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// closeWait is waitClosed for other goroutines than the test's.
func closeWait(c net.Conn, max time.Duration) (time.Duration, error) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(max))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // a reply (FORMERR): keep reading until closed
		}
		if errors.Is(err, io.EOF) || isReset(err) {
			return time.Since(start), nil
		}
		return 0, fmt.Errorf("read: %w; want the server to close the connection", err)
	}
}

func TestTCPMalformedFrameCloses(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	// A long idle timeout: a close within the wait below is the server
	// reacting to the frame, not to idleness.
	addr := startServer(t, h, func(c *server.Config) { c.TCPIdleTimeout = time.Minute }).Addrs()[0]
	resp := pack(t, question("www.example.org.", dns.TypeA))
	resp[2] |= 0x80 // QR=1
	twoQuestions := pack(t, question("www.example.org.", dns.TypeA))
	twoQuestions[5] = 2
	tests := []struct {
		name string
		send []byte
	}{
		{"empty frame", []byte{0, 0}},
		{"shorter than a header", frame([]byte{1, 2, 3, 4, 5})},
		{"a response (QR=1)", frame(resp)},
		{"FORMERR: two questions", frame(twoQuestions)},
		{"garbage after a valid query", append(frame(pack(t, question("www.example.org.", dns.TypeA))), 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialFrom(t, netip.MustParseAddr("127.0.0.1"), addr)
			if _, err := c.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, c, 10*time.Second)
		})
	}
}

func TestTCPNoProgressTimer(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	const idle = 300 * time.Millisecond
	addr := startServer(t, h, func(c *server.Config) {
		c.TCPIdleTimeout = idle
		c.TCPReadTimeout = time.Minute // only the no-progress timer acts
	}).Addrs()[0]
	refused := question("www.example.org.", dns.TypeA)
	refused.Question[0].Qclass = dns.ClassCHAOS // answered REFUSED: no progress

	tests := []struct {
		name string
		// send is written a piece at a time every tick while the
		// connection is open.
		send [][]byte
	}{
		{"idle", nil},
		{"one byte at a time", [][]byte{{0}, {40}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, {14}, {15}, {16}, {17}}},
		{"refused queries", [][]byte{frame(pack(t, refused)), frame(pack(t, refused)), frame(pack(t, refused)), frame(pack(t, refused)), frame(pack(t, refused)), frame(pack(t, refused)), frame(pack(t, refused)), frame(pack(t, refused))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialFrom(t, netip.MustParseAddr("127.0.0.1"), addr)
			closed := make(chan time.Duration, 1)
			go func() {
				d, err := closeWait(c, 10*time.Second)
				if err != nil {
					t.Error(err)
				}
				closed <- d
			}()
			tick := time.NewTicker(idle / 4)
			defer tick.Stop()
			for _, b := range tt.send {
				select {
				case d := <-closed:
					if d < idle-50*time.Millisecond {
						t.Errorf("closed after %v, before the idle timeout %v", d, idle)
					}
					return
				case <-tick.C:
					_, _ = c.Write(b)
				}
			}
			if d := <-closed; d < idle-50*time.Millisecond {
				t.Errorf("closed after %v, before the idle timeout %v", d, idle)
			}
		})
	}

	t.Run("valid queries keep it open", func(t *testing.T) {
		c := dialFrom(t, netip.MustParseAddr("127.0.0.1"), addr)
		deadline := time.Now().Add(4 * idle)
		for time.Now().Before(deadline) {
			if _, err := askTCP(t, c, "www.example.org."); err != nil {
				t.Fatalf("query after %v: %v", time.Until(deadline), err)
			}
			time.Sleep(idle / 4) // the client's own pace, not a readiness wait
		}
	})
}

func TestTCPConnectionCaps(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	addr := startServer(t, h, func(c *server.Config) {
		c.MaxTCPConns = 3
		c.MaxTCPConnsPerClient = 2
	}).Addrs()[0]
	a, b, c := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")

	// Two connections from a are served; a third from a is closed.
	a1, a2 := dialFrom(t, a, addr), dialFrom(t, a, addr)
	for _, conn := range []net.Conn{a1, a2} {
		if _, err := askTCP(t, conn, "www.example.org."); err != nil {
			t.Fatal(err)
		}
	}
	a3 := dialFrom(t, a, addr)
	waitClosed(t, a3, 5*time.Second)

	// b fills the table; c's connection evicts the idle connection that
	// made progress longest ago (a1) and is served.
	b1 := dialFrom(t, b, addr)
	if _, err := askTCP(t, b1, "www.example.org."); err != nil {
		t.Fatal(err)
	}
	c1 := dialFrom(t, c, addr)
	if _, err := askTCP(t, c1, "www.example.org."); err != nil {
		t.Fatalf("new client with the table full of idle connections: %v", err)
	}
	waitClosed(t, a1, 5*time.Second)
	if _, err := askTCP(t, b1, "www.example.org."); err != nil {
		t.Errorf("b1 evicted, want a1 (oldest progress): %v", err)
	}
}

func TestTCPNotIdleWhileResolving(t *testing.T) {
	lab := startLab(t)
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(600 * time.Millisecond))
	h := newHandler(t, lab, nil)
	addr := startServer(t, h, func(c *server.Config) { c.TCPIdleTimeout = 200 * time.Millisecond }).Addrs()[0]
	c := dialFrom(t, netip.MustParseAddr("127.0.0.1"), addr)
	// The resolution outlasts the idle timeout: the client is waiting, so
	// the connection is not idle and both replies come. The two queries
	// go out together (RFC 7766 pipelining): asked one after the other,
	// the second depended on this test sending it within the idle timeout
	// of the first reply, which a loaded machine under -race once missed.
	q := append(frame(pack(t, question("a.slow.org.", dns.TypeA))), frame(pack(t, question("b.slow.org.", dns.TypeA)))...)
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	dc := &dns.Conn{Conn: c}
	for i := range 2 {
		if r, err := dc.ReadMsg(); err != nil || len(r.Answer) != 1 {
			t.Fatalf("reply %d of 2, after a resolution longer than the idle timeout: %v %v", i+1, r, err)
		}
	}
}
