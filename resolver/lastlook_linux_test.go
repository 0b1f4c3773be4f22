package resolver

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
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
			ctx := afterStall(t, client, tt.cancel)
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

// waitReadable returns when c has data queued (poll(2), bounded by a
// second: loopback delivers at once).
func waitReadable(t *testing.T, c syscall.Conn) {
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
		t.Fatalf("poll: %d ready, %v; want data queued", n, perr)
	}
}

// TestReadStreamLastLook is TestReadDatagramLastLook over TCP: a read of a
// reply (or of its rest) that ends at the deadline while the bytes wait in
// the socket's queue takes them, once per exchange, unless the caller
// cancelled; with nothing, or only part of the reply, queued the timeout
// stands.
func TestReadStreamLastLook(t *testing.T) {
	type result struct {
		Reply  string
		Err    bool // a deadline error
		Looked bool
	}
	tests := []struct {
		name   string
		queued string // what the server sent before the deadline passed
		looked bool   // a last look was taken earlier in the exchange
		cancel bool   // the caller cancelled instead of the deadline passing
		want   result
	}{
		{name: "reply queued when the deadline passed", queued: "reply", want: result{Reply: "reply", Looked: true}},
		{name: "nothing queued: the timeout stands", want: result{Err: true, Looked: true}},
		{name: "part queued: the timeout stands", queued: "rep", want: result{Err: true, Looked: true}},
		{name: "one look per exchange", queued: "reply", looked: true, want: result{Err: true, Looked: true}},
		{name: "caller cancelled: no look", queued: "reply", cancel: true, want: result{Err: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			client, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			server, err := ln.AcceptTCP()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { server.Close() })
			if tt.queued != "" {
				if _, err := server.Write([]byte(tt.queued)); err != nil {
					t.Fatal(err)
				}
				waitReadable(t, client)
			}
			ctx := afterStall(t, client, tt.cancel)
			looked := tt.looked
			buf := make([]byte, len("reply"))
			err = readStream(ctx, client, buf, &looked, func() {})
			got := result{Looked: looked, Err: err != nil}
			if err == nil {
				got.Reply = string(buf)
			} else if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("error %v, want a deadline error", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readStream (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAwaitFlightLastLookGrace: a caller whose wait for a reply ends
// while the flight's reply is ready (both deadlines passed during a stall,
// and the flight's last look took the reply) takes the reply; a flight
// that has not ended within lastLookGrace more is given up on.
func TestAwaitFlightLastLookGrace(t *testing.T) {
	type result struct {
		Replies int
		GaveUp  int
	}
	// rounds: with both ready, Go's select picks one at random, so
	// without the grace half the rounds gave up; 32 leave that
	// unnoticed with a chance of 2^-32.
	const rounds = 32
	tests := []struct {
		name  string
		ended bool // the flight ended by the time the caller's wait did
		want  result
	}{
		{"the flight ended as the wait did", true, result{Replies: rounds}},
		{"the flight does not end within the grace", false, result{GaveUp: rounds}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion("www.example.org.", dns.TypeA)
			var got result
			for range rounds {
				c := &flightCall{done: make(chan struct{}), m: q.Copy()}
				if tt.ended {
					close(c.done)
				}
				wait := time.NewTimer(0) // the wait is over
				var f inflight
				m, gaveUp, err := awaitFlight(t.Context(), wait, &f, c, q, false)
				if m != nil {
					got.Replies++
				}
				if gaveUp {
					got.GaveUp++
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("gave up with %v, want context.DeadlineExceeded", err)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("awaitFlight (-want +got):\n%s", diff)
			}
		})
	}
}

// afterStall readies c as a read finds it when the process resumes after
// a stall: its read deadline has passed, and so has the query's context's
// (or the caller cancelled it, with cancel).
func afterStall(t *testing.T, c net.Conn, cancel bool) context.Context {
	t.Helper()
	var ctx context.Context
	if cancel {
		cctx, stop := context.WithCancel(t.Context())
		stop()
		ctx = cctx
	} else {
		dctx, stop := context.WithDeadline(t.Context(), time.Unix(1, 0))
		t.Cleanup(stop)
		ctx = dctx
	}
	if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	return ctx
}
