package resolver

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRawUDP checks that the raw upstream socket (rawUDP) behaves as
// net.DialUDP's, case by case, both run against the same loopback peer:
// the reply and its source, a datagram too large for the buffer (cut, its
// full size not told), an empty one, a datagram from another port (the
// kernel drops it: the socket is connected), the deadline, a closed port
// (ECONNREFUSED), and the same op, addresses and wrapped errors in the
// error.
func TestRawUDP(t *testing.T) {
	type outcome = rawUDPOutcome
	tests := []struct {
		name string
		// reply is what the peer sends back to the query's source; nil
		// sends nothing. other sends it from another port instead.
		reply  []byte
		other  bool
		closed bool // nothing listens on the peer's port
		want   outcome
	}{
		{name: "reply", reply: []byte("reply"), want: outcome{N: 5, FromPeer: true}},
		{name: "larger than the buffer", reply: make([]byte, 600), want: outcome{N: 512, FromPeer: true}},
		{name: "empty datagram", reply: []byte{}, want: outcome{FromPeer: true}},
		{name: "from another port: dropped", reply: []byte("forged"), other: true, want: outcome{Timeout: true, Op: "read", Source: true}},
		{name: "no reply", want: outcome{Timeout: true, Op: "read", Source: true}},
		{name: "port closed", closed: true, want: outcome{Refused: true, Op: "read", Source: true}},
	}
	dials := []struct {
		name string
		dial func(server netip.AddrPort) (udpConn, error)
	}{
		{"net", func(server netip.AddrPort) (udpConn, error) {
			return net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
		}},
		{"raw", func(server netip.AddrPort) (udpConn, error) {
			c, ok, err := dialRawUDP(0, server)
			if !ok {
				t.Fatal("dialRawUDP refused a loopback address")
			}
			return c, err
		}},
	}
	// Both families: the raw socket fills a sockaddr of each.
	loops := []struct {
		name string
		ip   net.IP
	}{{"v4", net.IPv4(127, 0, 0, 1)}, {"v6", net.IPv6loopback}}
	for _, tt := range tests {
		for _, d := range dials {
			for _, lo := range loops {
				t.Run(tt.name+"/"+d.name+"/"+lo.name, func(t *testing.T) {
					rawUDPCase(t, lo.ip, d.dial, tt.reply, tt.other, tt.closed, tt.want)
				})
			}
		}
	}
}

// rawUDPOutcome is what TestRawUDP compares.
type rawUDPOutcome struct {
	N        int
	FromPeer bool
	Timeout  bool   // a net.Error whose Timeout() is true, os.ErrDeadlineExceeded
	Refused  bool   // errors.Is ECONNREFUSED
	Op       string // the *net.OpError's Op
	Source   bool   // the error names the socket's own address and the peer's
}

// rawUDPCase runs one TestRawUDP case on loopback address ip.
func rawUDPCase(t *testing.T, ip net.IP, dial func(netip.AddrPort) (udpConn, error), reply []byte, other, closed bool, want rawUDPOutcome) {
	t.Helper()
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	server := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	if closed {
		peer.Close()
	}
	c, err := dial(server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// 200 ms: long enough for a loopback reply on a loaded machine,
	// short for the cases that wait it out.
	if err := c.SetDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("query")); err != nil {
		t.Fatal(err)
	}
	if !closed {
		qbuf := make([]byte, 64)
		_, from, err := peer.ReadFromUDPAddrPort(qbuf)
		if err != nil {
			t.Fatalf("peer read: %v", err)
		}
		if reply != nil {
			sender := peer
			if other {
				if sender, err = net.ListenUDP("udp", &net.UDPAddr{IP: ip}); err != nil {
					t.Fatal(err)
				}
				defer sender.Close()
			}
			if _, err := sender.WriteToUDPAddrPort(reply, from); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := make([]byte, 512)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	got := rawUDPOutcome{N: n, FromPeer: err == nil && from == server}
	var ne net.Error
	got.Timeout = errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
	got.Refused = errors.Is(err, syscall.ECONNREFUSED)
	var op *net.OpError
	if errors.As(err, &op) {
		got.Op = op.Op
		got.Source = op.Source != nil && op.Source.String() == c.LocalAddr().String() && op.Addr.String() == server.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s\nerror: %v", diff, err)
	}
}

// TestDialDefault checks which socket dialDefault opens for each kind of
// server address, and that a query and its reply go through it: the raw
// socket, IPv4-mapped IPv6 addresses unmapped first, and net's own
// socket for an IPv6 address with a zone (an interface name, which only
// net's dialer turns into a scope ID). ::1 takes a zone as a link-local
// address would; the kernel needs the scope only for link-local ones.
func TestDialDefault(t *testing.T) {
	tests := []struct {
		name   string
		listen net.IP
		server func(port uint16) netip.AddrPort
		raw    bool // a *rawUDP, else a *net.UDPConn
	}{
		{"IPv4: raw socket", net.IPv4(127, 0, 0, 1),
			func(p uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p) }, true},
		{"IPv6: raw socket", net.IPv6loopback,
			func(p uint16) netip.AddrPort { return netip.AddrPortFrom(netip.IPv6Loopback(), p) }, true},
		{"IPv4-mapped: raw socket to the IPv4 address", net.IPv4(127, 0, 0, 1),
			func(p uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), p) }, true},
		{"IPv6 with a zone: net's socket", net.IPv6loopback,
			func(p uint16) netip.AddrPort { return netip.AddrPortFrom(netip.IPv6Loopback().WithZone("lo"), p) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: tt.listen})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			c, err := dialDefault(0, tt.server(peer.LocalAddr().(*net.UDPAddr).AddrPort().Port()))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, raw := c.(*rawUDP); raw != tt.raw {
				t.Errorf("socket %T, want a raw socket: %v", c, tt.raw)
			}
			// 2 s: a loopback round trip, with room for a loaded machine.
			if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write([]byte("query")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			n, from, err := peer.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != "query" {
				t.Fatalf("peer read %q: %v", buf[:n], err)
			}
			if _, err := peer.WriteToUDPAddrPort([]byte("reply"), from); err != nil {
				t.Fatal(err)
			}
			if n, _, err = c.ReadFromUDPAddrPort(buf); err != nil || string(buf[:n]) != "reply" {
				t.Errorf("read %q: %v", buf[:n], err)
			}
		})
	}
}
