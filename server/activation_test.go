package server_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// socketFile binds network on addr and returns the socket as a file, as
// systemd passes it, and its address.
func socketFile(t *testing.T, network, addr string) (*os.File, string) {
	t.Helper()
	type filer interface{ File() (*os.File, error) }
	var (
		c     filer
		local string
	)
	switch network {
	case "udp":
		pc, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		c, local = pc.(*net.UDPConn), pc.LocalAddr().String()
	default:
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		c, local = ln.(filer), ln.Addr().String()
	}
	f, err := c.File() // a duplicate: the original closes on return
	if err != nil {
		t.Fatal(err)
	}
	return f, local
}

// TestActivatedSockets serves plain DNS, DoT and DoH on sockets the server
// did not bind (systemd socket activation), and binds no default address
// besides them.
func TestActivatedSockets(t *testing.T) {
	base := listenAddr().Addr().String()
	udp, plain := socketFile(t, "udp", base+":0")
	tcp, _ := socketFile(t, "tcp", plain) // same port, as a .socket unit lists both
	dot, dotAddr := socketFile(t, "tcp", base+":0")
	doh, dohAddr := socketFile(t, "tcp", base+":0")
	var act server.Activated
	for _, s := range []struct {
		name string
		f    *os.File
	}{{"dns", udp}, {"unknown", tcp}, {"dot", dot}, {"doh", doh}} {
		if err := act.Add(s.name, s.f); err != nil {
			t.Fatalf("Add(%s): %v", s.name, err)
		}
	}
	l := startEncrypted(t, func(c *server.Config) {
		c.Listen, c.Encrypted.DoT, c.Encrypted.DoH = nil, nil, nil
		c.Activated = act
	})
	gotDoT, gotDoH := l.srv.EncryptedAddrs()
	got := map[string][]netip.AddrPort{"plain": l.srv.Addrs(), "dot": gotDoT, "doh": gotDoH}
	want := map[string][]netip.AddrPort{
		"plain": {netip.MustParseAddrPort(plain)},
		"dot":   {netip.MustParseAddrPort(dotAddr)},
		"doh":   {netip.MustParseAddrPort(dohAddr)},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("served addresses (-want +got):\n%s", diff)
	}
	q := question("www.example.org.", dns.TypeA)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			if r := exchange(t, l.plain, network, q); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				t.Errorf("reply %v", r)
			}
		})
	}
	t.Run("dot", func(t *testing.T) {
		if r := l.dotExchange(t, q); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Errorf("reply %v", r)
		}
	})
	t.Run("doh", func(t *testing.T) {
		resp, err := l.httpClient(true).Post(l.url("/dns-query"), "application/dns-message", bytes.NewReader(pack(t, q)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			t.Errorf("status %d over HTTP/%d", resp.StatusCode, resp.ProtoMajor)
		}
	})
}

// TestActivatedAddRefuses checks that a passed socket the server cannot
// serve under its name is a clear error, not a silent listener of the
// wrong kind.
func TestActivatedAddRefuses(t *testing.T) {
	base := listenAddr().Addr().String()
	tests := []struct {
		name, fdName, network, addr string
	}{
		{"unknown name", "control", "tcp", base + ":0"},
		{"UDP socket named dot", "dot", "udp", base + ":0"},
		{"UDP socket named doh", "doh", "udp", base + ":0"},
		{"Unix socket", "dns", "unix", filepath.Join(t.TempDir(), "s")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := socketFile(t, tt.network, tt.addr)
			var act server.Activated
			err := act.Add(tt.fdName, f)
			if !errors.Is(err, server.ErrActivatedSocket) {
				t.Fatalf("Add = %v, want ErrActivatedSocket", err)
			}
			if diff := cmp.Diff(server.Activated{}, act); diff != "" {
				t.Errorf("adopted anyway (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFailedStartClosesActivated checks that a Start that fails closes
// every passed socket, adopted or not: a DoT or DoH socket without a
// certificate, and plain sockets when a later bind fails. Each address is
// bound again afterwards, which fails while a socket still holds it.
func TestFailedStartClosesActivated(t *testing.T) {
	busy, err := net.Listen("tcp", listenAddr().Addr().String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		sockets []string // FileDescriptorName= of each passed socket, in order
		listen  []netip.AddrPort
		wantErr error
	}{
		{"dot without certificate", []string{"dot"}, nil, server.ErrNoCertificate},
		{"doh without certificate", []string{"doh"}, nil, server.ErrNoCertificate},
		{"plain adopted, dot without certificate", []string{"dns/udp", "dns/tcp", "dot"}, nil, server.ErrNoCertificate},
		{"bind failure after adoption", []string{"dns/udp", "dns/tcp", "doh"},
			[]netip.AddrPort{busy.Addr().(*net.TCPAddr).AddrPort()}, syscall.EADDRINUSE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := listenAddr().Addr().String()
			var act server.Activated
			type held struct{ network, addr string }
			var addrs []held
			plainPort := base + ":0"
			for _, s := range tt.sockets {
				name, network, _ := strings.Cut(s, "/")
				if network == "" {
					network = "tcp"
				}
				addr := base + ":0"
				if name == "dns" {
					addr = plainPort // UDP and TCP on one port, as a .socket unit lists them
				}
				f, local := socketFile(t, network, addr)
				if name == "dns" {
					plainPort = local
				}
				if err := act.Add(name, f); err != nil {
					t.Fatalf("Add(%s): %v", s, err)
				}
				addrs = append(addrs, held{network, local})
			}
			h := newHandler(t, startLab(t), nil)
			srv, err := server.New(server.Config{Listen: tt.listen, Handler: h, Activated: act})
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(t.Context()); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Start = %v, want %v", err, tt.wantErr)
			}
			var stillHeld []string
			for _, a := range addrs {
				var c io.Closer
				var err error
				if a.network == "udp" {
					c, err = net.ListenPacket("udp", a.addr)
				} else {
					c, err = net.Listen("tcp", a.addr)
				}
				if err != nil {
					stillHeld = append(stillHeld, a.network+" "+a.addr)
					continue
				}
				_ = c.Close()
			}
			if diff := cmp.Diff([]string(nil), stillHeld); diff != "" {
				t.Errorf("passed sockets left open after a failed Start (-want +got):\n%s", diff)
			}
		})
	}
}
