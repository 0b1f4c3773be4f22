//go:build linux

package server

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/addrwalk/addrwalk/internal/udpbatch"
)

// TestReceiveStamp: a tuned listener gets the kernel's receive time with
// each datagram, read in a batch as udpReader reads, and, as root (CI),
// the whole udpReceiveBuffer.
func TestReceiveStamp(t *testing.T) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tuneUDP(conn)
	if os.Geteuid() == 0 {
		rc, err := conn.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var size int
		var serr error
		if err := rc.Control(func(fd uintptr) { size, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil || serr != nil {
			t.Fatal(err, serr)
		}
		if size < udpReceiveBuffer { // the kernel reports twice what was set
			t.Errorf("receive buffer %d bytes, want at least %d", size, udpReceiveBuffer)
		}
	}
	c, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	before := time.Now()
	if _, err := c.Write([]byte("query")); err != nil {
		t.Fatal(err)
	}
	ms := []udpbatch.Message{{Buf: make([]byte, udpSlot)}}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	bc, err := udpbatch.New(conn, udpBatch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.ReadBatch(ms); err != nil {
		t.Fatal(err)
	}
	rx := ms[0].Received
	if rx.IsZero() {
		t.Fatal("no receive time: SO_TIMESTAMPNS not set")
	}
	// The stamp is the kernel's wall clock: between the send and now,
	// give or take the clocks' granularity.
	if rx.Before(before.Add(-time.Second)) || rx.After(time.Now().Add(time.Second)) {
		t.Errorf("receive time %v, sent at %v", rx, before)
	}
}
