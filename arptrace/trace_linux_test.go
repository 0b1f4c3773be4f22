//go:build linux

package arptrace_test

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/google/go-cmp/cmp"
)

// testTimeout bounds each lab test; a probe takes milliseconds.
const testTimeout = 20 * time.Second

// addrCmp compares netip.Addr by value (its fields are unexported).
func addrCmp() cmp.Option { return cmp.Comparer(func(a, b netip.Addr) bool { return a == b }) }

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestTracePair(t *testing.T) {
	lab := netlab.New(t)
	h1, h2 := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	ctx := ctxFor(t)
	var tr *arptrace.Trace
	err := netlab.Do(h1.NS, func() error {
		var err error
		tr, err = arptrace.NewTracer(arptrace.Config{}).Trace(ctx, h2.Addr.Addr(),
			arptrace.TraceOptions{Count: 2, Interval: 50 * time.Millisecond})
		return err
	})
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	wantRoute := arptrace.RouteInfo{Destination: h2.Addr.Addr(), Interface: "eth0", Index: tr.Interface.Index,
		Source: h1.Addr.Addr(), OnLink: true, NextHop: h2.Addr.Addr(), Type: "unicast"}
	if diff := cmp.Diff(&wantRoute, tr.Route, addrCmp()); diff != "" {
		t.Errorf("route (-want +got):\n%s", diff)
	}
	if tr.Before == nil || tr.Before.Found {
		t.Errorf("before: want no entry in a fresh namespace, got %+v", tr.Before)
	}
	if got, want := tr.Summary.Sent, 2; got != want {
		t.Errorf("sent = %d, want %d", got, want)
	}
	if got, want := tr.Summary.Received, 2; got != want {
		t.Errorf("received = %d, want %d", got, want)
	}
	wantMAC, _ := arptrace.ParseMAC(h2.MAC)
	if diff := cmp.Diff([]arptrace.MAC{wantMAC}, tr.Summary.MACs, addrCmp()); diff != "" {
		t.Errorf("MACs (-want +got):\n%s", diff)
	}
	ownMAC, _ := arptrace.ParseMAC(h1.MAC)
	sent := tr.Probes[0].Sent
	wantSent := arptrace.Frame{EthDst: arptrace.Broadcast, EthSrc: ownMAC, Op: 1, Kind: arptrace.KindRequest,
		SenderMAC: ownMAC, SenderIP: h1.Addr.Addr(), TargetIP: h2.Addr.Addr()}
	if diff := cmp.Diff(wantSent, sent, addrCmp()); diff != "" {
		t.Errorf("sent frame (-want +got):\n%s", diff)
	}
	r := tr.Probes[0].Replies[0].Frame
	wantReply := arptrace.Frame{EthDst: ownMAC, EthSrc: wantMAC, Op: 2, Kind: arptrace.KindReply,
		SenderMAC: wantMAC, SenderIP: h2.Addr.Addr(), TargetMAC: ownMAC, TargetIP: h1.Addr.Addr()}
	if diff := cmp.Diff(wantReply, r, addrCmp()); diff != "" {
		t.Errorf("reply frame (-want +got):\n%s", diff)
	}
	if tr.Summary.MinRTT <= 0 || tr.Summary.MaxRTT < tr.Summary.MinRTT {
		t.Errorf("rtt min %v max %v", tr.Summary.MinRTT, tr.Summary.MaxRTT)
	}
}

var arpingReply = regexp.MustCompile(`reply from ([0-9.]+) \[([0-9A-Fa-f:]{17})\]`)

// TestTraceMatchesArping probes the same address with iputils arping and
// with Trace from the same namespace; both must see the same MAC.
func TestTraceMatchesArping(t *testing.T) {
	lab := netlab.New(t)
	h1, h2 := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	out, err := lab.Exec(h1.NS, "arping", "-f", "-c", "3", "-w", "5", "-I", "eth0", h2.Addr.Addr().String())
	if err != nil {
		t.Fatalf("arping (Debian package iputils-arping): %v: %s", err, out)
	}
	m := arpingReply.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no reply line in arping output:\n%s", out)
	}
	ctx := ctxFor(t)
	var tr *arptrace.Trace
	err = netlab.Do(h1.NS, func() error {
		var err error
		tr, err = arptrace.NewTracer(arptrace.Config{Interface: "eth0"}).Trace(ctx, h2.Addr.Addr(),
			arptrace.TraceOptions{Count: 1, NoCache: true})
		return err
	})
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if len(tr.Summary.MACs) != 1 {
		t.Fatalf("MACs = %v, want one", tr.Summary.MACs)
	}
	if got, want := tr.Summary.MACs[0].String(), strings.ToLower(m[2]); got != want {
		t.Errorf("Trace saw %s, arping saw %s", got, want)
	}
	if got, want := tr.Summary.MACs[0].String(), h2.MAC; got != want {
		t.Errorf("Trace saw %s, ip link says %s", got, want)
	}
}

func TestTraceErrors(t *testing.T) {
	lab := netlab.New(t)
	h1, _ := lab.Pair("192.0.2.1/24", "")
	// A tun device has no link layer: ARP cannot run there.
	lab.IP("-n", h1.NS, "tuntap", "add", "tun0", "mode", "tun")
	lab.IP("-n", h1.NS, "link", "set", "tun0", "up")
	tests := []struct {
		name  string
		iface string
		ip    string
		want  error
	}{
		{"loopback", "lo", "127.0.0.2", arptrace.ErrInterface},
		{"unknown interface", "nope0", "192.0.2.2", arptrace.ErrInterface},
		{"not ethernet", "tun0", "192.0.2.2", arptrace.ErrInterface},
		{"multicast", "eth0", "224.0.0.1", arptrace.ErrInvalidAddress},
		{"ipv6", "eth0", "2001:db8::1", arptrace.ErrInvalidAddress},
		{"no route", "", "198.51.100.7", arptrace.ErrNoRoute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t)
			err := netlab.Do(h1.NS, func() error {
				_, err := arptrace.NewTracer(arptrace.Config{Interface: tc.iface}).Trace(ctx,
					netip.MustParseAddr(tc.ip), arptrace.TraceOptions{Count: 1, Interval: 100 * time.Millisecond})
				return err
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "arptrace: ") {
				t.Errorf("error %q lacks the arptrace: prefix", err)
			}
		})
	}
}

// TestTraceNoIPv4 probes from an interface without an IPv4 address: the
// request goes out from 0.0.0.0 (as an RFC 5227 probe) and is answered.
func TestTraceNoIPv4(t *testing.T) {
	lab := netlab.New(t)
	h1, h2 := lab.Pair("192.0.2.1/24", "")
	ctx := ctxFor(t)
	var tr *arptrace.Trace
	err := netlab.Do(h2.NS, func() error {
		var err error
		tr, err = arptrace.NewTracer(arptrace.Config{Interface: "eth0"}).Trace(ctx, h1.Addr.Addr(),
			arptrace.TraceOptions{Count: 1})
		return err
	})
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if got, want := tr.Source, netip.IPv4Unspecified(); got != want {
		t.Errorf("source = %v, want %v", got, want)
	}
	if tr.Summary.Received != 1 || tr.Summary.MACs[0].String() != h1.MAC {
		t.Errorf("summary %+v, want one reply from %s", tr.Summary, h1.MAC)
	}
}

// TestTraceCancel: a trace waiting for a silent address returns as soon as
// its context ends, well before its own timeouts.
func TestTraceCancel(t *testing.T) {
	lab := netlab.New(t)
	h1, _ := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	var tr *arptrace.Trace
	err := netlab.Do(h1.NS, func() error {
		var err error
		tr, err = arptrace.NewTracer(arptrace.Config{}).Trace(ctx, netip.MustParseAddr("192.0.2.99"),
			arptrace.TraceOptions{Count: 5, Interval: 10 * time.Second})
		return err
	})
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v after a 300ms context", el)
	}
	if !tr.Summary.Cancelled || tr.Summary.Sent != 1 || tr.Summary.Received != 0 {
		t.Errorf("summary %+v, want cancelled after 1 sent", tr.Summary)
	}
	if tr.After == nil || tr.After.Error != "" {
		t.Errorf("after = %+v, want a lookup despite the cancelled context", tr.After)
	}
}
