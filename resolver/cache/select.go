package cache

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// exploreOneIn is how rarely Select explores: one pick in exploreOneIn goes
// to a server other than the fastest, so that a server that became faster
// is noticed. It is Knot Resolver's ε of 1/20 (lib/selection.c,
// EPSILON_NOMIN/EPSILON_DENOM). Between a pair of servers 15 to 40 ms apart
// (the bench's 2000-name lab) it costs about 1 ms per query on average,
// where Unbound's random pick within its band costs half the gap; and a
// zone asked a few times a second still refreshes every server's RTT
// within seconds, long before the record's HostTTL runs out.
const exploreOneIn = 20

// candidate is a server Select considers.
// It holds what Select uses of the record (the zone's, or the
// address-wide one if shared), not the whole InfraEntry: Select keeps
// selectOnStack of them on its stack, which at the entry's size grew the
// stack of the goroutine that called it (#11).
type candidate struct {
	addr netip.Addr
	seenRTT
	probeAfter time.Time // InfraEntry.ProbeAfter
	lame       bool
	// known is false for a server with no live record for the zone nor for
	// its address: its RTT is yet to be learnt.
	known bool
}

// faster orders candidates for exploitation: fewer timeouts since the last
// answer first (Knot Resolver's error count in cmp_choices), then the
// smaller smoothed RTT (PowerDNS Recursor's speed order in
// shuffleInSpeedOrder, pdns/syncres.cc).
func faster(a, b candidate) int {
	return cmp.Or(cmp.Compare(a.timeouts, b.timeouts), cmp.Compare(a.srtt, b.srtt))
}

// Select picks the server to query for zone among candidates, ε-greedy as
// Knot Resolver's select_transport (lib/selection.c) and in the spirit of
// PowerDNS Recursor's speed order:
//
//   - A server with no RTT known (never asked, or its record expired) is
//     asked first, at random among such, so that its RTT gets learnt (Knot
//     sorts servers without RTT information first; PowerDNS gives them
//     speed 0). A server that has not answered for zone but has for
//     another zone is not unknown: its address-wide record stands in.
//   - Otherwise one pick in exploreOneIn explores: another server whose RTO
//     is within Band of the fastest's, at random.
//   - Otherwise the fastest: fewest timeouts, then smallest smoothed RTT;
//     at random among those within Tie of it.
//
// Lame servers are not usable, nor servers at MaxRTO before their
// ProbeAfter; when only the latter are left, the one to be probed first is
// picked. The error wraps ErrNoServer when candidates is empty or all are
// lame.
func (in *Infra) Select(zone string, candidates []netip.Addr) (Selection, error) {
	// On the stack for the usual few servers: Select runs for every
	// query sent upstream.
	var buf [selectOnStack]candidate
	usable := buf[:0]
	var down []candidate
	lame := 0
	for _, a := range candidates {
		c, ok := in.candidate(a, zone)
		switch {
		case c.lame:
			lame++
		case !ok:
			down = append(down, c)
		default:
			usable = append(usable, c)
		}
	}
	if len(usable) == 0 {
		if len(down) == 0 {
			return Selection{}, fmt.Errorf("cache: %w for %s: %d candidates, %d lame",
				ErrNoServer, canonicalZone(zone), len(candidates), lame)
		}
		first := slices.MinFunc(down, func(a, b candidate) int { return a.probeAfter.Compare(b.probeAfter) })
		return Selection{Addr: first.addr, RTO: MaxRTO, why: selectWhy{kind: pickProbe, pick: first.seenRTT}}, nil
	}

	unknown := func(c *candidate) bool { return !c.known }
	if n := count(usable, unknown); n > 0 {
		pick := nth(usable, unknown, in.cfg.Rand(n))
		return Selection{Addr: pick.addr, RTO: pick.rto, why: selectWhy{kind: pickUnknown, of: n, pick: pick.seenRTT}}, nil
	}

	best := slices.MinFunc(usable, faster)
	tie := func(c *candidate) bool {
		return c.timeouts == best.timeouts && c.srtt-best.srtt <= in.cfg.Tie
	}
	other := func(c *candidate) bool { return !tie(c) && c.rto <= best.rto+in.cfg.Band }
	// The coin comes first, and explores on the last of its values, so a
	// Rand that always returns 0 never explores.
	if n := count(usable, other); n > 0 && in.cfg.Rand(exploreOneIn) == exploreOneIn-1 {
		pick := nth(usable, other, in.cfg.Rand(n))
		return Selection{Addr: pick.addr, RTO: pick.rto, why: selectWhy{kind: pickExplore, pick: pick.seenRTT, best: best.srtt}}, nil
	}
	n := count(usable, tie)
	pick := nth(usable, tie, in.cfg.Rand(n))
	return Selection{Addr: pick.addr, RTO: pick.rto, why: selectWhy{kind: pickFastest, of: n, pick: pick.seenRTT}}, nil
}

// pickKind is which rule of Select made the pick.
type pickKind uint8

// The zero pickKind is a zero Selection's: Reason says "".
const (
	pickProbe   pickKind = iota + 1 // every usable server held down: the first due
	pickUnknown                     // a server whose RTT is unknown
	pickExplore                     // one pick in exploreOneIn, within Band
	pickFastest                     // the fastest, or one of those as fast
)

// selectWhy is what a Selection's Reason says.
type selectWhy struct {
	kind pickKind
	of   int     // how many the pick was drawn from at random
	pick seenRTT // what was known of the pick
	best time.Duration
}

// seenRTT is what a candidate's record says of its RTT, and what Reason
// tells of the pick.
type seenRTT struct {
	srtt, rto time.Duration
	timeouts  int
	// shared is true for the address-wide record: the server has not
	// answered for this zone yet, but has for others.
	shared bool
}

// seenOf is what e says of a server's RTT.
func seenOf(e InfraEntry) seenRTT {
	return seenRTT{srtt: e.SRTT, rto: e.RTO, timeouts: e.Timeouts}
}

// Reason says why the server was picked, for humans: such as "fastest
// srtt 12ms".
func (s Selection) Reason() string {
	w := s.why
	switch w.kind {
	case pickProbe:
		return fmt.Sprintf("all usable servers down after timeouts, probing early (%d timeouts)", w.pick.timeouts)
	case pickUnknown:
		reason := fmt.Sprintf("RTT unknown, tried first (RTO %v", w.pick.rto)
		if w.of > 1 {
			reason += fmt.Sprintf(", 1 of %d", w.of)
		}
		return reason + ")"
	case pickExplore:
		return fmt.Sprintf("exploring 1 pick in %d, %s (fastest %v)", exploreOneIn, w.pick.describe(), w.best.Round(time.Millisecond))
	case pickFastest:
		reason := "fastest " + w.pick.describe()
		if w.of > 1 {
			reason += fmt.Sprintf(", 1 of %d as fast", w.of)
		}
		return reason
	}
	return ""
}

// selectOnStack is how many candidates Select keeps on the stack: more
// than the name servers of almost any zone (the root has 13 addresses per
// family); a longer list goes to the heap.
const selectOnStack = 16

// count returns how many of cs satisfy f.
func count(cs []candidate, f func(*candidate) bool) int {
	n := 0
	for i := range cs {
		if f(&cs[i]) {
			n++
		}
	}
	return n
}

// nth returns the k-th (from 0) of cs that satisfies f; k is below
// count(cs, f).
func nth(cs []candidate, f func(*candidate) bool, k int) candidate {
	for i := range cs {
		if f(&cs[i]) {
			if k == 0 {
				return cs[i]
			}
			k--
		}
	}
	panic("cache: nth beyond count") // unreachable: k < count(cs, f)
}

// candidate returns what Select knows about addr for zone, and false if
// the server is held down after timeouts. A lame server's e.Lame is set.
func (in *Infra) candidate(addr netip.Addr, zone string) (candidate, bool) {
	addr = addr.Unmap()
	e, ok := in.Lookup(addr, zone)
	switch {
	case ok && e.Lame:
		return candidate{addr: addr, seenRTT: seenOf(e), probeAfter: e.ProbeAfter, lame: true, known: true}, true
	case ok && e.RTO >= MaxRTO && in.cfg.Now().Before(e.ProbeAfter):
		return candidate{addr: addr, seenRTT: seenOf(e), probeAfter: e.ProbeAfter, known: true}, false
	case ok:
		return candidate{addr: addr, seenRTT: seenOf(e), probeAfter: e.ProbeAfter, known: true}, true
	}
	unknown := candidate{addr: addr, seenRTT: seenRTT{rto: in.unknownRTO()}}
	if zone == "" {
		return unknown, true
	}
	shared, ok := in.Lookup(addr, "")
	if !ok {
		return unknown, true
	}
	// The other zones' RTT ranks the server, but the query waits as long
	// as for an unknown server: the server may be slower for this zone
	// (and a tight RTO on every zone's first query turned load spikes into
	// retries at the other server in the 2000-name bench). Nor is the
	// server held down on other zones' account.
	c := candidate{addr: addr, seenRTT: seenOf(shared), probeAfter: shared.ProbeAfter, known: true}
	c.rto, c.shared = unknown.rto, true
	return c, true
}

// describe says what Select knew of the pick, for a Selection's Reason.
func (c seenRTT) describe() string {
	s := fmt.Sprintf("srtt %v", c.srtt.Round(time.Millisecond))
	if c.timeouts > 0 {
		s += fmt.Sprintf(", %d timeout(s)", c.timeouts)
	}
	if c.shared {
		s += " (via other zones)"
	}
	return s
}
