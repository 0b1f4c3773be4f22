package walkview

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
)

// ms is f milliseconds.
func ms(f float64) arptrace.Millis {
	return arptrace.Millis(time.Duration(f * float64(time.Millisecond)))
}

func mac(s string) arptrace.MAC {
	m, err := arptrace.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// arpTrace is a trace as arptrace records one: a broadcast who-has, its
// reply, then a unicast request and a reply from a second MAC.
func arpTrace() *arptrace.Trace {
	us, them, other := mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02"), mac("02:00:00:00:00:03")
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	req := arptrace.Frame{EthSrc: us, EthDst: arptrace.Broadcast, Op: 1, Kind: arptrace.KindRequest, SenderMAC: us, SenderIP: src, TargetIP: dst}
	uni := req
	uni.EthDst = them
	reply := func(m arptrace.MAC) arptrace.Frame {
		return arptrace.Frame{EthSrc: m, EthDst: us, Op: 2, Kind: arptrace.KindReply, SenderMAC: m, SenderIP: dst, TargetMAC: us, TargetIP: src}
	}
	return &arptrace.Trace{
		Target: dst, Probed: dst, Mode: arptrace.ModeRequest, Source: src,
		Route:     &arptrace.RouteInfo{Destination: dst, Interface: "veth0", Source: src, OnLink: true, NextHop: dst},
		Interface: arptrace.Interface{Name: "veth0", MAC: us},
		Before:    &arptrace.CacheLookup{},
		Probes: []arptrace.Probe{
			{Seq: 1, Sent: req, Offset: 0, Replies: []arptrace.Reply{{Frame: reply(them), Offset: ms(0.4), RTT: ms(0.4), Unicast: true}}},
			{Seq: 2, Sent: uni, Offset: ms(1000), Unicast: true, Replies: []arptrace.Reply{{Frame: reply(other), Offset: ms(1000.5), RTT: ms(0.5), Unicast: true, Conflict: true}}},
			{Seq: 3, Sent: uni, Offset: ms(2000), Unicast: true},
		},
		After:   &arptrace.CacheLookup{Found: true, Entry: &arptrace.Neighbour{IP: dst, MAC: them, HasMAC: true, State: "REACHABLE"}},
		Summary: arptrace.Summary{Sent: 3, Received: 2, Answered: 2, MACs: []arptrace.MAC{them, other}, Conflict: true},
	}
}

// TestARPSequence checks the sequence diagram's structure: three
// lifelines; a broadcast who-has flooded by the link; a unicast one; the
// replies back with RTT, the conflicting one marked; no reply noted; the
// cache before and after.
func TestARPSequence(t *testing.T) {
	got := structure(t, RenderARP(arpTrace()))
	for _, want := range []string{
		`lifeline lane-host data-lane="lane-host" | this host | veth0 02:00:00:00:00:01`,
		`lifeline lane-target data-lane="lane-target" | target 192.0.2.2 | MAC 02:00:00:00:00:02`,
		`seq-note seq-cache cache-none | neighbour cache before: no entry`,
		`seq-msg arp-request broadcast | #1 who-has 192.0.2.2? tell 192.0.2.1`,
		`seq-msg arp-flood | to ff:ff:ff:ff:ff:ff: flooded to every port`,
		`seq-msg arp-reply | 192.0.2.2 is-at 02:00:00:00:00:02  RTT <dur>`,
		`seq-msg arp-request unicast | #2 who-has 192.0.2.2? tell 192.0.2.1 (unicast to 02:00:00:00:00:02)`,
		`seq-msg arp-reply conflict | 192.0.2.2 is-at 02:00:00:00:00:03  RTT <dur>  CONFLICT: another MAC`,
		`seq-note arp-noreply | #3: no reply`,
		`seq-note seq-cache cache-reachable | neighbour cache after: REACHABLE 02:00:00:00:00:02`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diagram lacks %q:\n%s", want, got)
		}
	}
}

// TestPathStrip checks the path strip's stages and arrows.
func TestPathStrip(t *testing.T) {
	got := structure(t, RenderPath("www.example.org.", []PathStage{
		{Step: "hosts file", Result: "no entry", State: "skipped"},
		{Step: "DNS", Result: "192.0.2.10", Detail: "6 upstream queries"},
		{Step: "route", Result: "via 192.0.2.1 on eth0"},
		{Step: "MAC", Result: "no reply", State: "failed"},
	}))
	for _, want := range []string{
		`stage stage-skipped data-state="skipped" data-step="hosts file" | hosts file | no entry`,
		`stage stage-done data-state="done" data-step="DNS" | DNS | 192.0.2.10 | 6 upstream queries`,
		`stage stage-failed data-state="failed" data-step="MAC" | MAC | no reply`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("strip lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "edge edge-path"); n != 3 {
		t.Errorf("%d arrows between 4 stages", n)
	}
}
