package cache

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSelect(t *testing.T) {
	// For example.org.: A srtt 20ms, RTO 60ms (fastest); B srtt 100ms, RTO
	// 300ms (within the 400ms band); C srtt 200ms, RTO 600ms (beyond it);
	// D and E unknown.
	setup := func(in *Infra) {
		in.RecordRTT(srvA, "example.org.", 20*time.Millisecond)
		in.RecordRTT(srvB, "example.org.", 100*time.Millisecond)
		in.RecordRTT(srvC, "example.org.", 200*time.Millisecond)
	}
	// pick is what Rand returns (clamped to n-1): 0 never explores and
	// takes the first; exploreOneIn-1 explores.
	const explore = exploreOneIn - 1
	tests := []struct {
		name       string
		candidates []netip.Addr
		pick       int
		extra      func(in *Infra, clk *fakeClock)
		want       selected
		wantErr    error
	}{
		{"fastest preferred", []netip.Addr{srvB, srvC, srvA}, 0, nil,
			selected{Addr: srvA, RTO: 60 * time.Millisecond, Reason: "fastest srtt 20ms"}, nil},
		{"fastest whatever else Rand says", []netip.Addr{srvB, srvA, srvC}, explore - 1, nil,
			selected{Addr: srvA, RTO: 60 * time.Millisecond, Reason: "fastest srtt 20ms"}, nil},
		{"explores within the band", []netip.Addr{srvA, srvB, srvC}, explore, nil,
			selected{Addr: srvB, RTO: 300 * time.Millisecond, Reason: "exploring 1 pick in 20, srtt 100ms (fastest 20ms)"}, nil},
		{"never explores beyond the band", []netip.Addr{srvA, srvC}, explore, nil,
			selected{Addr: srvA, RTO: 60 * time.Millisecond, Reason: "fastest srtt 20ms"}, nil},
		{"unknown asked first", []netip.Addr{srvA, srvB, srvD}, 0, nil,
			selected{Addr: srvD, RTO: UnknownRTO, Reason: "RTT unknown, tried first (RTO 376ms)"}, nil},
		{"unknown asked first, at random among unknown", []netip.Addr{srvA, srvD, srvE}, 1, nil,
			selected{Addr: srvE, RTO: UnknownRTO, Reason: "RTT unknown, tried first (RTO 376ms, 1 of 2)"}, nil},
		{"only unknown", []netip.Addr{srvD}, 0, nil,
			selected{Addr: srvD, RTO: UnknownRTO, Reason: "RTT unknown, tried first (RTO 376ms)"}, nil},
		{"expired records are unknown again", []netip.Addr{srvA, srvB}, 0, func(_ *Infra, clk *fakeClock) { clk.Advance(DefaultHostTTL) },
			selected{Addr: srvA, RTO: UnknownRTO, Reason: "RTT unknown, tried first (RTO 376ms, 1 of 2)"}, nil},
		{"RTT for another zone stands in", []netip.Addr{srvA, srvD}, 0, func(in *Infra, _ *fakeClock) {
			in.RecordRTT(srvD, "other.example.", 5*time.Millisecond)
		}, selected{Addr: srvD, RTO: UnknownRTO, Reason: "fastest srtt 5ms (via other zones)"}, nil},
		{"slow for another zone is not asked first", []netip.Addr{srvD, srvA}, 0, func(in *Infra, _ *fakeClock) {
			in.RecordRTT(srvD, "other.example.", 300*time.Millisecond)
		}, selected{Addr: srvA, RTO: 60 * time.Millisecond, Reason: "fastest srtt 20ms"}, nil},
		{"RTO for a zone not asked yet is an unknown server's", []netip.Addr{srvD}, 0, func(in *Infra, _ *fakeClock) {
			in.RecordRTT(srvD, "other.example.", 300*time.Millisecond)
		}, selected{Addr: srvD, RTO: UnknownRTO, Reason: "fastest srtt 300ms (via other zones)"}, nil},
		{"timeouts for another zone count", []netip.Addr{srvD, srvB}, 0, func(in *Infra, _ *fakeClock) {
			in.RecordRTT(srvD, "other.example.", time.Millisecond)
			in.RecordTimeout(srvD, "other.example.")
		}, selected{Addr: srvB, RTO: 300 * time.Millisecond, Reason: "fastest srtt 100ms"}, nil},
		{"as fast within Tie, at random", []netip.Addr{srvA, srvD}, 1, func(in *Infra, _ *fakeClock) {
			in.RecordRTT(srvD, "example.org.", 21*time.Millisecond)
		}, selected{Addr: srvD, RTO: 63 * time.Millisecond, Reason: "fastest srtt 21ms, 1 of 2 as fast"}, nil},
		{"fewer timeouts beat a smaller srtt", []netip.Addr{srvA, srvB}, 0, func(in *Infra, _ *fakeClock) { timeOut(in, srvA, 1) },
			selected{Addr: srvB, RTO: 300 * time.Millisecond, Reason: "fastest srtt 100ms"}, nil},
		{"a server that timed out is explored", []netip.Addr{srvA, srvB}, explore, func(in *Infra, _ *fakeClock) { timeOut(in, srvA, 1) },
			selected{Addr: srvA, RTO: 120 * time.Millisecond, Reason: "exploring 1 pick in 20, srtt 20ms, 1 timeout(s) (fastest 100ms)"}, nil},
		{"lame skipped", []netip.Addr{srvA, srvC}, 0, func(in *Infra, _ *fakeClock) { in.MarkLame(srvA, "example.org.") },
			selected{Addr: srvC, RTO: 600 * time.Millisecond, Reason: "fastest srtt 200ms"}, nil},
		{"lame for another zone is usable", []netip.Addr{srvA, srvC}, 0, func(in *Infra, _ *fakeClock) { in.MarkLame(srvA, "other.example.") },
			selected{Addr: srvA, RTO: 60 * time.Millisecond, Reason: "fastest srtt 20ms"}, nil},
		{"lame for another zone stands in unlame", []netip.Addr{srvD}, 0, func(in *Infra, _ *fakeClock) {
			in.RecordRTT(srvD, "other.example.", 5*time.Millisecond)
			in.MarkLame(srvD, "other.example.")
		}, selected{Addr: srvD, RTO: UnknownRTO, Reason: "fastest srtt 5ms (via other zones)"}, nil},
		{"lame expires", []netip.Addr{srvA, srvC}, 0, func(in *Infra, clk *fakeClock) {
			in.MarkLame(srvA, "example.org.")
			clk.Advance(DefaultLameTTL)
		}, selected{Addr: srvA, RTO: UnknownRTO, Reason: "RTT unknown, tried first (RTO 376ms, 1 of 2)"}, nil},
		{"all lame", []netip.Addr{srvA}, 0, func(in *Infra, _ *fakeClock) { in.MarkLame(srvA, "example.org.") },
			selected{}, ErrNoServer},
		{"no candidates", nil, 0, nil, selected{}, ErrNoServer},
		{"down server skipped", []netip.Addr{srvA, srvC}, 0, func(in *Infra, _ *fakeClock) { timeOut(in, srvA, 12) },
			selected{Addr: srvC, RTO: 600 * time.Millisecond, Reason: "fastest srtt 200ms"}, nil},
		{"down server not explored", []netip.Addr{srvA, srvB}, explore, func(in *Infra, _ *fakeClock) { timeOut(in, srvB, 12) },
			selected{Addr: srvA, RTO: 60 * time.Millisecond, Reason: "fastest srtt 20ms"}, nil},
		{"down server probed when alone", []netip.Addr{srvA}, 0, func(in *Infra, _ *fakeClock) { timeOut(in, srvA, 12) },
			selected{Addr: srvA, RTO: MaxRTO, Reason: "all usable servers down after timeouts, probing early (12 timeouts)"}, nil},
		{"down server back after probe delay", []netip.Addr{srvA, srvC}, 0, func(in *Infra, clk *fakeClock) {
			timeOut(in, srvA, 12)
			clk.Advance(DefaultProbeDelay)
		}, selected{Addr: srvC, RTO: 600 * time.Millisecond, Reason: "fastest srtt 200ms"}, nil},
		{"down for another zone is usable", []netip.Addr{srvD}, 0, func(in *Infra, _ *fakeClock) {
			for range 12 {
				in.RecordTimeout(srvD, "other.example.")
			}
		}, selected{Addr: srvD, RTO: UnknownRTO, Reason: "fastest srtt 0s, 12 timeout(s) (via other zones)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, clk := newTestInfra(t, InfraConfig{}, tt.pick)
			setup(in)
			if tt.extra != nil {
				tt.extra(in, clk)
			}
			got, err := in.Select("example.org.", tt.candidates)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Select error = %v, want %v", err, tt.wantErr)
			}
			sel := selected{Addr: got.Addr, RTO: got.RTO, Reason: got.Reason()}
			if diff := cmp.Diff(tt.want, sel, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("Select (-want +got):\n%s", diff)
			}
		})
	}
}

// selected is a Selection with its Reason in words, to compare.
type selected struct {
	Addr   netip.Addr
	RTO    time.Duration
	Reason string
}

// TestSelectShare checks how the picks spread over many calls with a
// seeded Rand: the fastest gets all but about one in exploreOneIn, the
// explored share is spread over the servers within the band, and a server
// beyond the band or held down gets none.
func TestSelectShare(t *testing.T) {
	// picks is enough for the explored share's binomial spread (sd about
	// 0.2 percentage points at 10000) to sit well inside the bounds below,
	// and quick.
	const picks = 10000
	tests := []struct {
		name  string
		setup func(in *Infra)
		// min and max percent of the picks per server, for A to D.
		want map[netip.Addr][2]float64
	}{
		{"pair", func(in *Infra) {
			in.RecordRTT(srvA, "example.org.", 10*time.Millisecond)
			in.RecordRTT(srvB, "example.org.", 40*time.Millisecond)
		}, map[netip.Addr][2]float64{srvA: {94, 96}, srvB: {4, 6}}},
		{"explored share split over the band", func(in *Infra) {
			in.RecordRTT(srvA, "example.org.", 10*time.Millisecond)
			in.RecordRTT(srvB, "example.org.", 40*time.Millisecond)
			in.RecordRTT(srvC, "example.org.", 80*time.Millisecond)
			in.RecordRTT(srvD, "example.org.", 2*time.Second) // beyond the band
		}, map[netip.Addr][2]float64{srvA: {94, 96}, srvB: {2, 3.1}, srvC: {2, 3.1}, srvD: {0, 0}}},
		{"held down never picked", func(in *Infra) {
			in.RecordRTT(srvA, "example.org.", 10*time.Millisecond)
			in.RecordRTT(srvB, "example.org.", 40*time.Millisecond)
			timeOut(in, srvC, 12)
		}, map[netip.Addr][2]float64{srvA: {94, 96}, srvB: {4, 6}, srvC: {0, 0}}},
		{"equally fast share the load", func(in *Infra) {
			in.RecordRTT(srvA, "example.org.", 10*time.Millisecond)
			in.RecordRTT(srvB, "example.org.", 11*time.Millisecond)
		}, map[netip.Addr][2]float64{srvA: {48, 52}, srvB: {48, 52}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			in, _ := newTestInfra(t, InfraConfig{}, 0)
			in.cfg.Rand = rng.IntN
			tt.setup(in)
			var cands []netip.Addr
			for a := range tt.want {
				cands = append(cands, a)
			}
			slices.SortFunc(cands, netip.Addr.Compare)
			got := map[netip.Addr]int{}
			for range picks {
				sel, err := in.Select("example.org.", cands)
				if err != nil {
					t.Fatal(err)
				}
				got[sel.Addr]++
			}
			for _, a := range cands {
				pct := 100 * float64(got[a]) / picks
				if b := tt.want[a]; pct < b[0] || pct > b[1] {
					t.Errorf("%v got %.2f%% of %d picks, want %.1f%% to %.1f%%", a, pct, picks, b[0], b[1])
				}
			}
		})
	}
}

// timeOut records n timeouts of addr for example.org.
func timeOut(in *Infra, addr netip.Addr, n int) {
	for range n {
		in.RecordTimeout(addr, "example.org.")
	}
}

// TestSelectAllocs checks that one Select with four known servers does
// not allocate: the candidate lists stay on the stack, and the Reason's
// words are made only when asked for (#11: Select runs for every query
// sent upstream, and most are traced by nobody).
func TestSelectAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	in, _ := newTestInfra(t, InfraConfig{}, 0)
	in.cfg.Rand = func(int) int { return 0 }
	cands := []netip.Addr{srvA, srvB, srvC, srvD}
	for i, a := range cands {
		in.RecordRTT(a, "example.org.", time.Duration(10+i)*time.Millisecond)
	}
	const maxAllocs = 0
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := in.Select("example.org.", cands); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > maxAllocs {
		t.Errorf("Select allocates %.0f times, want at most %d", allocs, maxAllocs)
	}
	t.Logf("%.0f allocations", allocs)
}
