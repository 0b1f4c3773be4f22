package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// This file validates answers (RFC 4033-4035, RFC 5155): for each piece of
// an answer it finds the zone that signed it, builds the chain of trust
// from a trust anchor down to that zone (DS in the parent, DNSKEY in the
// zone), and checks the signatures and denial-of-existence proofs.

// maxBogusRetries bounds how often data that failed validation is asked
// for again from other servers of the zone: one bad server among several
// should not make a name bogus, but a zone that is really broken must
// not cause a storm of queries (Unbound retries a few times too).
const maxBogusRetries = 2

// maxChainLength bounds the zone cuts between a trust anchor and a signer:
// one per label at most, and names have at most 127 labels; real chains
// are under 10 long.
const maxChainLength = 32

// collectDNSSEC keeps the DNSSEC records of a reply that classification
// drops: RRSIGs over the answer records, NSEC/NSEC3 proofs and the DS set
// of a referral, all inside the server's bailiwick.
func (c *classifier) collectDNSSEC(r *response, m *dns.Msg) {
	owners := map[string]bool{}
	for _, rr := range r.answer {
		owners[strings.ToLower(rr.Header().Name)+"|"+dns.TypeToString[rr.Header().Rrtype]] = true
	}
	for _, rr := range m.Answer {
		sig, ok := rr.(*dns.RRSIG)
		if ok && inZone(sig.Hdr.Name, c.zone) && owners[strings.ToLower(sig.Hdr.Name)+"|"+dns.TypeToString[sig.TypeCovered]] {
			r.sigs = append(r.sigs, sig)
		}
	}
	for _, rr := range m.Ns {
		h := rr.Header()
		if !inZone(h.Name, c.zone) {
			continue
		}
		positive := r.kind == KindAnswer || r.kind == KindCNAME
		switch v := rr.(type) {
		case *dns.NS:
			if positive && strings.EqualFold(h.Name, c.zone) {
				r.apexNS = append(r.apexNS, rr)
			}
		case *dns.NSEC, *dns.NSEC3:
			r.proof = append(r.proof, rr)
		case *dns.DS:
			if r.kind == KindReferral && strings.EqualFold(h.Name, r.zone) {
				r.ds = append(r.ds, rr)
			}
		case *dns.RRSIG:
			switch v.TypeCovered {
			case dns.TypeNSEC, dns.TypeNSEC3:
				r.proof = append(r.proof, rr)
			case dns.TypeDS:
				if r.kind == KindReferral && strings.EqualFold(h.Name, r.zone) {
					r.ds = append(r.ds, rr)
				}
			case dns.TypeNS:
				if positive && strings.EqualFold(h.Name, c.zone) {
					r.apexNS = append(r.apexNS, rr)
				}
			case dns.TypeSOA:
				if r.kind == KindNXDomain || r.kind == KindNoData {
					r.proof = append(r.proof, rr)
				}
			}
		}
	}
	if r.kind == KindNXDomain || r.kind == KindNoData {
		// The negative authority as classified holds NSEC records too;
		// keep one copy of the proof, in proof.
		var soa []dns.RR
		for _, rr := range r.soa {
			switch rr.Header().Rrtype {
			case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
			default:
				soa = append(soa, rr)
			}
		}
		r.soa = soa
	}
}

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
		if zk.status == dnssec.Bogus && zk.err != nil && !zk.unreachable && !errors.Is(zk.err, dnssec.ErrBudgetExceeded) && !errIsFatal(zk.err) {
			rq.r.cache.MarkFailed(zone, dns.TypeDNSKEY, keyFailureClass, zk.err)
		}
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

// info describes a zone's link in the chain of trust.
func (zk *zoneKeys) info() *DNSSECInfo {
	in := &DNSSECInfo{Zone: zk.zone, Status: zk.status.String(), Anchor: zk.anchor, Parent: zk.parent, Cached: zk.cached}
	if zk.err != nil {
		in.Reason = zk.err.Error()
	}
	for _, d := range zk.ds {
		in.DS = append(in.DS, fmt.Sprintf("%d alg %d digest %d", d.KeyTag, d.Algorithm, d.DigestType))
	}
	in.DNSKEY = keyStrings(zk.keys)
	in.RejectedDNSKEY = keyStrings(zk.rejected)
	for _, s := range zk.rejectedSigs {
		in.RejectedSignatures = append(in.RejectedSignatures, sigString(s))
	}
	for _, s := range []*dns.RRSIG{zk.dsSig, zk.keySig} {
		if s != nil {
			in.Signatures = append(in.Signatures, sigString(s))
		}
	}
	return in
}

// keyStrings describes keys: tag, algorithm and role.
func keyStrings(keys []*dns.DNSKEY) []string {
	var out []string
	for _, k := range keys {
		role := "ZSK"
		if k.Flags&dns.SEP != 0 {
			role = "KSK"
		}
		out = append(out, fmt.Sprintf("%d alg %d %s", k.KeyTag(), k.Algorithm, role))
	}
	return out
}

// sigString describes a signature: what it covers, the key, the window.
func sigString(s *dns.RRSIG) string {
	const layout = "2006-01-02 15:04Z"
	return fmt.Sprintf("RRSIG %s %s by %s key %d, valid %s to %s", s.Hdr.Name, dns.TypeToString[s.TypeCovered],
		s.SignerName, s.KeyTag, time.Unix(int64(s.Inception), 0).UTC().Format(layout),
		time.Unix(int64(s.Expiration), 0).UTC().Format(layout))
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
		return rq.buildKeys(ctx, zone, depth)
	}
	leader := false // set by fn, which runs on the leader's goroutine only
	v, _, _ := rq.r.keyFlight.Do(zone, func() (any, error) {
		leader = true
		return rq.buildKeys(ctx, zone, depth), nil
	})
	zk := v.(*zoneKeys)
	if leader {
		return zk
	}
	if zk.status == dnssec.Bogus && zk.err != nil && (errIsFatal(zk.err) || errors.Is(zk.err, dnssec.ErrBudgetExceeded)) {
		return rq.buildKeys(ctx, zone, depth) // the leader's limits, not the zone's fault
	}
	cp := *zk
	cp.cached = true
	return &cp
}

func (rq *request) buildKeys(ctx context.Context, zone string, depth int) *zoneKeys {
	r := rq.r
	if r.ntas != nil {
		if err := r.ntas.Check(zone); err != nil {
			return &zoneKeys{zone: zone, status: dnssec.Insecure, err: err}
		}
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
	if out.kind != KindAnswer || len(keys) == 0 {
		return &zoneKeys{zone: zone, status: dnssec.Bogus, err: &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeDNSKEYMissing,
			Reason: "no DNSKEY RRset at " + zone, Err: dnssec.ErrDNSKEYMissing}}
	}
	rq.nextResponse()
	sig, verr := dnssec.VerifyDNSKEY(keys, rrsigs(out.sigs, dns.TypeDNSKEY), ds, anchorKeys, r.now(), rq.budget())
	for try := 0; dnssec.StatusOf(verr) == dnssec.Bogus && out.from.IsValid() && try < maxBogusRetries; try++ {
		// Another server of the zone may have the right keys.
		rq.distrust(out)
		again, lerr := rq.lookup(ctx, zone, dns.TypeDNSKEY)
		if lerr != nil || again.kind != KindAnswer {
			break
		}
		out, keys = again, dnskeys(again.answer)
		sig, verr = dnssec.VerifyDNSKEY(keys, rrsigs(out.sigs, dns.TypeDNSKEY), ds, anchorKeys, r.now(), rq.budget())
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
		out = response{kind: KindAnswer, answer: h.RRs, sigs: h.Sigs}
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
	if parent == "" || !dns.IsSubDomain(parent, zone) || dns.CanonicalName(parent) == zone {
		parent = parentZoneGuess(zone)
	}
	link.parent = parent
	pk := rq.keysFor(ctx, parent, depth+1)
	if pk.status != dnssec.Secure {
		return nil, &zoneKeys{zone: zone, status: pk.status, err: pk.err}
	}
	now := rq.r.now()
	rq.nextResponse()
	switch out.kind {
	case KindAnswer:
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
			if lerr != nil || again.kind != KindAnswer {
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
	case KindNoData, KindReferral:
		if err := rq.verifyProof(out.proof, pk); err != nil {
			return nil, &zoneKeys{zone: zone, status: dnssec.Bogus, err: err}
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
		return response{kind: KindReferral, proof: h.Proof}, nil, true
	}
	if h, ok := c.LookupNegative(zone, dns.TypeDS, rq.class, cache.LookupOpts{}); ok && h.Kind == cache.NoData {
		// With or without a proof: it is what asking again would give
		// (from an unsigned parent there is none, and the parent's
		// status settles it; from a signed one its absence is bogus).
		out := response{kind: KindNoData, soa: []dns.RR{h.SOA}, target: zone, servedBy: h.SOA.Hdr.Name}
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

// verifyProof checks the signatures of the NSEC/NSEC3 RRsets of a proof.
func (rq *request) verifyProof(proof []dns.RR, zk *zoneKeys) error {
	now := rq.r.now()
	for _, set := range groupRRsets(proof) {
		t := set[0].Header().Rrtype
		if t == dns.TypeRRSIG {
			continue
		}
		sigs := coveringSigs(proof, set[0].Header().Name, t)
		if _, err := dnssec.VerifyRRset(set, sigs, zk.keys, now, rq.budget()); err != nil {
			return err
		}
	}
	return nil
}

// validatePiece checks one zone's part of an answer: every RRset it
// contributes, and for negative answers the denial of existence.
func (rq *request) validatePiece(ctx context.Context, out *response, qname string, qtype uint16) error {
	if out.validated {
		return pieceErr(out.security, nil)
	}
	out.validated = true
	rq.nextResponse()
	if qtype == dns.TypeRRSIG || qtype == dns.TypeANY {
		// RRSIGs are not signed themselves, and ANY answers mix RRsets
		// a server picked: neither can be validated as a whole.
		out.security = dnssec.Indeterminate
		return nil
	}
	status := dnssec.Secure
	var firstErr error
	worse := func(s dnssec.Status, err error) {
		if rank(s) > rank(status) {
			status = s
			if err != nil {
				firstErr = err
			}
		}
	}
	now := rq.r.now()
	verified := map[string]bool{}
	for _, set := range groupRRsets(out.answer) {
		h := set[0].Header()
		if h.Rrtype == dns.TypeCNAME && synthesised(out.answer, set[0]) {
			continue // made from a DNAME here; the DNAME carries the signature
		}
		sigs := coveringSigs(out.sigs, h.Name, h.Rrtype)
		signer := out.servedBy
		if len(sigs) > 0 {
			signer = sigs[0].SignerName
		}
		zk := rq.keysFor(ctx, signer, 0)
		if zk.status != dnssec.Secure {
			if rq.obs != nil {
				in := &DNSSECInfo{Zone: zk.zone, RRset: h.Name + " " + dns.TypeToString[h.Rrtype], Status: zk.status.String(),
					Reason: "the zone " + zk.zone + " is " + zk.status.String()}
				rq.emit(Event{Kind: EventValidate, Outcome: in.Status, Detail: in.RRset, DNSSEC: in})
			}
			out.keysBogus = out.keysBogus || zk.status == dnssec.Bogus && strings.EqualFold(zk.zone, out.servedBy)
			worse(zk.status, zk.err)
			continue
		}
		sig, err := dnssec.VerifyRRset(set, sigs, zk.keys, now, rq.budget())
		var proof []dns.RR
		wildcardOwner := ""
		if err == nil {
			if wc, ok := dnssec.WildcardExpansion(sig, h.Name); ok {
				out.wildcard, wildcardOwner = true, wc
				err = rq.proveWildcard(out, zk, h.Name, wc)
				proof = out.proof
				if err == nil && !out.freshNS {
					rq.checkApexNS(out, zk)
				}
			}
		}
		rq.rrsetEvent(zk.zone, h.Name+" "+dns.TypeToString[h.Rrtype], sig, err)
		if err != nil {
			worse(dnssec.StatusOf(err), err)
			continue
		}
		rq.markSecureProof(set, out.sigs, proof)
		if wildcardOwner != "" {
			// Keep the wildcard itself too, so other names it covers can
			// be answered from the cache (RFC 8198 §5.3).
			wset, wsigs := renamed(set, wildcardOwner), renamed(coveringSigsRR(out.sigs, h.Name, h.Rrtype), wildcardOwner)
			rq.markSecure(wset, wsigs)
		}
		verified[strings.ToLower(h.Name)+"|"+dns.TypeToString[h.Rrtype]] = true
	}
	if out.dnameMismatch != "" && status == dnssec.Secure {
		worse(dnssec.Bogus, &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeDNSBogus, Err: dnssec.ErrMalformed,
			Reason: "the CNAME for " + out.dnameMismatch + " contradicts the signed DNAME it came with"})
	}
	if out.kind == KindNXDomain || out.kind == KindNoData {
		s, err := rq.validateDenial(ctx, out, qname, qtype)
		if rq.obs != nil {
			in := &DNSSECInfo{Zone: signerOf(*out), RRset: fmt.Sprintf("%s proof for %s %s", out.kind, qname, dns.TypeToString[qtype]),
				Status: s.String()}
			if err != nil {
				in.Reason = err.Error()
			}
			for _, rr := range out.proof {
				if rr.Header().Rrtype != dns.TypeRRSIG {
					in.Signatures = append(in.Signatures, strings.ReplaceAll(rr.String(), "\t", " "))
				}
			}
			rq.emit(Event{Kind: EventValidate, Outcome: s.String(), Detail: in.RRset, DNSSEC: in})
		}
		worse(s, err)
	}
	out.security = status
	switch status {
	case dnssec.Bogus:
		rq.dropBogus(out, verified)
	case dnssec.Insecure, dnssec.Indeterminate:
		rq.markStatus(out, status)
	}
	return pieceErr(status, firstErr)
}

// validateDenial checks the NSEC/NSEC3 proof of a negative answer.
func (rq *request) validateDenial(ctx context.Context, out *response, qname string, qtype uint16) (dnssec.Status, error) {
	name := qname
	if out.target != "" {
		name = out.target
	}
	signer := signerOf(*out)
	if signer == "" {
		signer = out.servedBy
		for _, rr := range out.soa {
			if rr.Header().Rrtype == dns.TypeSOA {
				signer = rr.Header().Name
			}
		}
	}
	zk := rq.keysFor(ctx, signer, 0)
	if zk.status != dnssec.Secure {
		out.keysBogus = out.keysBogus || zk.status == dnssec.Bogus && strings.EqualFold(zk.zone, out.servedBy)
		return zk.status, zk.err
	}
	if len(out.proof) == 0 {
		return dnssec.Bogus, &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeNSECMissing,
			Reason: "negative answer from a signed zone without NSEC or NSEC3", Err: dnssec.ErrNSECMissing}
	}
	if err := rq.verifyProof(out.proof, zk); err != nil {
		return dnssec.StatusOf(err), err
	}
	// The SOA that gives the negative TTL must be signed too.
	for _, rr := range out.soa {
		if rr.Header().Rrtype == dns.TypeSOA {
			if _, err := dnssec.VerifyRRset([]dns.RR{rr}, coveringSigs(out.proof, rr.Header().Name, dns.TypeSOA), zk.keys, rq.r.now(), rq.budget()); err != nil {
				return dnssec.StatusOf(err), err
			}
		}
	}
	nsecs, nsec3s := proofRecords(out.proof)
	var err error
	switch {
	case out.kind == KindNXDomain && len(nsecs) > 0:
		err = dnssec.ProveNXDOMAIN(name, zk.zone, nsecs)
	case out.kind == KindNXDomain:
		err = dnssec.ProveNSEC3NXDOMAIN(name, zk.zone, nsec3s)
	case len(nsecs) > 0:
		if err = dnssec.ProveNODATA(name, qtype, zk.zone, nsecs); err != nil {
			if werr := dnssec.ProveWildcardNODATA(name, qtype, zk.zone, nsecs); dnssec.StatusOf(werr) != dnssec.Bogus {
				err = werr
			}
		}
	default:
		if err = dnssec.ProveNSEC3NODATA(name, qtype, zk.zone, nsec3s); err != nil {
			if werr := dnssec.ProveNSEC3WildcardNODATA(name, qtype, zk.zone, nsec3s); dnssec.StatusOf(werr) != dnssec.Bogus {
				err = werr
			}
		}
	}
	if err != nil {
		return dnssec.StatusOf(err), err
	}
	for _, rr := range out.soa {
		if rr.Header().Rrtype == dns.TypeSOA {
			rq.r.nsecs.learn(zk.zone, rr, out.proof, rq.r.now())
		}
	}
	return dnssec.Secure, nil
}

// proveWildcard checks that a wildcard-expanded RRset was allowed: the
// exact name must not exist.
func (rq *request) proveWildcard(out *response, zk *zoneKeys, owner, wildcard string) error {
	if err := rq.verifyProof(out.proof, zk); err != nil {
		return err
	}
	nsecs, nsec3s := proofRecords(out.proof)
	if len(nsecs) > 0 {
		err := dnssec.ProveWildcardAnswer(owner, wildcard, zk.zone, nsecs)
		if err == nil {
			rq.r.nsecs.learn(zk.zone, nil, out.proof, rq.r.now())
			return nil
		}
		if cached := rq.r.nsecs.records(zk.zone, rq.r.now()); len(cached) > 0 {
			// RFC 8198 §5.3: validated NSEC records from the cache may
			// supply the proof the server left out.
			return dnssec.ProveWildcardAnswer(owner, wildcard, zk.zone, append(nsecs, cached...))
		}
		return err
	}
	if len(nsec3s) == 0 {
		if cached := rq.r.nsecs.records(zk.zone, rq.r.now()); len(cached) > 0 {
			return dnssec.ProveWildcardAnswer(owner, wildcard, zk.zone, cached)
		}
	}
	if len(nsec3s) > 0 {
		err := dnssec.ProveNSEC3WildcardAnswer(owner, wildcard, zk.zone, nsec3s)
		if err == nil {
			rq.r.nsecs.learn(zk.zone, nil, out.proof, rq.r.now())
		}
		return err
	}
	return &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeNSECMissing,
		Reason: "wildcard answer for " + owner + " without a proof that it does not exist", Err: dnssec.ErrWildcardProofMissing}
}

// checkApexNS keeps the zone's signed NS RRset, when the server sent it
// with a wildcard answer and it validates, for the authority section of
// this fresh reply: a validating client then sees what the zone served.
// The cache keeps the proof alone. Knot Resolver answers the same way.
// An NS RRset that fails is dropped; it does not make the answer bogus.
func (rq *request) checkApexNS(out *response, zk *zoneKeys) {
	ns := out.apexNS
	out.apexNS = nil
	var set []dns.RR
	for _, rr := range ns {
		if rr.Header().Rrtype == dns.TypeNS && strings.EqualFold(rr.Header().Name, zk.zone) {
			set = append(set, rr)
		}
	}
	if len(set) == 0 {
		return
	}
	sigs := coveringSigs(ns, zk.zone, dns.TypeNS)
	if _, err := dnssec.VerifyRRset(set, sigs, zk.keys, rq.r.now(), rq.budget()); err != nil {
		return
	}
	for _, s := range sigs {
		set = append(set, s)
	}
	out.apexNS, out.freshNS = set, true
}

// pieceErr turns a Bogus status into the error that fails the request.
func pieceErr(s dnssec.Status, err error) error {
	if s != dnssec.Bogus {
		return nil
	}
	if err == nil {
		err = dnssec.ErrInvalidSignature
	}
	ede := uint16(dns.ExtendedErrorCodeDNSBogus)
	var f *dnssec.Failure
	if errors.As(err, &f) && f.EDE != dnssec.NoEDE {
		ede = f.EDE
	}
	return &Error{Err: fmt.Errorf("%w: %w", ErrBogus, err), EDE: ede}
}

// rank orders statuses from best to worst for combining pieces.
func rank(s dnssec.Status) int {
	switch s {
	case dnssec.Secure:
		return 0
	case dnssec.Insecure:
		return 1
	case dnssec.Indeterminate:
		return 2
	default:
		return 3
	}
}

// markSecure records validated RRsets in the cache as Secure, so later
// hits skip the signature checks.
func (rq *request) markSecure(set, sigs []dns.RR) { rq.markSecureProof(set, sigs, nil) }

// markSecureProof is markSecure for a wildcard answer, keeping its proof.
func (rq *request) markSecureProof(set, sigs, proof []dns.RR) {
	for _, s := range groupRRsets(set) {
		h := s[0].Header()
		rq.r.cache.Insert(cache.RRset{RRs: s, Sigs: coveringSigsRR(sigs, h.Name, h.Rrtype), Proof: proof,
			Rank: cache.RankSecure, Security: cache.SecuritySecure})
	}
}

// dropBogus removes what a bogus piece put in the cache, except the
// RRsets that validated on their own.
func (rq *request) dropBogus(out *response, verified map[string]bool) {
	for _, s := range groupRRsets(out.answer) {
		h := s[0].Header()
		if !verified[strings.ToLower(h.Name)+"|"+dns.TypeToString[h.Rrtype]] {
			rq.r.cache.Remove(h.Name, h.Rrtype, h.Class)
		}
	}
}

func (rq *request) budget() *dnssec.Budget {
	if rq.vbudget == nil {
		rq.vbudget = dnssec.NewBudget(rq.r.cfg.Validation)
	}
	return rq.vbudget
}

// nextResponse starts the per-response count of signature checks (the
// per-request count goes on): one validated upstream response each.
func (rq *request) nextResponse() { rq.budget().NextResponse() }

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

func synthesised(answer []dns.RR, rr dns.RR) bool {
	cn, ok := rr.(*dns.CNAME)
	if !ok {
		return false
	}
	for _, x := range answer {
		if d, ok := x.(*dns.DNAME); ok && dns.IsSubDomain(d.Hdr.Name, cn.Hdr.Name) && !strings.EqualFold(d.Hdr.Name, cn.Hdr.Name) {
			return true
		}
	}
	return false
}

func coveringSigs(rrs []dns.RR, owner string, t uint16) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == t && strings.EqualFold(s.Hdr.Name, owner) {
			out = append(out, s)
		}
	}
	return out
}

func coveringSigsRR(rrs []dns.RR, owner string, t uint16) []dns.RR {
	var out []dns.RR
	for _, s := range coveringSigs(rrs, owner, t) {
		out = append(out, s)
	}
	return out
}

func rrsigs(rrs []dns.RR, t uint16) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == t {
			out = append(out, s)
		}
	}
	return out
}

func dnskeys(rrs []dns.RR) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, rr := range rrs {
		if k, ok := rr.(*dns.DNSKEY); ok {
			out = append(out, k)
		}
	}
	return out
}

func dsRecords(rrs []dns.RR) []*dns.DS {
	var out []*dns.DS
	for _, rr := range rrs {
		if d, ok := rr.(*dns.DS); ok {
			out = append(out, d)
		}
	}
	return out
}

func proofRecords(rrs []dns.RR) ([]*dns.NSEC, []*dns.NSEC3) {
	var nsecs []*dns.NSEC
	var nsec3s []*dns.NSEC3
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.NSEC:
			nsecs = append(nsecs, v)
		case *dns.NSEC3:
			nsec3s = append(nsec3s, v)
		}
	}
	return nsecs, nsec3s
}

// rrsetEvent reports the verdict on one RRset of an answer.
func (rq *request) rrsetEvent(zone, rrset string, sig *dns.RRSIG, err error) {
	if rq.obs == nil {
		return
	}
	in := &DNSSECInfo{Zone: zone, RRset: rrset, Status: dnssec.StatusOf(err).String()}
	if err != nil {
		in.Reason = err.Error()
	}
	if sig != nil {
		in.Signatures = []string{sigString(sig)}
	}
	rq.emit(Event{Kind: EventValidate, Outcome: in.Status, Detail: rrset, DNSSEC: in})
}

// distrust stops this request from asking again the server that sent
// data that failed validation.
func (rq *request) distrust(out response) {
	if out.from.IsValid() && out.servedBy != "" {
		rq.setBad(badKey(out.servedBy, out.from), "sent data that failed DNSSEC validation")
	}
}

// renamed copies records with another owner name.
func renamed(rrs []dns.RR, owner string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = owner
	}
	return out
}
