package resolver

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestReadDatagramLastLook: a read that ends at its deadline while a reply
// waits in the socket's queue (what a stall of the process longer than
// the RTO leaves) takes that reply, once per exchange, unless the caller
// cancelled; with nothing queued the timeout stands.
func TestReadDatagramLastLook(t *testing.T) {
	type result struct {
		Reply  string
		Err    bool // a deadline error
		Looked bool
	}
	tests := []struct {
		name   string
		queued bool
		looked bool // a last look was taken earlier in the exchange
		cancel bool // the caller cancelled instead of the deadline passing
		want   result
	}{
		{name: "reply queued when the deadline passed", queued: true, want: result{Reply: "reply", Looked: true}},
		{name: "nothing queued: the timeout stands", want: result{Err: true, Looked: true}},
		{name: "one look per exchange", queued: true, looked: true, want: result{Err: true, Looked: true}},
		{name: "caller cancelled: no look", queued: true, cancel: true, want: result{Err: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			server, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { server.Close() })
			if tt.queued {
				if _, err := server.WriteToUDP([]byte("reply"), client.LocalAddr().(*net.UDPAddr)); err != nil {
					t.Fatal(err)
				}
				waitReadable(t, client)
			}
			var ctx context.Context
			if tt.cancel {
				c, cancel := context.WithCancel(t.Context())
				cancel()
				ctx = c
			} else {
				c, cancel := context.WithDeadline(t.Context(), time.Unix(1, 0))
				defer cancel()
				ctx = c
			}
			// The deadline has passed, as when the process resumes after
			// the stall.
			if err := client.SetReadDeadline(time.Unix(1, 0)); err != nil {
				t.Fatal(err)
			}
			looked := tt.looked
			buf := make([]byte, 512)
			n, _, err := readDatagram(ctx, client, buf, &looked, func() {})
			got := result{Looked: looked, Err: err != nil}
			if err == nil {
				got.Reply = string(buf[:n])
			} else if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("error %v, want a deadline error", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readDatagram (-want +got):\n%s", diff)
			}
		})
	}
}

// waitReadable returns when c has a datagram queued (poll(2), bounded by
// a second: loopback delivers at once).
func waitReadable(t *testing.T, c *net.UDPConn) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var perr error
	if err := rc.Control(func(fd uintptr) {
		n, perr = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 1000)
	}); err != nil {
		t.Fatal(err)
	}
	if perr != nil || n != 1 {
		t.Fatalf("poll: %d ready, %v; want the datagram queued", n, perr)
	}
}
