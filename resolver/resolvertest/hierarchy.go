package resolvertest

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
)

// Hierarchy is a lab described as data: the zones as zone-file text, which
// of them to sign and how, and the servers hosting them. It is the one way
// tests, examples and the simulator write a hierarchy of zones; Lab turns
// it into a lab and Start runs that lab for a test.
type Hierarchy struct {
	// Zones maps an origin to its zone-file text.
	Zones map[string]string
	// Signed maps the origin of each signed zone to how it is signed;
	// the parents' DS records are derived when the lab starts, so the
	// order of signing does not matter.
	Signed map[string]SignOptions
	// Servers host the zones; every address is in 127.0.0.0/8.
	Servers []Host
}

// Host is one server of a Hierarchy: its name (usually the NS name that
// points to it), its loopback address and the origins of the zones it
// serves. A host serving no zone answers REFUSED to everything, as a lame
// server does.
type Host struct {
	Name  string
	Addr  string
	Zones []string
}

// Lab builds a lab from the hierarchy (not started), taking the zones in
// name order so that an error names the same zone every run. edit, if not
// nil, may change the signing options of each signed zone first: tests
// use it to break one zone.
func (h Hierarchy) Lab(cfg Config, edit func(origin string, o *SignOptions)) (*Lab, error) {
	lab := New(cfg)
	for _, origin := range slices.Sorted(maps.Keys(h.Zones)) {
		if err := lab.AddZone(origin, h.Zones[origin]); err != nil {
			return nil, err
		}
	}
	for _, origin := range slices.Sorted(maps.Keys(h.Signed)) {
		opts := h.Signed[origin]
		if edit != nil {
			edit(origin, &opts)
		}
		if err := lab.SignZone(origin, opts); err != nil {
			return nil, err
		}
	}
	for _, s := range h.Servers {
		addr, err := netip.ParseAddr(s.Addr)
		if err != nil {
			return nil, fmt.Errorf("resolvertest: server %s: %w", s.Name, err)
		}
		if err := lab.AddServer(s.Name, addr, s.Zones...); err != nil {
			return nil, err
		}
	}
	return lab, nil
}

// Start builds the hierarchy's lab with cfg and starts it for a test: it
// fails the test if either step fails and closes the lab when the test
// ends.
func (h Hierarchy) Start(tb TB, cfg Config) *Lab {
	tb.Helper()
	lab, err := h.Lab(cfg, nil)
	if err != nil {
		tb.Fatalf("build lab: %v", err)
	}
	return Start(tb, lab)
}
