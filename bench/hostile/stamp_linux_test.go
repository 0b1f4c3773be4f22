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

// TestSchedTimes: this process's threads have run and wait times to
// read; no pid has none.
func TestSchedTimes(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc")
	}
	if run, wait, ok := schedTimes(os.Getpid()); !ok || run <= 0 || wait < 0 {
		t.Errorf("schedTimes(self) = %v, %v, %v; want a run time > 0 and a wait >= 0", run, wait, ok)
	}
	if _, _, ok := schedTimes(0); ok {
		t.Error("schedTimes(0) = ok; want unknown")
	}
}
