package resolver

import (
	"context"
	"errors"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// This file keeps a walk from asking what is already known or already
// being asked (measured with bench/peers.sh: simcount's "dup" class, a
// question already asked of any server):
//   - deeperCut: a zone cut another request learned (now in the cache)
//     after this walk chose where to start: two requests under test.
//     started at the root together, the first one's referral arrived,
//     and the second asked the root for test. again;
//   - pendingCut: another request is asking the same zone's servers an
//     NS question for a name on this walk's way down (a shortened
//     question discovering the cut): ask that question instead and share
//     its reply (inflight.go) rather than sending the parent a question
//     of its own (example.org. MX to org.'s servers while another request
//     asked them example.org. NS) that only brings the same referral;
//   - qminDone: where minimisation of a name ended at a zone, so a second
//     walk for the same name in one request (the retry at another server
//     after a bogus answer, the AAAA after the A of an NS name) does not
//     ask the shortened questions again; cachedNoCut: the same across
//     requests, from the negative cache; nsecNoCut: a shortened question
//     the zone's cached, validated NSEC records already answer (an empty
//     non-terminal) is skipped, and minimisation goes on a label deeper;
//   - warmWalk: the walk to a CNAME's target starts while the CNAME is
//     validated (resolve validated each piece of a chain before walking
//     to the next target: go.example.com. in bench/peers.sh, three zones
//     deep, spent most of its time waiting on keys in turn).

// qminKey names the minimisation of qname at zone in request.qminDone.
func qminKey(zone, qname string) string { return zone + " " + strings.ToLower(qname) }

// rememberQmin records that the walk for qname at zone goes on with
// labels labels minimised, or with the whole name (labels 0).
func (rq *request) rememberQmin(zone, qname string, labels int) {
	if rq.qminDone == nil {
		rq.qminDone = map[string]int{}
	}
	rq.qminDone[qminKey(zone, qname)] = labels
}

// deeperCut returns the deepest zone cut now known for qname when it is
// below zs (learned by another request since this walk chose zs), or nil.
func (rq *request) deeperCut(zs *zoneServers, qname string, qtype uint16) *zoneServers {
	nz := rq.startCut(qname, qtype)
	if nz == zs || nz.zone == zs.zone || !dnsname.IsSubDomain(zs.zone, nz.zone) {
		return nil
	}
	return nz
}

// pendingCut returns the deepest name on qname's way down below zs, and
// deeper than the from labels this walk would send, that another request
// is asking zs's servers about with an NS question right now; "" if none.
// Not for DS at qname itself (the parent answers that, not the cut), not
// with cookies (questions are shared per server only), and only with
// minimisation on (the shared question is a shortened one).
func (rq *request) pendingCut(zs *zoneServers, qname string, qtype uint16, from int) string {
	if rq.r.up.h.Cookies || zs.forward || rq.r.cfg.DisableQNAMEMinimisation {
		return ""
	}
	top := dns.CountLabel(qname)
	if qtype == dns.TypeDS || qtype == dns.TypeNS {
		// DS: the cut at qname is not on the way. NS: the question for
		// qname itself is this walk's own and joins without help.
		top--
	}
	for n := top; n >= from && n > dns.CountLabel(zs.zone); n-- {
		if s := dnsname.LastLabels(qname, n); rq.r.upFlights.cutPending(zs, s) && !rq.cachedNoCut(zs, s) {
			return s
		}
	}
	return ""
}

// cachedNoCut reports whether the negative cache holds zs's own word that
// name (a shortened question) has no NS RRset: no zone cut there.
func (rq *request) cachedNoCut(zs *zoneServers, name string) bool {
	h, ok := rq.r.cache.LookupNegative(name, dns.TypeNS, rq.class, cache.LookupOpts{})
	return ok && h.SOA != nil && strings.EqualFold(h.SOA.Hdr.Name, zs.zone)
}

// nsecNoCut reports whether validated NSEC or NSEC3 records of zs's zone
// in the cache prove that name owns no NS RRset (RFC 8198 aggressive use,
// applied to the shortened question): no zone cut there. Only when this
// request validates; a delegation's NSEC has the NS bit and proves
// nothing here, nor does an opt-out span.
func (rq *request) nsecNoCut(zs *zoneServers, name string) bool {
	if rq.r.anchors == nil || rq.cd || zs.forward {
		return false
	}
	if v, ok := rq.r.cache.NSECZone(zs.zone); ok && dnssec.NoDelegationAt(name, v.Zone, v.NSEC) {
		return true
	}
	_, ok := rq.r.nsecAnswer(zs.zone, name, dns.TypeNS) // NSEC3: an owner without NS, never an opt-out span
	return ok
}

// errCutsOnly ends a walk ahead (warmWalk) where it would send the
// question itself.
var errCutsOnly = errors.New("resolver: the walk ahead stops before the question")

// warmWalk starts walking the zone cuts down to target, a CNAME's target,
// on a goroutine of its own while this request validates the CNAME: the
// referrals (and the key fetches warmKeys starts from them) then overlap
// the validation, and this request's own walk to target starts at the
// deepest cut, joining any question still in flight (inflight.go). The
// walk ahead stops before the question itself, which this request sends:
// its reply is then this request's own, so a bogus one is asked again of
// another server (resolve), and nothing is sent for a chain that fails
// validation but the cuts. Only for untraced, validating requests at the
// top, while a background slot is free (lifecycle.go bounds them), and
// not when the cache already answers target.
func (rq *request) warmWalk(target string, qtype uint16) {
	r := rq.r
	if r.anchors == nil || rq.obs != nil || rq.cd || rq.cacheOnly || rq.depth > 0 || len(rq.nsStack) > 0 {
		return
	}
	if _, ok := r.cache.Lookup(target, qtype, rq.class, cache.LookupOpts{}); ok {
		return
	}
	if _, ok := r.cache.Lookup(target, dns.TypeCNAME, rq.class, cache.LookupOpts{}); ok {
		return
	}
	class := rq.class
	r.life.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
		defer cancel()
		w := &request{r: r, start: r.cfg.Now(), class: class, do: true, cutsOnly: true}
		_, _ = w.lookup(ctx, target, qtype) // errCutsOnly, or a failure this request meets again
	})
}
