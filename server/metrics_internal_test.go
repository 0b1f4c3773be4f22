package server

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestQueryCounterBounded feeds the queries counter every type number a
// client can send and every RCODE an upstream can return, and checks that
// its lookup map and its series stay at the labels' few values.
func TestQueryCounterBounded(t *testing.T) {
	tests := []struct {
		name   string
		qtypes int // type numbers 0..qtypes-1
		rcodes int // RCODEs 0..rcodes-1 (12 bits with EDNS)
		// wantMax bounds the map's keys and the series.
		wantMax int
	}{
		// 20 common types and "other".
		{"every type number", 1 << 16, 1, 21},
		// RFC 6895's 0 to 23, less the unassigned 12 to 15, and "other".
		{"every RCODE", 1, 1 << 12, 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics()
			for qt := range tt.qtypes {
				for rc := range tt.rcodes {
					m.query(uint16(qt), rc, TransportUDP, false)
				}
			}
			keys := 0
			m.qcounters.Range(func(any, any) bool { keys++; return true })
			if keys > tt.wantMax {
				t.Errorf("%d keys in the counter map, want at most %d", keys, tt.wantMax)
			}
			mfs, err := m.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			series, total := 0, 0.0
			for _, mf := range mfs {
				if mf.GetName() != "addrwalk_queries_total" {
					continue
				}
				for _, s := range mf.GetMetric() {
					series++
					total += s.GetCounter().GetValue()
				}
			}
			if series > tt.wantMax {
				t.Errorf("%d series of addrwalk_queries_total, want at most %d", series, tt.wantMax)
			}
			if diff := cmp.Diff(float64(tt.qtypes*tt.rcodes), total); diff != "" {
				t.Errorf("queries counted (-want +got):\n%s", diff)
			}
		})
	}
}

// TestQueryCounterLabels checks the labels a few queries get.
func TestQueryCounterLabels(t *testing.T) {
	tests := []struct {
		name         string
		qtype        uint16
		rcode        int
		wantType     string
		wantRcode    string
		wantCachedAs string
	}{
		{"common type", dns.TypeAAAA, dns.RcodeSuccess, "AAAA", "NOERROR", "false"},
		{"rare type", dns.TypeHINFO, dns.RcodeNameError, "other", "NXDOMAIN", "false"},
		{"BADVERS", dns.TypeA, rcodeBadVers, "A", "BADVERS", "false"},
		{"unassigned RCODE", dns.TypeA, 13, "A", "other", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics()
			m.query(tt.qtype, tt.rcode, TransportTCP, false)
			mfs, err := m.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var got []map[string]string
			for _, mf := range mfs {
				if mf.GetName() != "addrwalk_queries_total" {
					continue
				}
				for _, s := range mf.GetMetric() {
					l := map[string]string{}
					for _, lp := range s.GetLabel() {
						l[lp.GetName()] = lp.GetValue()
					}
					got = append(got, l)
				}
			}
			want := []map[string]string{{"type": tt.wantType, "rcode": tt.wantRcode, "transport": TransportTCP.String(), "cached": tt.wantCachedAs}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("series (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInflightPart checks that the parts metrics report the resolutions in
// flight beside the cache's parts, at InflightBytes each.
func TestInflightPart(t *testing.T) {
	tests := []struct {
		name    string
		changes []float64 // calls of inflight
		want    map[string]float64
	}{
		{"none", nil, map[string]float64{"entries": 0, "bytes": 0}},
		{"three running", []float64{1, 1, 1}, map[string]float64{"entries": 3, "bytes": 3 * InflightBytes}},
		{"started and done", []float64{1, 1, -1, -1, 1}, map[string]float64{"entries": 1, "bytes": InflightBytes}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics()
			for _, d := range tt.changes {
				m.inflight(d)
			}
			mfs, err := m.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, mf := range mfs {
				for _, s := range mf.GetMetric() {
					for _, l := range s.GetLabel() {
						if l.GetName() == "part" && l.GetValue() == "inflight" {
							got[strings.TrimPrefix(mf.GetName(), "addrwalk_cache_part_")] = s.GetGauge().GetValue()
						}
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("inflight part (-want +got):\n%s", diff)
			}
		})
	}
}
