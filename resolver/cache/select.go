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
type candidate struct {
	addr netip.Addr
	e    InfraEntry // the zone's record, or the address-wide one if shared
	// known is false for a server with no live record for the zone nor for
	// its address: its RTT is yet to be learnt.
	known bool
	// shared is true when e is the address-wide record: the server has not
	// answered for this zone yet, but has for others.
	shared bool
}

// faster orders candidates for exploitation: fewer timeouts since the last
// answer first (Knot Resolver's error count in cmp_choices), then the
// smaller smoothed RTT (PowerDNS Recursor's speed order in
// shuffleInSpeedOrder, pdns/syncres.cc).
func faster(a, b candidate) int {
	return cmp.Or(cmp.Compare(a.e.Timeouts, b.e.Timeouts), cmp.Compare(a.e.SRTT, b.e.SRTT))
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
		case c.e.Lame:
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
		first := slices.MinFunc(down, func(a, b candidate) int { return a.e.ProbeAfter.Compare(b.e.ProbeAfter) })
		return Selection{Addr: first.addr, RTO: MaxRTO, Reason: fmt.Sprintf(
			"all usable servers down after timeouts, probing early (%d timeouts)", first.e.Timeouts)}, nil
	}

	unknown := func(c *candidate) bool { return !c.known }
	if n := count(usable, unknown); n > 0 {
		pick := nth(usable, unknown, in.cfg.Rand(n))
		reason := fmt.Sprintf("RTT unknown, tried first (RTO %v", pick.e.RTO)
		if n > 1 {
			reason += fmt.Sprintf(", 1 of %d", n)
		}
		return Selection{Addr: pick.addr, RTO: pick.e.RTO, Reason: reason + ")"}, nil
	}

	best := slices.MinFunc(usable, faster)
	tie := func(c *candidate) bool {
		return c.e.Timeouts == best.e.Timeouts && c.e.SRTT-best.e.SRTT <= in.cfg.Tie
	}
	other := func(c *candidate) bool { return !tie(c) && c.e.RTO <= best.e.RTO+in.cfg.Band }
	// The coin comes first, and explores on the last of its values, so a
	// Rand that always returns 0 never explores.
	if n := count(usable, other); n > 0 && in.cfg.Rand(exploreOneIn) == exploreOneIn-1 {
		pick := nth(usable, other, in.cfg.Rand(n))
		return Selection{Addr: pick.addr, RTO: pick.e.RTO, Reason: fmt.Sprintf(
			"exploring 1 pick in %d, %s (fastest %v)", exploreOneIn, describe(pick), best.e.SRTT.Round(time.Millisecond))}, nil
	}
	n := count(usable, tie)
	pick := nth(usable, tie, in.cfg.Rand(n))
	reason := "fastest " + describe(pick)
	if n > 1 {
		reason += fmt.Sprintf(", 1 of %d as fast", n)
	}
	return Selection{Addr: pick.addr, RTO: pick.e.RTO, Reason: reason}, nil
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
		return candidate{addr: addr, e: e, known: true}, true
	case ok && e.RTO >= MaxRTO && in.cfg.Now().Before(e.ProbeAfter):
		return candidate{addr: addr, e: e, known: true}, false
	case ok:
		return candidate{addr: addr, e: e, known: true}, true
	}
	unknown := candidate{addr: addr, e: InfraEntry{Addr: addr, RTO: in.unknownRTO()}}
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
	shared.Zone, shared.Lame = canonicalZone(zone), false
	shared.RTO = unknown.e.RTO
	return candidate{addr: addr, e: shared, known: true, shared: true}, true
}

// describe says what Select knew of c, for a Selection's Reason.
func describe(c candidate) string {
	s := fmt.Sprintf("srtt %v", c.e.SRTT.Round(time.Millisecond))
	if c.e.Timeouts > 0 {
		s += fmt.Sprintf(", %d timeout(s)", c.e.Timeouts)
	}
	if c.shared {
		s += " (via other zones)"
	}
	return s
}
