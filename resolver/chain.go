package resolver

import (
	"context"
	"errors"
	"fmt"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// This file builds a zone's chain of trust (RFC 4035 §5): from the closest
// trust anchor, each zone's DS set is fetched from its parent and checked
// with the parent's keys, then the zone's DNSKEY set is checked against
// that DS set. Verdicts are remembered per request, shared between
// concurrent requests, and kept in the cache (Secure keys, proven-insecure
// delegations, bogus keys in the failure cache).

// maxChainLength bounds the zone cuts between a trust anchor and a signer:
// one per label at most, and names have at most 127 labels; real chains
// are under 10 long.
const maxChainLength = 32

// zoneKeys is a zone's validated DNSKEY set, or why there is none.
type zoneKeys struct {
	zone   string
	status dnssec.Status
	keys   []*dns.DNSKEY
	err    error // why the zone is not Secure

	// How the keys were reached, for the chain-of-trust view.
	anchor bool       // a configured trust anchor vouched for them
	parent string     // the zone whose DS vouched for them
	ds     []*dns.DS  // the DS (or anchor DS) set used
	dsSig  *dns.RRSIG // the parent's signature over the DS set
	keySig *dns.RRSIG // the signature that made the DNSKEY set secure
	cached bool       // taken from the cache, validated earlier
	// For keys that did not validate: the DNSKEY RRset the zone sent and
	// the RRSIGs over it, for the chain-of-trust view.
	rejected     []*dns.DNSKEY
	rejectedSigs []*dns.RRSIG
	// unreachable is set when the DS or DNSKEY could not be fetched at
	// all: the resolver's failure cache for those questions applies, not
	// a verdict on the zone's keys.
	unreachable bool
}

// keyFailureClass is the class under which zones whose keys failed are
// remembered in the failure cache: NONE (254), which no client question
// uses (the server refuses classes other than IN), so the mark never
// answers a client's own DNSKEY question.
const keyFailureClass = dns.ClassNONE

// keysFor returns the validated keys of zone, building the chain of trust
// from the closest trust anchor. A zone whose keys failed validation stays
// Bogus for the failure cache's time (RFC 9520; Unbound keeps bad keys for
// val-bogus-ttl), so questions about it do not fetch its keys again and
// again. Concurrent top-level requests share one build per zone.
func (rq *request) keysFor(ctx context.Context, zone string, depth int) *zoneKeys {
	zone = dns.CanonicalName(zone)
	if zk, ok := rq.vkeys[zone]; ok {
		return zk
	}
	var zk *zoneKeys
	if f, failed := rq.r.cache.Failed(zone, dns.TypeDNSKEY, keyFailureClass); failed {
		zk = &zoneKeys{zone: zone, status: dnssec.StatusOf(f.Err), err: f.Err, cached: true}
		if zk.status != dnssec.Bogus {
			zk.status = dnssec.Bogus
		}
	} else {
		zk = rq.sharedKeys(ctx, zone, depth)
	}
	if rq.vkeys == nil {
		rq.vkeys = map[string]*zoneKeys{}
	}
	rq.vkeys[zone] = zk
	if rq.obs != nil {
		rq.emit(Event{Kind: EventValidate, Zone: zone, Outcome: zk.status.String(),
			Detail: "zone keys of " + zone, DNSSEC: zk.info()})
	}
	return zk
}

// sharedKeys builds zone's keys, sharing the work with concurrent
// requests building the same zone. Only requests at the top (not inside
// an NS-name sub-resolution) share: a build then waits only for builds of
// its ancestors, which are strictly shallower, so no two builds can wait
// for each other. The first request builds on its own goroutine (its
// request state is not safe to share) and within its own deadline, which
// bounds the others' wait; a waiter whose leader ran out of time or
// budget builds anew.
func (rq *request) sharedKeys(ctx context.Context, zone string, depth int) *zoneKeys {
	if rq.depth > 0 || len(rq.nsStack) > 0 {
		return rq.keepKeys(ctx, zone, depth)
	}
	leader := false // set by fn, which runs on the leader's goroutine only
	v, _, _ := rq.r.keyFlight.Do(zone, func() (any, error) {
		leader = true
		return rq.keepKeys(ctx, zone, depth), nil
	})
	zk := v.(*zoneKeys)
	if leader {
		return zk
	}
	if zk.status == dnssec.Bogus && zk.err != nil && (errIsFatal(zk.err) || errors.Is(zk.err, dnssec.ErrBudgetExceeded)) {
		return rq.keepKeys(ctx, zone, depth) // the leader's limits, not the zone's fault
	}
	cp := *zk
	cp.cached = true
	return &cp
}

// keepKeys builds zone's keys and, when they are Bogus through the zone's
// fault, marks the zone in the failure cache before it returns: inside
// keyFlight, so a request that arrives once the build has ended finds
// the mark rather than starting a build of its own. (Marking after the
// flight had ended let such a request fetch the keys again: a
// warmKeys build descheduled between the two let the request that
// needed the keys build them anew, 4 DNSKEY fetches where 2 suffice.)
func (rq *request) keepKeys(ctx context.Context, zone string, depth int) *zoneKeys {
	zk := rq.buildKeys(ctx, zone, depth)
	if zk.status == dnssec.Bogus && zk.err != nil && !zk.unreachable && !errors.Is(zk.err, dnssec.ErrBudgetExceeded) && !errIsFatal(zk.err) {
		rq.r.cache.MarkBogus(zone, dns.TypeDNSKEY, keyFailureClass, zk.err)
	}
	return zk
}

// warmKeys starts building the keys of zone, a zone cut the walk just
// found (a referral with a DS, or a child zone served by its parent's
// servers, whose DS is to be asked anyway), on a goroutine of its own
// while the walk goes on: validating the answer needs the keys of every signed zone on
// the way down, and their DS and DNSKEY fetches then overlap the walk
// instead of following the answer one zone after another (as Knot
// Resolver and Unbound fetch keys while iterating). The request that
// needs the keys later joins the build (keyFlight) or finds them in the
// cache. Only requests at the top warm (an NS-name lookup validates
// nothing), only untraced ones (a trace stays one ordered story), and
// only while a background slot is free (lifecycle.go bounds them);
// otherwise the keys are fetched when needed, as before.
// A referral without a DS is not warmed: its NSEC proof of an unsigned
// delegation is kept in the request (refProofs), and a warming request
// would ask the parent for the DS instead.
// The warming request starts from a copy of this request's cut (zs), not
// from the cache: on bogus keys it then tries the zone's servers and
// stops, as this request would, rather than asking the parent again for
// a cut from the cache.
func (rq *request) warmKeys(zs *zoneServers) {
	zone := zs.zone
	r := rq.r
	if r.anchors == nil || rq.obs != nil || rq.cd || rq.cacheOnly || rq.depth > 0 || len(rq.nsStack) > 0 {
		return
	}
	if _, ok := rq.vkeys[zone]; ok {
		return
	}
	if h, ok := r.cache.Lookup(zone, dns.TypeDNSKEY, rq.class, cache.LookupOpts{}); ok && h.Security == cache.SecuritySecure {
		return
	}
	class, cut := rq.class, zs.clone()
	r.life.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
		defer cancel()
		w := &request{r: r, start: r.cfg.Now(), class: class, do: true}
		w.setDeleg(zone, cut)
		w.keysFor(ctx, zone, 0)
	})
}

// configuredInsecure returns the Insecure failure of a negative trust
// anchor (RFC 7646; Unbound's domain-insecure) at or above name, unless
// a trust anchor at or below that negative anchor is closer to name: as
// in Unbound, a configured anchor for the domain overrides its
// domain-insecure. nil means validation applies.
func (r *Resolver) configuredInsecure(name string) error {
	if r.ntas == nil {
		return nil
	}
	nta, ok := r.ntas.Covers(name)
	if !ok {
		return nil
	}
	if ta, ok := r.anchors.Closest(name); ok && dnsname.IsSubDomain(nta, ta) {
		return nil
	}
	return r.ntas.Check(nta)
}

func (rq *request) buildKeys(ctx context.Context, zone string, depth int) *zoneKeys {
	r := rq.r
	if err := r.configuredInsecure(zone); err != nil {
		return &zoneKeys{zone: zone, status: dnssec.Insecure, err: err}
	}
	if _, ok := r.anchors.Closest(zone); !ok {
		return &zoneKeys{zone: zone, status: dnssec.Indeterminate, err: errors.New("no trust anchor at or above " + zone)}
	}
	if depth > maxChainLength {
		return &zoneKeys{zone: zone, status: dnssec.Bogus, err: errors.New("chain of trust too long")}
	}
	// Cached keys validated earlier.
	if h, ok := r.cache.Lookup(zone, dns.TypeDNSKEY, rq.class, cache.LookupOpts{}); ok && h.Security == cache.SecuritySecure {
		return &zoneKeys{zone: zone, status: dnssec.Secure, keys: dnskeys(h.RRs), cached: true}
	}
	anchorDS, anchorKeys := r.anchors.Lookup(zone)
	if len(anchorDS) == 0 && len(anchorKeys) == 0 && r.anchors.Has(zone) {
		// An RFC 5011 trust point whose keys were all revoked.
		return &zoneKeys{zone: zone, status: dnssec.Bogus, anchor: true, err: &dnssec.Failure{Status: dnssec.Bogus,
			EDE: dns.ExtendedErrorCodeDNSKEYMissing, Err: dnssec.ErrDNSKEYMissing,
			Reason: "the trust anchor of " + zone + " trusts no key (all revoked or pending)"}}
	}
	link := &zoneKeys{zone: zone}
	var ds []*dns.DS
	if len(anchorDS) > 0 || len(anchorKeys) > 0 {
		ds, link.anchor = anchorDS, true
	} else {
		var zk *zoneKeys
		ds, zk = rq.fetchDS(ctx, zone, depth, link)
		if zk != nil {
			return zk
		}
	}
	link.ds = ds
	// The zone's DNSKEY RRset, from the zone itself.
	out, err := rq.lookup(ctx, zone, dns.TypeDNSKEY)
	if err != nil {
		return &zoneKeys{zone: zone, status: dnssec.Bogus, unreachable: true, err: &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeDNSKEYMissing,
			Reason: "fetching DNSKEY of " + zone + ": " + err.Error(), Err: dnssec.ErrDNSKEYMissing}}
	}
	keys := dnskeys(out.answer)
	if out.kind != kindAnswer || len(keys) == 0 {
		return &zoneKeys{zone: zone, status: dnssec.Bogus, err: &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeDNSKEYMissing,
			Reason: "no DNSKEY RRset at " + zone, Err: dnssec.ErrDNSKEYMissing}}
	}
	rq.nextResponse()
	sig, verr := dnssec.VerifyDNSKEY(keys, rrsigs(out.sigs, dns.TypeDNSKEY), ds, anchorKeys, r.cfg.Now(), rq.budget())
	for try := 0; dnssec.StatusOf(verr) == dnssec.Bogus && out.from.IsValid() && try < maxBogusRetries; try++ {
		// Another server of the zone may have the right keys.
		rq.distrust(out)
		again, lerr := rq.lookup(ctx, zone, dns.TypeDNSKEY)
		if lerr != nil || again.kind != kindAnswer {
			break
		}
		out, keys = again, dnskeys(again.answer)
		sig, verr = dnssec.VerifyDNSKEY(keys, rrsigs(out.sigs, dns.TypeDNSKEY), ds, anchorKeys, r.cfg.Now(), rq.budget())
	}
	link.status, link.keySig = dnssec.StatusOf(verr), sig
	if link.status == dnssec.Secure {
		rq.markSecure(out.answer, out.sigs)
		link.keys = keys
		if link.anchor {
			r.signalKeyTags(zone, anchorDS, anchorKeys)
		}
		return link
	}
	link.err = verr
	link.rejected, link.rejectedSigs = keys, rrsigs(out.sigs, dns.TypeDNSKEY)
	return link
}

// fetchDS returns the validated DS RRset of zone from its parent, or the
// zone's keys when the DS lookup settles the matter (an insecure or bogus
// delegation, or an insecure parent).
func (rq *request) fetchDS(ctx context.Context, zone string, depth int, link *zoneKeys) ([]*dns.DS, *zoneKeys) {
	if zone == "." {
		return nil, &zoneKeys{zone: zone, status: dnssec.Indeterminate, err: errors.New("no trust anchor for the root")}
	}
	var out response
	fromReferral := false
	if h, ok := rq.r.cache.Lookup(zone, dns.TypeDS, rq.class, cache.LookupOpts{}); ok {
		out = response{kind: kindAnswer, answer: h.RRs, sigs: h.Sigs}
		if h.Security == cache.SecuritySecure {
			return dsRecords(h.RRs), nil
		}
		fromReferral = h.Rank < cache.RankAnswerNonAuth
	} else if p, ok := rq.refProofs[zone]; ok {
		out = p
	} else if p, insecure, ok := rq.cachedDSDenial(zone); ok {
		if insecure != nil {
			return nil, insecure
		}
		out = p
	} else {
		var err error
		out, err = rq.lookup(ctx, zone, dns.TypeDS)
		if err != nil {
			return nil, &zoneKeys{zone: zone, status: dnssec.Bogus, unreachable: true, err: fmt.Errorf("fetching DS of %s: %w", zone, err)}
		}
	}
	// The parent is whoever signed the DS answer or its denial.
	parent := signerOf(out)
	if parent == "" {
		parent = out.servedBy
	}
	if parent == "" || !dnsname.IsSubDomain(parent, zone) || dns.CanonicalName(parent) == zone {
		parent = parentZoneGuess(zone)
	}
	link.parent = parent
	pk := rq.keysFor(ctx, parent, depth+1)
	if pk.status != dnssec.Secure {
		return nil, &zoneKeys{zone: zone, status: pk.status, err: pk.err}
	}
	now := rq.r.cfg.Now()
	rq.nextResponse()
	switch out.kind {
	case kindAnswer:
		ds := dsRecords(out.answer)
		sig, err := dnssec.VerifyRRset(out.answer, rrsigs(out.sigs, dns.TypeDS), pk.keys, now, rq.budget())
		for try := 0; err != nil && (fromReferral || out.from.IsValid()) && try < maxBogusRetries; try++ {
			// The DS failed: a referral's copy, or one server's answer.
			// Ask the parent's other servers directly before calling the
			// zone bogus (a spoofed or mangled answer must not poison
			// the chain).
			rq.r.cache.Remove(zone, dns.TypeDS, rq.class)
			rq.distrust(out)
			fromReferral = false
			again, lerr := rq.lookup(ctx, zone, dns.TypeDS)
			if lerr != nil || again.kind != kindAnswer {
				break
			}
			out = again
			ds = dsRecords(out.answer)
			sig, err = dnssec.VerifyRRset(out.answer, rrsigs(out.sigs, dns.TypeDS), pk.keys, now, rq.budget())
		}
		if err != nil {
			return nil, &zoneKeys{zone: zone, status: dnssec.StatusOf(err), err: err, parent: parent}
		}
		link.dsSig = sig
		rq.markSecure(out.answer, out.sigs)
		if _, err := dnssec.UsableDS(ds); err != nil {
			return nil, &zoneKeys{zone: zone, status: dnssec.StatusOf(err), err: err}
		}
		return ds, nil
	case kindNoData, kindReferral:
		if err := rq.verifyProof(out.proof, pk); err != nil {
			// Bogus, or Insecure when the NSEC3 iterations pass the
			// limit (RFC 9276 §3.2).
			return nil, &zoneKeys{zone: zone, status: dnssec.StatusOf(err), parent: parent, err: err}
		}
		nsecs, nsec3s := proofRecords(out.proof)
		var perr error
		if len(nsecs) > 0 {
			perr = dnssec.ProveInsecureDelegation(zone, parent, nsecs)
		} else {
			perr = dnssec.ProveNSEC3InsecureDelegation(zone, parent, nsec3s)
		}
		if perr == nil || dnssec.StatusOf(perr) == dnssec.Insecure {
			rq.markInsecureDelegation(zone, out.proof)
			return nil, &zoneKeys{zone: zone, status: dnssec.Insecure, parent: parent, err: fmt.Errorf("unsigned delegation: %s has no DS in %s", zone, parent)}
		}
		return nil, &zoneKeys{zone: zone, status: dnssec.Bogus, err: perr}
	default:
		return nil, &zoneKeys{zone: zone, status: dnssec.Bogus, err: &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeDNSBogus,
			Reason: fmt.Sprintf("DS lookup for %s gave %s", zone, out.kind), Err: dnssec.ErrMalformed}}
	}
}

// cachedDSDenial finds in the cache what denies zone a DS: the negative
// DS answer, or the NSEC proof kept with a referral's NS set. insecure is
// set when that proof was validated by an earlier request (the NS set is
// marked Insecure), so the zone is insecure with no further work.
func (rq *request) cachedDSDenial(zone string) (out response, insecure *zoneKeys, ok bool) {
	c := rq.r.cache
	if h, ok := c.Lookup(zone, dns.TypeNS, rq.class, cache.LookupOpts{}); ok && len(h.Proof) > 0 {
		if h.Security == cache.SecurityInsecure {
			parent := signerOf(response{proof: h.Proof})
			return response{}, &zoneKeys{zone: zone, status: dnssec.Insecure, parent: parent, cached: true,
				err: fmt.Errorf("unsigned delegation: %s has no DS in %s (proven earlier)", zone, parent)}, true
		}
		return response{kind: kindReferral, proof: h.Proof}, nil, true
	}
	if h, ok := c.LookupNegative(zone, dns.TypeDS, rq.class, cache.LookupOpts{}); ok && h.Kind == cache.NoData {
		// With or without a proof: it is what asking again would give
		// (from an unsigned parent there is none, and the parent's
		// status settles it; from a signed one its absence is bogus).
		out := response{kind: kindNoData, soa: []dns.RR{h.SOA}, target: zone, servedBy: h.SOA.Hdr.Name}
		for _, rr := range h.Proof {
			switch rr.Header().Rrtype {
			case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
				out.proof = append(out.proof, rr)
			}
		}
		return out, nil, true
	}
	return response{}, nil, false
}

// markInsecureDelegation remembers that the proof denies zone a DS: the
// cached NS set of the delegation keeps the proof and is marked Insecure,
// for as long as it stays cached.
func (rq *request) markInsecureDelegation(zone string, proof []dns.RR) {
	c := rq.r.cache
	h, ok := c.Lookup(zone, dns.TypeNS, rq.class, cache.LookupOpts{})
	if !ok || h.Security == cache.SecurityInsecure {
		return
	}
	ttl := h.TTL
	for _, rr := range proof {
		ttl = min(ttl, rr.Header().Ttl)
	}
	c.Insert(cache.RRset{RRs: withTTL(h.RRs, ttl), Proof: withTTL(proof, ttl), Rank: h.Rank, Security: cache.SecurityInsecure})
}

func signerOf(r response) string {
	for _, list := range [][]dns.RR{r.sigs, r.proof, r.ds} {
		for _, rr := range list {
			if s, ok := rr.(*dns.RRSIG); ok {
				return dns.CanonicalName(s.SignerName)
			}
		}
	}
	return ""
}

// parentZoneGuess is the name one label up, used only when nothing says
// which zone is the parent.
func parentZoneGuess(zone string) string {
	off, end := dns.NextLabel(zone, 0)
	if end {
		return "."
	}
	return zone[off:]
}
