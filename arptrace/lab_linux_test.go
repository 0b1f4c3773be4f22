//go:build linux

package arptrace_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/google/go-cmp/cmp"
)

func TestScanBridge(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(6, "192.0.2.0/24")
	ctx := ctxFor(t)
	var res *arptrace.ScanResult
	err := netlab.Do(hosts[0].NS, func() error {
		var err error
		targets, err := arptrace.ScanTargets(netip.MustParsePrefix("192.0.2.0/28"), false)
		if err != nil {
			return err
		}
		res, err = arptrace.NewTracer(arptrace.Config{Interface: "eth0"}).Scan(ctx, targets,
			arptrace.ScanOptions{Interval: 2 * time.Millisecond, Random: true, Seed: 1, Timeout: 200 * time.Millisecond, Tries: 2})
		return err
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	got := map[string]string{}
	for _, h := range res.Hosts {
		got[h.IP.String()] = h.MAC.String()
		if h.Conflict || h.Replies != 1 {
			t.Errorf("%v: conflict %v replies %d", h.IP, h.Conflict, h.Replies)
		}
	}
	want := map[string]string{}
	for _, h := range hosts[1:] { // the scanner does not answer itself
		want[h.Addr.Addr().String()] = h.MAC
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hosts found vs `ip link` (-want +got):\n%s", diff)
	}
	if res.Scanned != 16 || res.Responded != 5 {
		t.Errorf("scanned %d responded %d, want 16 and 5", res.Scanned, res.Responded)
	}
}

// TestConflict gives two hosts on one bridge the same address: both the
// trace and the scan must flag it.
func TestConflict(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(3, "192.0.2.0/24")
	lab.IP("-n", hosts[2].NS, "addr", "add", "192.0.2.2/24", "dev", "eth0")
	ctx := ctxFor(t)
	tracer := arptrace.NewTracer(arptrace.Config{Interface: "eth0"})
	var tr *arptrace.Trace
	var res *arptrace.ScanResult
	err := netlab.Do(hosts[0].NS, func() error {
		var err error
		tr, err = tracer.Trace(ctx, netip.MustParseAddr("192.0.2.2"), arptrace.TraceOptions{Count: 1, NoCache: true})
		if err != nil {
			return err
		}
		targets, err := arptrace.ScanTargets(netip.MustParsePrefix("192.0.2.0/29"), false)
		if err != nil {
			return err
		}
		res, err = tracer.Scan(ctx, targets, arptrace.ScanOptions{Interval: time.Millisecond, Timeout: 200 * time.Millisecond})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Summary.Conflict || len(tr.Summary.MACs) != 2 {
		t.Errorf("trace: conflict %v MACs %v, want 2 MACs", tr.Summary.Conflict, tr.Summary.MACs)
	}
	macs := map[string]bool{}
	for _, m := range tr.Summary.MACs {
		macs[m.String()] = true
	}
	if !macs[hosts[1].MAC] || !macs[hosts[2].MAC] {
		t.Errorf("trace MACs %v, want %s and %s", tr.Summary.MACs, hosts[1].MAC, hosts[2].MAC)
	}
	var found bool
	for _, h := range res.Hosts {
		if h.IP.String() == "192.0.2.2" {
			found = true
			if !h.Conflict || len(h.OtherMACs) != 1 {
				t.Errorf("scan: %+v, want a conflict", h)
			}
		}
	}
	if !found {
		t.Errorf("scan did not find 192.0.2.2: %+v", res.Hosts)
	}
}

// TestWatchBridge watches from h1 while h3 announces 192.0.2.3 and then
// h4 claims the same address.
func TestWatchBridge(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(4, "192.0.2.0/24")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ready := make(chan struct{})
	var mu sync.Mutex
	var events []arptrace.Event
	done := make(chan error, 1)
	go func() {
		done <- netlab.Do(hosts[0].NS, func() error {
			_, err := arptrace.NewTracer(arptrace.Config{Interface: "eth0"}).Watch(ctx,
				arptrace.WatchOptions{Duration: testTimeout, Promiscuous: true, Ready: func() { close(ready) }},
				func(ev arptrace.Event) {
					mu.Lock()
					events = append(events, ev)
					mu.Unlock()
					if ev.Kind == arptrace.EventConflict {
						cancel()
					}
				})
			return err
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch ended before ready: %v", err)
	}
	if out, err := lab.Exec(hosts[2].NS, "arping", "-U", "-c", "1", "-I", "eth0", "192.0.2.3"); err != nil {
		t.Fatalf("arping -U: %v: %s", err, out)
	}
	lab.IP("-n", hosts[3].NS, "addr", "add", "192.0.2.3/32", "dev", "eth0")
	if out, err := lab.Exec(hosts[3].NS, "arping", "-U", "-c", "1", "-I", "eth0", "192.0.2.3"); err != nil {
		t.Fatalf("arping -U: %v: %s", err, out)
	}
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
	type ev struct{ Kind, IP, MAC, OldMAC string }
	var got []ev
	for _, e := range events {
		if e.IP.String() != "192.0.2.3" {
			continue
		}
		x := ev{string(e.Kind), e.IP.String(), e.MAC.String(), ""}
		if !e.OldMAC.IsZero() {
			x.OldMAC = e.OldMAC.String()
		}
		got = append(got, x)
	}
	want := []ev{
		{"packet", "192.0.2.3", hosts[2].MAC, ""},
		{"new-station", "192.0.2.3", hosts[2].MAC, ""},
		{"packet", "192.0.2.3", hosts[3].MAC, ""},
		{"ip-conflict", "192.0.2.3", hosts[3].MAC, hosts[2].MAC},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestWatchSeesOwnConflict: h2 announces 192.0.2.2, then the watching
// host h1 claims the same address itself. The conflict is of h1's own
// making and is seen only because a packet socket also sees outgoing
// frames; the event says it came from this host.
func TestWatchSeesOwnConflict(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(2, "192.0.2.0/24")
	h1, h2 := hosts[0], hosts[1]
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ready := make(chan struct{})
	var mu sync.Mutex
	var conflict *arptrace.Event
	done := make(chan error, 1)
	go func() {
		done <- netlab.Do(h1.NS, func() error {
			_, err := arptrace.NewTracer(arptrace.Config{Interface: "eth0"}).Watch(ctx,
				arptrace.WatchOptions{Duration: testTimeout, Ready: func() { close(ready) }},
				func(ev arptrace.Event) {
					if ev.Kind == arptrace.EventConflict {
						mu.Lock()
						conflict = &ev
						mu.Unlock()
						cancel()
					}
				})
			return err
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch ended before ready: %v", err)
	}
	if out, err := lab.Exec(h2.NS, "arping", "-U", "-c", "1", "-w", "1", "-I", "eth0", "192.0.2.2"); err != nil {
		t.Fatalf("arping -U in h2: %v: %s", err, out)
	}
	lab.Batch(h1.NS, "addr add 192.0.2.2/32 dev eth0")
	if out, err := lab.Exec(h1.NS, "arping", "-U", "-c", "1", "-w", "1", "-I", "eth0", "192.0.2.2"); err != nil {
		t.Fatalf("arping -U in h1: %v: %s", err, out)
	}
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if conflict == nil {
		t.Fatal("no conflict reported")
	}
	if got, want := conflict.MAC.String(), h1.MAC; got != want || !conflict.FromSelf || conflict.OldMAC.String() != h2.MAC {
		t.Errorf("conflict %+v: want MAC %s (this host, from_self) over %s", conflict, want, h2.MAC)
	}
}
