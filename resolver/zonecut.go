package resolver

import (
	"context"
	"fmt"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// This file finds zone cuts that no referral showed (RFC 4035 §5, the
// way Unbound's and Knot Resolver's validators do): a server
// authoritative for a signed zone and for a child below it answers for
// the child directly, so an answer can arrive unsigned, or signed by a
// zone the walk never entered, from servers the resolver took to be
// those of the parent. Before calling such an answer Bogus, the
// validator asks the DS of every name between the zone it believed and
// the owner name: a DS denial from the signed parent proving an unsigned
// delegation makes the answer Insecure; a DS makes the child's own keys
// decide; names proven to be no cut are passed over; anything unproven
// leaves the missing signature Bogus.

// maxCutProbes bounds the DS questions one search asks: one per label
// between the zone and the owner name. Real names sit a few labels below
// their zone's apex; 16 covers every name seen in practice, and beyond
// it the answer stays Bogus rather than costing more queries (each is
// also counted against the request's upstream budget).
const maxCutProbes = 16

// hiddenCut looks for a zone cut strictly below zone, whose keys are
// Secure, and at or above owner, whose RRset came without a signature by
// zone. It returns the keys of the zone that really holds owner: Insecure
// when a validated DS denial proves an unsigned delegation on the way, or
// the child's keys when the parent has its DS. It returns nil when no cut
// was found (every name proven not a cut, a name proven not to exist, or
// the DS questions unanswered): then the answer's own verdict stands.
func (rq *request) hiddenCut(ctx context.Context, zone, owner string) *zoneKeys {
	zone, owner = dns.CanonicalName(zone), dns.CanonicalName(owner)
	if !dnsname.IsSubDomain(zone, owner) || zone == owner {
		return nil
	}
	names := between(zone, owner)
	if len(names) > maxCutProbes {
		names = names[:maxCutProbes]
	}
	if rq.obs != nil {
		rq.emit(Event{Kind: EventValidate, Zone: zone, Outcome: "search",
			Detail: fmt.Sprintf("%s is not signed by %s: looking for a zone cut between them (DS at each of %d names)", owner, zone, len(names))})
	}
	for _, c := range names {
		if zk, ok := rq.vkeys[c]; ok && zk.status != dnssec.Bogus {
			return zk // a cut this request already found
		}
		var out response
		if h, ok := rq.r.cache.Lookup(c, dns.TypeDS, rq.class, cache.LookupOpts{}); ok && len(dsRecords(h.RRs)) > 0 {
			return rq.keysFor(ctx, c, 0)
		} else if p, insecure, ok := rq.cachedDSDenial(c); ok {
			if insecure != nil {
				return insecure
			}
			out = p
		} else {
			var err error
			if out, err = rq.lookup(ctx, c, dns.TypeDS); err != nil {
				return nil
			}
		}
		switch out.kind {
		case kindAnswer:
			if len(dsRecords(out.answer)) > 0 {
				// A signed cut: its keys, vouched for by this DS, decide.
				return rq.keysFor(ctx, c, 0)
			}
			return nil
		case kindNoData, kindReferral:
			zk, cut := rq.cutFromDenial(ctx, c, out)
			if zk != nil || !cut {
				if zk != nil && zk.status == dnssec.Insecure {
					rq.rememberCut(ctx, c, out.proof, zk)
				}
				return zk
			}
		default:
			// NXDOMAIN: nothing exists at c, so no cut at or below it.
			return nil
		}
	}
	return nil
}

// cutFromDenial reads a validated DS denial for c. It returns Insecure
// keys when the denial proves an unsigned delegation, Bogus keys when it
// does not verify or proves nothing, and (nil, true) when it proves c
// exists and is no cut, so the search goes on below it.
func (rq *request) cutFromDenial(ctx context.Context, c string, out response) (*zoneKeys, bool) {
	parent := signerOf(out)
	if parent == "" || len(out.proof) == 0 {
		return nil, false // an unsigned denial proves nothing either way
	}
	pk := rq.keysFor(ctx, parent, 0)
	if pk.status != dnssec.Secure {
		return nil, false
	}
	if err := rq.verifyProof(out.proof, pk); err != nil {
		return &zoneKeys{zone: c, status: dnssec.StatusOf(err), parent: parent, err: err}, false
	}
	nsecs, nsec3s := proofRecords(out.proof)
	var insecureErr, nodataErr error
	if len(nsecs) > 0 {
		insecureErr = dnssec.ProveInsecureDelegation(c, pk.zone, nsecs)
		nodataErr = dnssec.ProveNODATA(c, dns.TypeDS, pk.zone, nsecs)
	} else {
		insecureErr = dnssec.ProveNSEC3InsecureDelegation(c, pk.zone, nsec3s)
		nodataErr = dnssec.ProveNSEC3NODATA(c, dns.TypeDS, pk.zone, nsec3s)
	}
	if insecureErr == nil || dnssec.StatusOf(insecureErr) == dnssec.Insecure {
		return &zoneKeys{zone: c, status: dnssec.Insecure, parent: pk.zone,
			err: fmt.Errorf("unsigned delegation: %s has no DS in %s (a zone cut no referral showed)", c, pk.zone)}, false
	}
	if nodataErr == nil {
		return nil, true // c exists in the parent and is not a delegation
	}
	return &zoneKeys{zone: c, status: dnssec.Bogus, parent: pk.zone, err: insecureErr}, false
}

// rememberCut keeps a discovered unsigned cut for this request and the
// cache: the child's NS set (asked of the same servers, which are
// authoritative for it) is cached with the proof and marked Insecure,
// like a referral's, so later names under it start at the cut and cost
// no search. Without an NS answer the DS denial cached by the search
// still settles the cut on the next search, without a query.
func (rq *request) rememberCut(ctx context.Context, c string, proof []dns.RR, zk *zoneKeys) {
	if rq.vkeys == nil {
		rq.vkeys = map[string]*zoneKeys{}
	}
	rq.vkeys[c] = zk
	if _, ok := rq.r.cache.Lookup(c, dns.TypeNS, rq.class, cache.LookupOpts{}); !ok {
		if out, err := rq.lookup(ctx, c, dns.TypeNS); err != nil || out.kind != kindAnswer || !nsAnswer(out.answer, c) {
			return
		}
	}
	rq.markInsecureDelegation(c, proof)
	if rq.obs != nil {
		rq.emit(Event{Kind: EventValidate, Zone: c, Outcome: zk.status.String(), Detail: "zone cut found at " + c + ": " + zk.err.Error()})
	}
}

// between returns the names strictly below zone down to name (included),
// from the top: for zone example. and a.b.example., b.example. and
// a.b.example.
func between(zone, name string) []string {
	var out []string
	zl := dns.CountLabel(zone)
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		n := name[off:]
		if dns.CountLabel(n) <= zl {
			break
		}
		out = append([]string{n}, out...)
	}
	return out
}
