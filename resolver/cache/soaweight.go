package cache

import "sync"

// soaCarriers decide which negative entry weighs a zone's shared SOA.
// Every negative answer of a zone points at one interned copy of the SOA
// and the RRSIGs over it (shared), so weighing the copy in every entry
// counted it once per entry: 307 bytes estimated for an unsigned NXDOMAIN
// that takes 207 (TestBytesPerEntry), and negative answers were evicted
// early. Now one live entry of the zone, the carrier, weighs it, and an
// entry that replaces the carrier carries it on. When the carrier goes
// while others of the zone stay, the copy is unweighed until the zone's
// next negative answer is stored, which carries it: what the budget
// misses is at most one copy per zone, and each such zone still has an
// entry weighing more than the copy.
type soaCarriers struct {
	mu sync.Mutex // guards m
	m  map[shared]*soaUse
}

// soaUse is what the cache holds of one shared SOA.
type soaUse struct {
	refs     int // live negative entries pointing at it
	carriers int // how many of them weigh it: 1, or 2 while one replaces the other
}

// take records a new entry pointing at s, and reports whether it is to
// carry s: no live entry does, or the entry replaces the carrier.
func (sc *soaCarriers) take(s shared, replacesCarrier bool) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.m == nil {
		sc.m = make(map[shared]*soaUse)
	}
	u := sc.m[s]
	if u == nil {
		u = &soaUse{}
		sc.m[s] = u
	}
	u.refs++
	if u.carriers > 0 && !replacesCarrier {
		return false
	}
	u.carriers++
	return true
}

// holds reports whether a live entry points at s.
func (sc *soaCarriers) holds(s shared) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.m[s] != nil
}

// release records that an entry pointing at s is gone; carrier says
// whether it carried s.
func (sc *soaCarriers) release(s shared, carrier bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	u := sc.m[s]
	if u == nil {
		return // unreachable: every release follows a take
	}
	u.refs--
	if carrier {
		u.carriers--
	}
	if u.refs <= 0 {
		delete(sc.m, s)
	}
}
