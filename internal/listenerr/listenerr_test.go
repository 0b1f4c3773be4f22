package listenerr_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/internal/listenerr"
)

func TestWrap(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:53")
	op := func(errno syscall.Errno) error {
		return &net.OpError{Op: "listen", Net: "udp", Err: os.NewSyscallError("bind", errno)}
	}
	for _, tc := range []struct {
		name  string
		err   error
		want  string
		errno syscall.Errno
	}{
		{"in use", op(syscall.EADDRINUSE), "cannot listen on udp 127.0.0.1:53: the port is in use by another program (see 'ss -lntup')", syscall.EADDRINUSE},
		{"not here", op(syscall.EADDRNOTAVAIL), "cannot listen on udp 127.0.0.1:53: the address is not one of this host's (see 'ip addr')", syscall.EADDRNOTAVAIL},
		{"denied", op(syscall.EACCES), "cannot listen on udp 127.0.0.1:53: permission denied", syscall.EACCES},
		{"other errno", op(syscall.ENOBUFS), "cannot listen on udp 127.0.0.1:53: " + syscall.ENOBUFS.Error(), syscall.ENOBUFS},
		{"not an errno", &net.OpError{Op: "listen", Net: "udp", Err: errors.New("odd")}, "cannot listen on udp 127.0.0.1:53: odd", 0},
		{"plain", errors.New("odd"), "cannot listen on udp 127.0.0.1:53: odd", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := listenerr.Wrap("udp", ap, tc.err)
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("errors.Is(err, the wrapped error) = false")
			}
			if tc.errno != 0 && !errors.Is(err, tc.errno) {
				t.Errorf("errors.Is(err, %v) = false", tc.errno)
			}
		})
	}
	if listenerr.Wrap("udp", ap, nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
}

// TestRealBind checks the words on a real clash on loopback.
func TestRealBind(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ap := busy.LocalAddr().(*net.UDPAddr).AddrPort()
	_, err = net.ListenPacket("udp", ap.String())
	got := listenerr.Wrap("udp", ap, err)
	want := "cannot listen on udp " + ap.String() + ": the port is in use by another program (see 'ss -lntup')"
	if diff := cmp.Diff(want, got.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}
