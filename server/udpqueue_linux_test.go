//go:build linux

package server

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
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
	qs := tuneUDP(conn)
	if !qs.stamped {
		t.Fatal("SO_TIMESTAMPNS not set")
	}
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
	ms := []ipv4.Message{{Buffers: [][]byte{make([]byte, udpSlot)}, OOB: make([]byte, udpOOBLen)}}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := newBatchConn(conn).ReadBatch(ms, 0); err != nil {
		t.Fatal(err)
	}
	rx, ok := rxTime(ms[0].OOB[:ms[0].NN])
	if !ok {
		t.Fatalf("no receive time in %d bytes of control messages", ms[0].NN)
	}
	// The stamp is the kernel's wall clock: between the send and now,
	// give or take the clocks' granularity.
	if rx.Before(before.Add(-time.Second)) || rx.After(time.Now().Add(time.Second)) {
		t.Errorf("receive time %v, sent at %v", rx, before)
	}
	if _, ok := rxTime(nil); ok {
		t.Error("rxTime without control messages reports a time")
	}
}
