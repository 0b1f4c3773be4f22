package cachedb

import "github.com/prometheus/client_golang/prometheus"

// Stats is a snapshot of the store's counters.
type Stats struct {
	State State
	// Lookups by result: Hits answered; Misses found nothing usable;
	// Timeouts and Errors failed; Garbage found a value that did not
	// decode, was oversized or of the wrong type (it is deleted);
	// Skipped were not sent because Redis was not up.
	Hits, Misses, Timeouts, Errors, Garbage, Skipped uint64
	// Writes by result: Writes were sent (deletions of garbage too);
	// WriteErrors failed; DroppedFull found the queue full;
	// DroppedDown were dropped while Redis was not up; TooBig exceeded
	// MaxObjectSize.
	Writes, WriteErrors, DroppedFull, DroppedDown, TooBig uint64
	// Queued is the number of writes waiting or being sent now.
	Queued int
	// StateChanges counts changes of State.
	StateChanges uint64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	s.h.mu.Lock()
	changes := s.h.changes
	s.h.mu.Unlock()
	return Stats{
		State: s.h.state(),
		Hits:  s.hits.Load(), Misses: s.misses.Load(), Timeouts: s.timeouts.Load(), Errors: s.errs.Load(),
		Garbage: s.garbage.Load(), Skipped: s.skipped.Load(),
		Writes: s.writes.Load(), WriteErrors: s.writeErrs.Load(), DroppedFull: s.dropFull.Load(),
		DroppedDown: s.dropDown.Load(), TooBig: s.tooBig.Load(),
		Queued:       int(s.pending.Load()),
		StateChanges: changes,
	}
}

var (
	descUp = prometheus.NewDesc("addrwalk_cachedb_up",
		"Whether the shared cache (Redis) is up: 1 up, 0 down or not yet reached.", nil, nil)
	descLookups = prometheus.NewDesc("addrwalk_cachedb_lookups_total",
		"Shared cache lookups, by result (hit, miss, timeout, error, garbage, skipped).", []string{"result"}, nil)
	descWrites = prometheus.NewDesc("addrwalk_cachedb_writes_total",
		"Shared cache writes, by result (ok, error, dropped_full, dropped_down, too_big).", []string{"result"}, nil)
	descQueue = prometheus.NewDesc("addrwalk_cachedb_write_queue",
		"Writes waiting to be sent to the shared cache or being sent.", nil, nil)
	descChanges = prometheus.NewDesc("addrwalk_cachedb_state_changes_total",
		"Changes of the shared cache's state (up, down).", nil, nil)
)

// Describe implements prometheus.Collector.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descLookups, descWrites, descQueue, descChanges} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	st := s.Stats()
	up := 0.0
	if st.State == StateUp {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
	for _, l := range []struct {
		result string
		n      uint64
	}{{"hit", st.Hits}, {"miss", st.Misses}, {"timeout", st.Timeouts}, {"error", st.Errors}, {"garbage", st.Garbage}, {"skipped", st.Skipped}} {
		ch <- prometheus.MustNewConstMetric(descLookups, prometheus.CounterValue, float64(l.n), l.result)
	}
	for _, w := range []struct {
		result string
		n      uint64
	}{{"ok", st.Writes}, {"error", st.WriteErrors}, {"dropped_full", st.DroppedFull}, {"dropped_down", st.DroppedDown}, {"too_big", st.TooBig}} {
		ch <- prometheus.MustNewConstMetric(descWrites, prometheus.CounterValue, float64(w.n), w.result)
	}
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, float64(st.StateChanges))
}
