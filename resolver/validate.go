package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// This file validates answers (RFC 4033-4035, RFC 5155): for each piece of
// an answer it finds the zone that signed it, takes that zone's keys from
// the chain of trust (chain.go), and checks the signatures and the
// denial-of-existence proofs, including wildcard expansions.

// maxBogusRetries bounds how often data that failed validation is asked
// for again from other servers of the zone: one bad server among several
// should not make a name bogus, but a zone that is really broken must
// not cause a storm of queries (Unbound retries a few times too).
const maxBogusRetries = 2

// verifyProof checks the signatures of the NSEC/NSEC3 RRsets of a proof,
// then their NSEC3 iteration count.
func (rq *request) verifyProof(proof []dns.RR, zk *zoneKeys) error {
	now := rq.r.cfg.Now()
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
	// Signed, so the iteration count is the zone's: above the limit the
	// proof is Insecure (RFC 9276 §3.2).
	return dnssec.CheckNSEC3Iterations(proof, rq.r.cfg.Validation.NSEC3Iterations)
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
	now := rq.r.cfg.Now()
	verified := map[string]bool{}
	for _, set := range groupRRsets(out.answer) {
		h := set[0].Header()
		if h.Rrtype == dns.TypeCNAME && synthesised(out.answer, set[0]) {
			continue // made from a DNAME here; the DNAME carries the signature
		}
		if err := rq.r.configuredInsecure(h.Name); err != nil {
			// Validation is off at and below a negative trust anchor
			// (domain-insecure), whoever signed the data.
			worse(dnssec.Insecure, err)
			continue
		}
		sigs := coveringSigs(out.sigs, h.Name, h.Rrtype)
		signer := out.servedBy
		if len(sigs) > 0 {
			signer = sigs[0].SignerName
		}
		zk := rq.keysFor(ctx, signer, 0)
		if len(sigs) == 0 && zk.status == dnssec.Secure {
			// Unsigned data from a zone believed signed: first look for
			// a zone cut the referrals never showed (zonecut.go).
			if hz := rq.hiddenCut(ctx, zk.zone, h.Name); hz != nil {
				zk = hz
			}
		}
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
	if out.kind == kindNXDomain || out.kind == kindNoData {
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
	if status == dnssec.Insecure {
		rq.noteInsecure(firstErr)
	}
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
	if err := rq.r.configuredInsecure(name); err != nil {
		return dnssec.Insecure, err
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
			if _, err := dnssec.VerifyRRset([]dns.RR{rr}, coveringSigs(out.proof, rr.Header().Name, dns.TypeSOA), zk.keys, rq.r.cfg.Now(), rq.budget()); err != nil {
				return dnssec.StatusOf(err), err
			}
		}
	}
	nsecs, nsec3s := proofRecords(out.proof)
	var err error
	switch {
	case out.kind == kindNXDomain && len(nsecs) > 0:
		err = dnssec.ProveNXDOMAIN(name, zk.zone, nsecs)
	case out.kind == kindNXDomain:
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
		if soa, ok := rr.(*dns.SOA); ok {
			rq.r.cache.LearnNSEC(zk.zone, soa, out.proof)
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
			rq.r.cache.LearnNSEC(zk.zone, nil, out.proof)
			return nil
		}
		if cached := rq.r.cachedNSEC(zk.zone); len(cached) > 0 {
			// RFC 8198 §5.3: validated NSEC records from the cache may
			// supply the proof the server left out.
			return dnssec.ProveWildcardAnswer(owner, wildcard, zk.zone, append(nsecs, cached...))
		}
		return err
	}
	if len(nsec3s) == 0 {
		if cached := rq.r.cachedNSEC(zk.zone); len(cached) > 0 {
			return dnssec.ProveWildcardAnswer(owner, wildcard, zk.zone, cached)
		}
	}
	if len(nsec3s) > 0 {
		err := dnssec.ProveNSEC3WildcardAnswer(owner, wildcard, zk.zone, nsec3s)
		if err == nil {
			rq.r.cache.LearnNSEC(zk.zone, nil, out.proof)
		}
		return err
	}
	return &dnssec.Failure{Status: dnssec.Bogus, EDE: dns.ExtendedErrorCodeNSECMissing,
		Reason: owner + " comes with no proof that it does not exist as a name of its own", Err: dnssec.ErrWildcardProofMissing}
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
	if _, err := dnssec.VerifyRRset(set, sigs, zk.keys, rq.r.cfg.Now(), rq.budget()); err != nil {
		return
	}
	for _, s := range sigs {
		set = append(set, s)
	}
	out.apexNS, out.freshNS = set, true
}

// noteInsecure keeps, for the client's reply, the Extended DNS Error of
// the first reason an answer is Insecure that has one: EDE 27 when NSEC3
// iterations passed the limit (RFC 9276 §3.2 says to send it), EDE 1 for
// an unsupported algorithm.
func (rq *request) noteInsecure(err error) {
	var f *dnssec.Failure
	if rq.insecureEDE == 0 && errors.As(err, &f) && f.EDE != dnssec.NoEDE {
		rq.insecureEDE, rq.insecureWhy = f.EDE, f.Error()
	}
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
	return &Error{Err: bogusError{err}, EDE: ede}
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

func synthesised(answer []dns.RR, rr dns.RR) bool {
	cn, ok := rr.(*dns.CNAME)
	if !ok {
		return false
	}
	for _, x := range answer {
		if d, ok := x.(*dns.DNAME); ok && dnsname.IsSubDomain(d.Hdr.Name, cn.Hdr.Name) && !strings.EqualFold(d.Hdr.Name, cn.Hdr.Name) {
			return true
		}
	}
	return false
}

// distrust stops this request from asking again the server that sent
// data that failed validation.
func (rq *request) distrust(out response) {
	if out.from.IsValid() && out.servedBy != "" {
		rq.setBad(badKey(out.servedBy, out.from), "sent data that failed DNSSEC validation")
	}
}

// bogusError is ErrBogus with what the validator found, said once:
// "DNSSEC validation failed (bogus): signature expired: …", without the
// validator's own "dnssec: " prefix after the resolver's.
type bogusError struct{ found error }

func (e bogusError) Error() string {
	return ErrBogus.Error() + ": " + strings.TrimPrefix(e.found.Error(), "dnssec: ")
}

func (e bogusError) Unwrap() []error { return []error{ErrBogus, e.found} }
