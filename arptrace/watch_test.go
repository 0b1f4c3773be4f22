package arptrace

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMonitorObserve(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	macC := MAC{0x02, 0, 0x5e, 0, 0, 3}
	req := func(smac MAC, sip, tip netip.Addr) Frame { return whoHas(Broadcast, smac, sip, tip) }
	rep := func(smac MAC, sip, tip netip.Addr) Frame {
		f := Frame{EthDst: macA, EthSrc: smac, Op: 2, SenderMAC: smac, SenderIP: sip, TargetMAC: macA, TargetIP: tip}
		f.Kind = classify(f)
		return f
	}
	type step struct {
		at    time.Duration
		frame Frame
		want  []EventKind // after the packet event
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"new station then quiet", []step{
			{0, req(macA, ipA, ipB), []EventKind{EventNewStation}},
			{time.Millisecond, rep(macB, ipB, ipA), []EventKind{EventNewStation}},
			{2 * time.Second, req(macA, ipA, ipB), nil},
		}},
		{"unsolicited reply", []step{
			{0, rep(macB, ipB, ipA), []EventKind{EventUnsolicitedReply, EventNewStation}},
		}},
		{"stale request does not solicit", []step{
			{0, req(macA, ipA, ipB), []EventKind{EventNewStation}},
			{time.Minute, rep(macB, ipB, ipA), []EventKind{EventUnsolicitedReply, EventNewStation}},
		}},
		{"changed then flip-flop", []step{
			{0, req(macB, ipB, ipA), []EventKind{EventNewStation}},
			{time.Minute, req(macC, ipB, ipA), []EventKind{EventChangedMAC}},
			{2 * time.Minute, req(macB, ipB, ipA), []EventKind{EventFlipFlop}},
		}},
		{"conflict", []step{
			{0, req(macB, ipB, ipA), []EventKind{EventNewStation}},
			{time.Second, req(macC, ipB, ipA), []EventKind{EventConflict}},
		}},
		{"probe for an address in use", []step{
			{0, req(macB, ipB, ipA), []EventKind{EventNewStation}},
			{time.Second, whoHas(Broadcast, macC, netip.IPv4Unspecified(), ipB), []EventKind{EventConflict}},
			{2 * time.Second, whoHas(Broadcast, macB, netip.IPv4Unspecified(), ipB), nil},
		}},
		{"gratuitous announces", []step{
			{0, whoHas(Broadcast, macB, ipB, ipB), []EventKind{EventNewStation}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMonitor(nil)
			for i, s := range tc.steps {
				evs := m.Observe(s.frame, t0.Add(s.at))
				if len(evs) == 0 || evs[0].Kind != EventPacket {
					t.Fatalf("step %d: first event %+v, want a packet event", i, evs)
				}
				var got []EventKind
				for _, e := range evs[1:] {
					got = append(got, e.Kind)
				}
				if diff := cmp.Diff(s.want, got); diff != "" {
					t.Errorf("step %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestStationsRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := NewMonitor(nil)
	m.Observe(whoHas(Broadcast, macA, ipA, ipB), t0)
	path := filepath.Join(t.TempDir(), "stations.json")
	if err := SaveStations("", path, m.Stations()); err != nil {
		t.Fatal(err)
	}
	got, err := LoadStations("", path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m.Stations(), got, addrCmp()); diff != "" {
		t.Errorf("(-saved +loaded):\n%s", diff)
	}
	// A restarted monitor knows the station: same MAC, no new-station.
	m2 := NewMonitor(got)
	if evs := m2.Observe(whoHas(Broadcast, macA, ipA, ipB), t0.Add(time.Hour)); len(evs) != 1 {
		t.Errorf("events after restart: %+v, want only the packet", evs)
	}
	if st, err := LoadStations("", filepath.Join(t.TempDir(), "missing.json")); err != nil || st != nil {
		t.Errorf("missing file: %v, %v; want empty", st, err)
	}
}
