//go:build linux

package main

import (
	"net"
	"os"
	"testing"
	"time"
)

// TestLastRx: the kernel's receive stamp of the datagram read last lies
// between its sending and its reading.
func TestLastRx(t *testing.T) {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stampSocket(c)
	_ = srv.SetDeadline(time.Now().Add(5 * time.Second))
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	_, from, err := srv.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if _, err := srv.WriteToUDP([]byte("r"), from); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	rx, ok := lastRx(c)
	if !ok {
		t.Fatal("lastRx: no stamp")
	}
	// A millisecond of slack each way: the stamp is the kernel's clock,
	// read with a coarser path than time.Now.
	if rx.Before(sent.Add(-time.Millisecond)) || rx.After(read.Add(time.Millisecond)) {
		t.Errorf("stamp %v not between the send %v and the read %v", rx, sent, read)
	}
}

// TestRunQueueWait: this process's threads have a run-queue wait to
// read; a process that does not exist has none.
func TestRunQueueWait(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc")
	}
	if w, ok := runQueueWait(os.Getpid()); !ok || w < 0 {
		t.Errorf("runQueueWait(self) = %v, %v; want a wait >= 0", w, ok)
	}
	if _, ok := runQueueWait(0); ok {
		t.Error("runQueueWait(0) = ok; want unknown")
	}
}
