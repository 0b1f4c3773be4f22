package server

import (
	"cmp"
	"slices"

	"github.com/miekg/dns"
)

// What an operator's control channel needs of the query path.

// FlushPacketCache empties the packet cache, so the next answers come from
// the resolver (and its cache). The control channel calls it after every
// flush of the resolver's cache: the packet cache only accelerates, and a
// stale copy of flushed data must not outlive it.
func (h *Handler) FlushPacketCache() {
	if h.pc != nil {
		h.pc.flush()
	}
}

// Records returns the local data as records, sorted by name and type, for
// display.
func (l *Local) Records() []dns.RR {
	if l == nil {
		return nil
	}
	var out []dns.RR
	for _, types := range l.names {
		for _, set := range types {
			off := 0
			for range set.n {
				rr, next, err := dns.UnpackRR(set.wire, off)
				if err != nil {
					break // cannot happen: AddRecord packed them
				}
				out = append(out, rr)
				off = next
			}
		}
	}
	slices.SortStableFunc(out, func(a, b dns.RR) int {
		return cmp.Or(cmp.Compare(dns.CanonicalName(a.Header().Name), dns.CanonicalName(b.Header().Name)),
			cmp.Compare(a.Header().Rrtype, b.Header().Rrtype))
	})
	return out
}
