package walkview

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/ndptrace"
)

// ndpTrace is a trace as ndptrace records one. mode "solicit": an NS
// answered by a solicited NA; "dad": an NS from :: answered by an NA to
// all nodes; "silent": two unanswered solicitations.
func ndpTrace(mode string) *ndptrace.Trace {
	us, them := mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")
	src, dst := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	snm := netip.MustParseAddr("ff02::1:ff00:2")
	ns := ndptrace.Frame{EthDst: ndptrace.MulticastMAC(snm), EthSrc: us, Src: src, Dst: snm, Type: "NS", Target: dst, LLAddr: us}
	na := ndptrace.Frame{EthDst: us, EthSrc: them, Src: dst, Dst: src, Type: "NA", Target: dst, Solicited: true, Override: true, LLAddr: them}
	tr := &ndptrace.Trace{
		Target: dst, Mode: "solicit", Interface: "veth0", Index: 2, MAC: us, Source: src, SolicitedNode: snm,
		Route:  &arptrace.RouteInfo{Destination: dst, Interface: "veth0", Source: src, OnLink: true, NextHop: dst},
		Before: &arptrace.CacheLookup{},
	}
	switch mode {
	case "solicit":
		tr.Probes = []ndptrace.Probe{{Seq: 1, Sent: ns, Replies: []ndptrace.Reply{{Frame: na, RTT: ms(0.3), Offset: ms(0.3)}}}}
		tr.After = &arptrace.CacheLookup{Found: true, Entry: &arptrace.Neighbour{IP: dst, MAC: them, HasMAC: true, State: "REACHABLE"}}
		tr.Summary = ndptrace.Summary{Sent: 1, Received: 1, MACs: []arptrace.MAC{them}, MinRTT: ms(0.3), MaxRTT: ms(0.3)}
	case "dad":
		tr.Mode, tr.Source, tr.Route, tr.Before = "dad", netip.IPv6Unspecified(), nil, nil
		ns.Src, ns.LLAddr = netip.IPv6Unspecified(), arptrace.MAC{}
		na.Dst, na.EthDst, na.Solicited = netip.MustParseAddr("ff02::1"), ndptrace.MulticastMAC(netip.MustParseAddr("ff02::1")), false
		tr.Probes = []ndptrace.Probe{{Seq: 1, Sent: ns, Replies: []ndptrace.Reply{{Frame: na, RTT: ms(0.4), Offset: ms(0.4)}}}}
		tr.Summary = ndptrace.Summary{Sent: 1, Received: 1, MACs: []arptrace.MAC{them}, InUse: true}
	case "silent":
		tr.Probes = []ndptrace.Probe{{Seq: 1, Sent: ns}, {Seq: 2, Sent: ns, Offset: ms(1000)}}
		tr.After = &arptrace.CacheLookup{Found: true, Entry: &arptrace.Neighbour{IP: dst, State: "FAILED"}}
		tr.Summary = ndptrace.Summary{Sent: 2}
	}
	return tr
}

// TestNDPSequence draws ND traces as sequence diagrams and compares each
// structure with testdata/golden (as TestGolden does for walks): three
// lifelines with the solicited-node group in the middle, the NS with its
// source link-layer option (none from :: in DAD), the NA with its flags
// and TLLA, the cache before and after, and the DAD verdict.
func TestNDPSequence(t *testing.T) {
	tests := []struct {
		mode string
		want []string
	}{
		{"solicit", []string{
			`header ndp-header data-mode="solicit" data-target="2001:db8::2" | Neighbor Discovery for 2001:db8::2`,
			`lifeline lane-link data-lane="lane-link" | solicited-node group | ff02::1:ff00:2 | MAC 33:33:ff:00:00:02`,
			`seq-note seq-cache cache-none | neighbour cache before: no entry`,
			`seq-msg nd-ns | #1 NS who-has 2001:db8::2? SLLA 02:00:00:00:00:01`,
			`seq-msg nd-multicast | to ff02::1:ff00:2: only the group's members listen`,
			`seq-msg nd-na | NA 2001:db8::2 is-at 02:00:00:00:00:02  R=0 S=1 O=1  RTT <dur>`,
			`seq-note seq-cache cache-reachable | neighbour cache after: REACHABLE 02:00:00:00:00:02`,
		}},
		{"dad", []string{
			`Duplicate address detection for 2001:db8::2`,
			`seq-msg nd-ns | #1 NS who-has 2001:db8::2? from ::, no SLLA (DAD)`,
			`R=0 S=0 O=1  RTT <dur> (to ff02::1)`,
			`seq-note nd-dad dad-inuse | DAD: 2001:db8::2 is in use by 02:00:00:00:00:02`,
		}},
		{"silent", []string{
			`seq-note nd-noreply | #1: no advertisement`,
			`seq-note nd-noreply | #2: no advertisement`,
			`seq-note seq-cache cache-failed | neighbour cache after: FAILED`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			got := structure(t, RenderNDP(ndpTrace(tc.mode)))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagram lacks %q:\n%s", w, got)
				}
			}
			compareGolden(t, "ndp-"+tc.mode, got)
		})
	}
	t.Run("arp", func(t *testing.T) {
		compareGolden(t, "arp", structure(t, RenderARP(arpTrace())))
	})
}
