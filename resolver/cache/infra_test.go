package cache

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	srvA = netip.MustParseAddr("192.0.2.1")
	srvB = netip.MustParseAddr("192.0.2.2")
	srvC = netip.MustParseAddr("192.0.2.3")
	srvD = netip.MustParseAddr("2001:db8::53")
	srvE = netip.MustParseAddr("2001:db8::54")
)

// newTestInfra returns an Infra on a fake clock whose Rand always returns
// pick (clamped to n-1), closed when the test ends.
func newTestInfra(t testing.TB, cfg InfraConfig, pick int) (*Infra, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg.Now = clk.Now
	cfg.Rand = func(n int) int { return min(pick, n-1) }
	in, err := NewInfra(&cfg)
	if err != nil {
		t.Fatalf("NewInfra: %v", err)
	}
	t.Cleanup(in.Close)
	return in, clk
}

func TestRecordRTT(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		want    [3]time.Duration // SRTT, RTTVAR, RTO
	}{
		{"first sample (RFC 6298 §2.2)", []time.Duration{100 * time.Millisecond},
			[3]time.Duration{100 * time.Millisecond, 50 * time.Millisecond, 300 * time.Millisecond}},
		{"second sample (RFC 6298 §2.3)", []time.Duration{100 * time.Millisecond, 200 * time.Millisecond},
			[3]time.Duration{112500 * time.Microsecond, 62500 * time.Microsecond, 362500 * time.Microsecond}},
		{"RTO floor", []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond},
			[3]time.Duration{time.Millisecond, 281250 * time.Nanosecond, MinRTO}},
		{"RTO cap", []time.Duration{100 * time.Second},
			[3]time.Duration{100 * time.Second, 50 * time.Second, MaxRTO}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := newTestInfra(t, InfraConfig{}, 0)
			for _, s := range tt.samples {
				in.RecordRTT(srvA, "example.org.", s)
			}
			e, ok := in.Lookup(srvA, "EXAMPLE.org")
			if !ok {
				t.Fatal("Lookup missed")
			}
			if diff := cmp.Diff(tt.want, [3]time.Duration{e.SRTT, e.RTTVar, e.RTO}); diff != "" {
				t.Errorf("SRTT, RTTVAR, RTO (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMinRTO checks InfraConfig.MinRTO (Unbound's infra-cache-min-rtt):
// the floor of every RTO, learnt (a fake clock's 0 RTT too), unknown or
// doubled after a timeout, and a bad floor refused.
func TestMinRTO(t *testing.T) {
	tests := []struct {
		name   string
		minRTO time.Duration
		record func(in *Infra)
		want   time.Duration // the RTO Select gives srvA
	}{
		{"default floor after a 0 RTT", 0, func(in *Infra) { in.RecordRTT(srvA, "example.org.", 0) }, MinRTO},
		{"raised floor after a 0 RTT", time.Second, func(in *Infra) { in.RecordRTT(srvA, "example.org.", 0) }, time.Second},
		{"raised floor after a 1 ms RTT", 300 * time.Millisecond, func(in *Infra) { in.RecordRTT(srvA, "example.org.", time.Millisecond) }, 300 * time.Millisecond},
		{"a slower server is above the floor", 300 * time.Millisecond, func(in *Infra) { in.RecordRTT(srvA, "example.org.", 100*time.Millisecond) }, 300 * time.Millisecond},
		{"much slower: its own RTO", 100 * time.Millisecond, func(in *Infra) { in.RecordRTT(srvA, "example.org.", 200*time.Millisecond) }, 600 * time.Millisecond},
		{"unknown below the floor", time.Second, func(*Infra) {}, time.Second},
		{"unknown above the floor", 300 * time.Millisecond, func(*Infra) {}, UnknownRTO},
		{"a timeout doubles from the floor", time.Second, func(in *Infra) {
			in.RecordRTT(srvA, "example.org.", 0)
			in.RecordTimeout(srvA, "example.org.")
		}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := newTestInfra(t, InfraConfig{MinRTO: tt.minRTO}, 0)
			tt.record(in)
			sel, err := in.Select("example.org.", []netip.Addr{srvA})
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if diff := cmp.Diff(tt.want, sel.RTO); diff != "" {
				t.Errorf("RTO (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []time.Duration{-time.Millisecond, MaxRTO} {
		if _, err := NewInfra(&InfraConfig{MinRTO: bad}); !errors.Is(err, ErrConfig) {
			t.Errorf("NewInfra(MinRTO %v) error = %v, want ErrConfig", bad, err)
		}
	}
}

func TestRecordTimeout(t *testing.T) {
	in, clk := newTestInfra(t, InfraConfig{}, 0)
	want := []time.Duration{752, 1504, 3008, 6016, 12032, 24064, 48128, 96256, 120000, 120000}
	var got []time.Duration
	for range want {
		in.RecordTimeout(srvA, "example.org.")
		e, _ := in.Lookup(srvA, "example.org.")
		got = append(got, e.RTO/time.Millisecond)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RTOs in ms (-want +got):\n%s", diff)
	}
	e, _ := in.Lookup(srvA, "example.org.")
	if e.Timeouts != len(want) || !e.ProbeAfter.Equal(clk.Now().Add(DefaultProbeDelay)) {
		t.Errorf("Timeouts = %d, ProbeAfter = %v; want %d, %v", e.Timeouts, e.ProbeAfter, len(want), clk.Now().Add(DefaultProbeDelay))
	}
	in.RecordRTT(srvA, "example.org.", 20*time.Millisecond)
	e, _ = in.Lookup(srvA, "example.org.")
	if e.Timeouts != 0 || !e.ProbeAfter.IsZero() || e.RTO != 60*time.Millisecond {
		t.Errorf("after an answer: Timeouts %d, ProbeAfter %v, RTO %v; want 0, zero, 60ms", e.Timeouts, e.ProbeAfter, e.RTO)
	}
}

func TestLameExpiry(t *testing.T) {
	in, clk := newTestInfra(t, InfraConfig{LameTTL: time.Minute, HostTTL: time.Hour}, 0)
	in.RecordRTT(srvA, "example.org.", 10*time.Millisecond)
	in.MarkLame(srvA, "example.org.")
	steps := []struct {
		advance  time.Duration
		wantLame bool
	}{
		{0, true},
		{59 * time.Second, true},
		{time.Second, false},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		e, ok := in.Lookup(srvA, "example.org.")
		if !ok || e.Lame != s.wantLame {
			t.Errorf("after %v more: Lookup = lame %v, %v; want lame %v, true", s.advance, e.Lame, ok, s.wantLame)
		}
	}
}

func TestInfraHostTTL(t *testing.T) {
	in, clk := newTestInfra(t, InfraConfig{HostTTL: time.Minute}, 0)
	in.RecordRTT(srvA, "example.org.", 10*time.Millisecond)
	clk.Advance(time.Minute)
	if _, ok := in.Lookup(srvA, "example.org."); ok {
		t.Error("record outlived HostTTL")
	}
}

func TestSnapshot(t *testing.T) {
	in, clk := newTestInfra(t, InfraConfig{}, 0)
	t0 := clk.Now()
	in.RecordRTT(srvB, "example.org.", 100*time.Millisecond)
	in.RecordRTT(srvA, "example.org.", 20*time.Millisecond)
	in.RecordTimeout(srvD, "")
	clk.Advance(time.Second)
	in.MarkLame(srvA, "a.example.")
	// The answers and timeouts update the address-wide records (Zone "")
	// too; lameness does not.
	want := []InfraEntry{
		{Addr: srvA, SRTT: 20 * time.Millisecond, RTTVar: 10 * time.Millisecond, RTO: 60 * time.Millisecond, Updated: t0},
		{Addr: srvB, SRTT: 100 * time.Millisecond, RTTVar: 50 * time.Millisecond, RTO: 300 * time.Millisecond, Updated: t0},
		{Addr: srvD, RTO: 752 * time.Millisecond, Timeouts: 1, Updated: t0},
		{Addr: srvA, Zone: "a.example.", RTO: UnknownRTO, Lame: true, LameUntil: t0.Add(time.Second + DefaultLameTTL), Updated: t0.Add(time.Second)},
		{Addr: srvA, Zone: "example.org.", SRTT: 20 * time.Millisecond, RTTVar: 10 * time.Millisecond, RTO: 60 * time.Millisecond, Updated: t0},
		{Addr: srvB, Zone: "example.org.", SRTT: 100 * time.Millisecond, RTTVar: 50 * time.Millisecond, RTO: 300 * time.Millisecond, Updated: t0},
	}
	if diff := cmp.Diff(want, in.Snapshot(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Snapshot (-want +got):\n%s", diff)
	}
}

func TestInfraBound(t *testing.T) {
	in, _ := newTestInfra(t, InfraConfig{MaxEntries: 10}, 0)
	for i := range 100 {
		in.RecordRTT(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), fmt.Sprintf("z%d.example.", i), time.Millisecond)
	}
	in.store.CleanUp()
	if n := len(in.Snapshot()); n > 10 {
		t.Errorf("%d records kept, want at most 10", n)
	}
}

func TestNewInfraErrors(t *testing.T) {
	if _, err := NewInfra(&InfraConfig{Band: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("NewInfra error = %v, want ErrConfig", err)
	}
	in, err := NewInfra(nil)
	if err != nil {
		t.Fatalf("NewInfra(nil): %v", err)
	}
	in.Close()
}

// TestInfraUpdateInPlace checks that a record updated in place (no
// write to the store per reply, #11) keeps its history and lives as long
// as its last update says: answered every HostTTL/3 for ten HostTTLs, far
// past what the store was first told, it keeps every sample (its RTTVAR
// decays; a record made again would restart at half the RTT); left alone,
// it goes after HostTTL; a lame mark longer than HostTTL keeps it that
// long.
func TestInfraUpdateInPlace(t *testing.T) {
	const ttl = time.Minute
	const rtt = 8 * time.Millisecond
	tests := []struct {
		name   string
		record func(in *Infra)
		every  time.Duration // between records
		times  int
		// found says whether Lookup finds the record after each wait
		// that follows the last record.
		waits []time.Duration
		found []bool
	}{
		// 30 answers, HostTTL/3 apart: ten HostTTLs, where the store was
		// first told HostTTL and a quarter.
		{"answered for ten HostTTLs, then left alone",
			func(in *Infra) { in.RecordRTT(srvA, "example.org.", rtt) }, ttl / 3, 30,
			[]time.Duration{ttl - time.Second, time.Second}, []bool{true, false}},
		{"lame for five HostTTLs",
			func(in *Infra) { in.MarkLame(srvA, "example.org.") }, 0, 1,
			[]time.Duration{3 * ttl, 2 * ttl}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, clk := newTestInfra(t, InfraConfig{HostTTL: ttl, LameTTL: 5 * ttl}, 0)
			in.RecordRTT(srvA, "example.org.", rtt)
			for range tt.times {
				clk.Advance(tt.every)
				tt.record(in)
			}
			e, ok := in.Lookup(srvA, "example.org.")
			if !ok {
				t.Fatal("Lookup missed right after the last update")
			}
			// Every sample is rtt: RTTVAR starts at rtt/2 and falls by a
			// quarter per further sample.
			if e.RTTVar >= rtt/2 && tt.times > 1 {
				t.Errorf("RTTVAR %v after %d samples: the record was made again, its history lost", e.RTTVar, tt.times+1)
			}
			for i, w := range tt.waits {
				clk.Advance(w)
				if _, ok := in.Lookup(srvA, "example.org."); ok != tt.found[i] {
					t.Errorf("after wait %d (%v): Lookup found %v, want %v", i, w, ok, tt.found[i])
				}
			}
		})
	}
}

// TestRecordRTTAllocs checks that an answer from a known server updates
// its records without allocating (#11: a new stored value per update was
// about 1 KB per reply under a flood of cache misses).
func TestRecordRTTAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	in, _ := newTestInfra(t, InfraConfig{}, 0)
	in.RecordRTT(srvA, "example.org.", 10*time.Millisecond)
	allocs := testing.AllocsPerRun(100, func() { in.RecordRTT(srvA, "example.org.", 12*time.Millisecond) })
	if allocs != 0 {
		t.Errorf("RecordRTT allocates %.0f times, want 0", allocs)
	}
}
