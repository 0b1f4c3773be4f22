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
