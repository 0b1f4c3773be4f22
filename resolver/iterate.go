package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// request is the state of one client question: counters that enforce the
// limits, the delegations learned so far, and the observer.
type request struct {
	r     *Resolver
	obs   Observer
	start time.Time
	class uint16

	upstream int      // queries sent
	glueless int      // NS names resolved without glue
	nsStack  []string // NS names being resolved, innermost last (cycle detection)
	depth    int      // current sub-resolution depth, for trace events
	// lastNS and lastAddr are the server asked last, for errors
	// (lastServer): formatted only when one is made, not per query.
	lastNS   string
	lastAddr netip.AddrPort
	// wait times the wait for each upstream reply (waitTimer): a
	// request sends its queries one after another, so one timer serves
	// them all (made on first use).
	wait *time.Timer

	// deleg holds the zone cuts learned during this request, by zone
	// (made on first use: cache hits never need it).
	deleg delegs
	// bad remembers server addresses that were lame or failed for a zone
	// during this request, with the reason, so they are not asked again
	// (made on first use).
	bad map[badServer]string

	// skipped lists zone cuts from the cache that failed in this request.
	skipped map[string]bool
	// qminDone remembers where QNAME minimisation of a name ended at a
	// zone (walkshare.go), by qminKey (made on first use).
	qminDone map[string]int
	// cutsOnly marks a walk ahead of a CNAME's target (warmWalk): it
	// learns the zone cuts and stops before the question itself.
	cutsOnly bool

	cacheOnly  bool // answer from the cache or fail (RD=0, serve-stale)
	localOnly  bool // the fast path: no shared-cache round trip
	allowStale bool // cache lookups may return expired data (RFC 8767)
	// probe marks the fast path's cache-only try: its cache lookups are
	// held in probed and counted only when it answers, since otherwise
	// the resolution that follows asks the cache the same questions.
	probe     bool
	probed    []string
	refresh   string // cacheKey of an entry being prefetched: skip its hit
	fromCache int    // cache hits used

	// DNSSEC: what the client asked, the keys validated so far, the
	// work budget, proofs of unsigned delegations seen in referrals, and
	// the worst status of the pieces of the answer.
	do, cd    bool
	vkeys     map[string]*zoneKeys
	vbudget   *dnssec.Budget
	refProofs map[string]response
	pieces    int
	worst     dnssec.Status
	freshOnly bool // the reply carries a zone's NS next to a wildcard proof (Result.FreshOnly)
	// insecureEDE and insecureWhy say why an Insecure answer is so, when
	// the reason has an Extended DNS Error (Result.EDE).
	insecureEDE uint16
	insecureWhy string
}

// status is the security of the answer assembled so far.
func (rq *request) status() dnssec.Status {
	if rq.r.anchors == nil || rq.pieces == 0 {
		return dnssec.Indeterminate
	}
	return rq.worst
}

func (rq *request) emit(e Event) {
	e.Depth = rq.depth
	e.At = rq.r.cfg.Now().Sub(rq.start)
	rq.obs.Observe(e)
}

// resolve answers name/qtype, following CNAME and DNAME chains across
// zones. It returns the answer chain, the negative authority and the rcode.
func (rq *request) resolve(ctx context.Context, name string, qtype uint16) ([]dns.RR, []dns.RR, int, error) {
	var chain, wildcardProof []dns.RR
	seen := map[string]bool{dns.CanonicalName(name): true}
	cur := name
	for hops := 0; ; hops++ {
		out, ok := rq.cacheAnswer(cur, qtype)
		if !ok {
			out, ok = rq.sharedAnswer(ctx, cur, qtype)
		}
		if !ok {
			if rq.probe {
				// Query's fast path drops the error of its try: the
				// sentinel, not an *Error made for every cache miss.
				return nil, nil, dns.RcodeServerFailure, ErrCacheMiss
			}
			if rq.cacheOnly {
				return nil, nil, dns.RcodeServerFailure, &Error{Name: cur, Type: qtype, Err: ErrCacheMiss, EDE: edeOther}
			}
			var err error
			if out, err = rq.lookup(ctx, cur, qtype); err != nil {
				return nil, nil, dns.RcodeServerFailure, err
			}
		}
		// Validate the client's answer; addresses of name servers looked
		// up along the way (depth > 0) only steer the walk, and data from
		// a wrong server fails validation later anyway.
		if rq.r.anchors != nil && rq.depth == 0 {
			if out.kind == kindCNAME && !out.validated {
				rq.warmWalk(out.target, qtype)
			}
			if rq.cacheOnly && !out.validated {
				return nil, nil, dns.RcodeServerFailure, &Error{Name: cur, Type: qtype, Err: ErrCacheMiss, EDE: edeOther}
			}
			err := rq.validatePiece(ctx, &out, cur, qtype)
			for try := 0; err != nil && out.from.IsValid() && !out.keysBogus && !rq.cd && try < maxBogusRetries; try++ {
				// Bogus from one server: the zone's other servers may
				// have good data (a spoofed or broken copy). Not when the
				// zone's keys are the problem: their fetch was retried.
				rq.distrust(out)
				again, lerr := rq.lookup(ctx, cur, qtype)
				if lerr != nil {
					break
				}
				out = again
				err = rq.validatePiece(ctx, &out, cur, qtype)
			}
			if err != nil && !rq.cd {
				return nil, nil, dns.RcodeServerFailure, err
			}
			if rq.pieces == 0 || rank(out.security) > rank(rq.worst) {
				rq.worst = out.security
			}
			rq.pieces++
		}
		rq.publish(cur, qtype, out)
		for _, rr := range out.answer {
			if rr.Header().Rrtype == dns.TypeCNAME {
				seen[dns.CanonicalName(rr.Header().Name)] = true
			}
		}
		for _, rr := range out.answer {
			if rr.Header().Rrtype == dns.TypeDNAME && containsEqual(chain, rr) {
				continue // one DNAME redirecting the chain twice is listed once
			}
			chain = append(chain, rr)
		}
		if rq.do {
			for _, rr := range out.sigs {
				if !containsEqual(chain, rr) {
					chain = append(chain, rr)
				}
			}
		}
		if rq.do && out.wildcard {
			// RFC 4035 §3.1.3.3: a wildcard answer (anywhere in the
			// chain) carries the NSEC proving the exact name does not
			// exist.
			extra := []dns.RR(nil)
			if out.freshNS {
				rq.freshOnly, extra = true, out.apexNS
			}
			for _, rr := range append(slices.Clip(out.proof), extra...) {
				if !containsEqual(wildcardProof, rr) {
					wildcardProof = append(wildcardProof, rr)
				}
			}
		}
		if n := countAliases(chain); n > rq.r.cfg.Limits.CNAMEChain {
			return nil, nil, dns.RcodeServerFailure, &Error{Name: name, Type: qtype, Err: ErrCNAMEChain,
				Detail: fmt.Sprintf("%d aliases, more than %d", n, rq.r.cfg.Limits.CNAMEChain), EDE: edeOther}
		}
		switch out.kind {
		case kindAnswer:
			return chain, wildcardProof, dns.RcodeSuccess, nil
		case kindYXDomain:
			return chain, nil, dns.RcodeYXDomain, nil
		case kindNXDomain:
			return chain, rq.negAuthority(out), dns.RcodeNameError, nil
		case kindNoData:
			return chain, rq.negAuthority(out), dns.RcodeSuccess, nil
		}
		// kindCNAME: restart at the target.
		target := dns.CanonicalName(out.target)
		if seen[target] {
			return chain, nil, dns.RcodeServerFailure, &Error{Name: name, Type: qtype, Err: ErrCNAMELoop,
				Detail: "chain returns to " + out.target, EDE: edeOther}
		}
		if hops+1 > rq.r.cfg.Limits.CNAMEChain {
			return nil, nil, dns.RcodeServerFailure, &Error{Name: name, Type: qtype, Err: ErrCNAMEChain,
				Detail: fmt.Sprintf("more than %d restarts", rq.r.cfg.Limits.CNAMEChain), EDE: edeOther}
		}
		seen[target] = true
		if rq.obs != nil {
			rq.emit(Event{Kind: EventRestart, Name: cur, Type: dns.TypeToString[qtype], Target: out.target,
				Answer: rrStrings(out.answer), Detail: "chain leaves the zone: restart at " + out.target})
		}
		cur = out.target
	}
}

// lookup walks the zone cuts for one name, from the deepest cut known,
// until a server answers for it. It does not follow a CNAME out of the
// zone that answered; resolve does.
func (rq *request) lookup(ctx context.Context, qname string, qtype uint16) (response, error) {
	zs := rq.startCut(qname, qtype)
	total := dns.CountLabel(qname)
	minimise := !rq.r.cfg.DisableQNAMEMinimisation && !zs.forward
	labels := dns.CountLabel(zs.zone) + 1
	steps := 0
	joined := 0 // labels of the deepest question joined (pendingCut)
	// Each pass sends a question, moves to a strictly deeper cut
	// (deeperCut; referrals are bounded below) or ends minimisation
	// (cachedNoCut, once per cut: minimise turns on again only for a
	// deeper joined question), so the passes are bounded by the referral
	// limit and the labels of qname.
	for referrals := 0; ; {
		if nz := rq.deeperCut(zs, qname, qtype); nz != nil {
			zs = nz
			labels = dns.CountLabel(zs.zone) + 1
		}
		if n, ok := rq.qminDone[qminKey(zs.zone, qname)]; ok && minimise {
			if n == 0 {
				minimise = false
			} else {
				labels = max(labels, n)
			}
		}
		if minimise {
			labels = max(labels, reverseStart(qname, zs.zone))
		}
		sendName, sendType := qname, qtype
		if minimise && (labels >= total || steps >= MaxMinimiseSteps || qtype == dns.TypeDS && labels >= total-1) {
			minimise = false
		}
		if minimise && underscoreLabel(qname, labels) {
			// An underscored label (_tcp in _sip._tcp.example.org.) is
			// an attribute leaf of its parent's owner (RFC 8552 §1.1),
			// not a delegation point: ask the whole name now rather than
			// one NS question per underscored label, as PowerDNS
			// Recursor does.
			minimise = false
		}
		if minimise {
			// RFC 9156 §2.1 allows A or NS for the shortened question;
			// NS asks exactly what the walk needs (is there a zone cut
			// here?), as Knot Resolver does.
			sendName = dnsname.LastLabels(qname, labels)
			sendType = dns.TypeNS
		}
		from := dns.CountLabel(zs.zone) + 1
		if minimise {
			from = labels + 1
		}
		joining := false
		if s := rq.pendingCut(zs, qname, qtype, max(from, joined+1)); s != "" {
			// Another request is asking this zone whether s is a cut:
			// take that as this walk's (shortened) question too. Each
			// such name is deeper than the last (joined), so this
			// happens at most once per label of qname.
			sendName, sendType, minimise, labels = s, dns.TypeNS, true, dns.CountLabel(s)
			joined, joining = labels, true
		}
		if !minimise && rq.cutsOnly {
			return response{}, errCutsOnly
		}
		if minimise && !joining && rq.cachedNoCut(zs, sendName) {
			// The zone's servers said so before (another request's
			// shortened question, in the negative cache): no cut there.
			minimise = false
			rq.rememberQmin(zs.zone, qname, 0)
			continue
		}
		if minimise && !joining && rq.nsecNoCut(zs, sendName) {
			// Validated NSEC records of the zone prove sendName owns no
			// NS RRset (an empty non-terminal: in-addr.arpa. below
			// arpa., _tcp.example.org.): one label more, unasked. Each
			// such pass adds a label, so they are bounded by qname's.
			labels++
			rq.rememberQmin(zs.zone, qname, labels)
			continue
		}
		resp, err := rq.askZone(ctx, zs, sendName, sendType, minimise)
		if err != nil {
			if zs.cached && !errIsFatal(err) {
				// A zone cut remembered from the cache, whose servers'
				// addresses expired or stopped answering: ask the parent
				// again, which refers with fresh NS and glue.
				rq.skipCut(zs.zone)
				if rq.obs != nil {
					rq.emit(Event{Kind: EventCache, Outcome: "cut-failed", Zone: zs.zone,
						Detail: "no usable server in the cached NS set of " + zs.zone + ": ask the parent zone again"})
				}
				zs = rq.startCut(qname, qtype)
				labels = dns.CountLabel(zs.zone) + 1
				continue
			}
			return response{}, err
		}
		if resp.kind == kindReferral {
			referrals++
			if referrals > rq.r.cfg.Limits.ReferralDepth {
				return response{}, &Error{Name: qname, Type: qtype, Err: ErrReferralDepth,
					Detail: fmt.Sprintf("more than %d referrals", rq.r.cfg.Limits.ReferralDepth), EDE: edeOther}
			}
			zs = rq.learnDelegation(resp)
			if len(withoutSigs(resp.ds)) > 0 {
				rq.warmKeys(zs)
			}
			labels = dns.CountLabel(zs.zone) + 1
			if glue := rq.glueFor(resp, qname, qtype); len(glue) > 0 {
				// Looking up a name server's address, and the referral
				// carries it as glue: that is what the parent says the
				// address is, and all that is needed (Unbound and Knot
				// Resolver use such glue for targets too). It is not an
				// answer a client ever gets.
				return response{kind: kindAnswer, answer: glue}, nil
			}
			continue
		}
		if minimise {
			if resp.kind == kindAnswer && sendType == dns.TypeNS && resp.authAnswer && nsAnswer(resp.answer, sendName) {
				// The server is authoritative for the child zone too: a
				// zone cut here, served by the same servers.
				child := &zoneServers{zone: dns.CanonicalName(sendName), ns: zs.ns, trusted: zs.trusted}
				rq.setDeleg(child.zone, child)
				rq.warmKeys(child)
				zs = child
				labels = dns.CountLabel(zs.zone) + 1
				continue
			}
			switch resp.kind {
			case kindNoData, kindAnswer:
				// No zone cut at this label. If the zone's own servers
				// said so authoritatively, the rest of the name is most
				// likely inside their zone too: send it whole to them
				// (they would see it anyway) instead of one query per
				// label, as Knot Resolver does. Otherwise one label more.
				if resp.authAnswer {
					minimise = false
				} else {
					labels++
					steps++
				}
			default:
				// NXDOMAIN, a CNAME or a failure for a shortened name:
				// some servers get empty non-terminals or NS questions
				// wrong, so ask the full name (relaxed minimisation, as
				// Unbound and Knot Resolver).
				minimise = false
			}
			if minimise {
				rq.rememberQmin(zs.zone, qname, labels)
			} else {
				rq.rememberQmin(zs.zone, qname, 0)
			}
			continue
		}
		return resp, nil
	}
}

// reverseV4Labels is where minimisation of a name under in-addr.arpa.
// starts once the walk is at arpa. or below: the /24, three octets under
// in-addr.arpa. (2.0.192.in-addr.arpa., 5 labels). Address space is
// delegated on octet boundaries, and the labels above the /24 are mostly
// empty non-terminals of one zone (in-addr.arpa. and 192.in-addr.arpa.
// in arpa. itself, where the root servers serve both) or cuts that a
// question for the /24 finds just as well: a server refers to the
// closest cut below its zone whatever the depth of the question. Each
// label asked one by one costs a query at every empty non-terminal and
// saves none at a cut. RFC 9156 §2.3 allows adding more than one label
// per step; PowerDNS Recursor reaches the same question (arpa. A, then
// 2.0.192.in-addr.arpa. A), Knot Resolver asks in-addr.arpa. NS first.
const reverseV4Labels = 5

// reverseV6Labels are where minimisation of a name under ip6.arpa.
// stops on its way down once the walk is at arpa. or below: the /32, /48
// and /64 (8, 12 and 16 nibbles under ip6.arpa., 10, 14 and 18 labels).
// IPv6 reverse space is delegated on those boundaries: a registry
// allocates /32s (or shorter prefixes, whose cut a question for the /32
// finds just as well: a server refers to the closest cut below its zone
// whatever the depth of the question), an operator assigns /48s and /56s
// and a network is a /64. The nibbles between them are empty
// non-terminals, up to 32 labels of them: label by label, a full address
// would cost MaxMinimiseSteps questions and then go whole to whichever
// server the walk had reached, while with these steps no server above
// the /64 sees more than the prefix it delegates. RFC 9156 §2.3 allows
// adding more than one label per step (its MAX_MINIMISE_COUNT and
// MINIMISE_ONE_LAB spread the labels of a long name over at most ten
// questions for the same reason).
func reverseV6Labels() [3]int { return [3]int{10, 14, 18} }

// reverseStart returns how many labels of qname the next shortened
// question at zone holds when qname is in a reverse tree and zone is arpa.
// or below: under in-addr.arpa. the /24; under ip6.arpa. the first of the
// /32, /48 and /64 deeper than zone; or qname's parent for a shorter
// name. 0 otherwise (minimisation goes label by label, and below the /64
// of an IPv6 name). Not from the root: arpa. is asked for first, so the
// walk learns that cut.
func reverseStart(qname, zone string) int {
	if !dnsname.IsSubDomain("arpa.", zone) {
		return 0
	}
	total := dns.CountLabel(qname)
	switch {
	case dnsname.IsSubDomain("in-addr.arpa.", qname):
		return min(total-1, reverseV4Labels)
	case dnsname.IsSubDomain("ip6.arpa.", qname):
		at := dns.CountLabel(zone)
		for _, n := range reverseV6Labels() {
			if n > at {
				return min(total-1, n)
			}
		}
	}
	return 0
}

// underscoreLabel reports whether the first of the last n labels of name
// starts with an underscore (RFC 8552).
func underscoreLabel(name string, n int) bool {
	return strings.HasPrefix(dnsname.LastLabels(name, n), "_")
}

// errIsFatal reports whether err ends the whole request rather than only
// the attempt with one server.
func errIsFatal(err error) bool {
	return errors.Is(err, ErrQueryLimit) || errors.Is(err, ErrDeadline) ||
		errors.Is(err, ErrGluelessLimit) || isCtxErr(err)
}

// checkBudget returns an error when the request may not send another query.
func (rq *request) checkBudget(ctx context.Context) error {
	if rq.upstream >= rq.r.cfg.Limits.UpstreamQueries {
		return &Error{Err: ErrQueryLimit, Detail: fmt.Sprintf("%d queries sent", rq.upstream), EDE: edeOther}
	}
	if ctx.Err() != nil {
		return ctxEnded(ctx)
	}
	if dl, ok := ctx.Deadline(); ok {
		// Never a negative time left: the clock moved on since
		// ctx.Err() was read.
		if left := max(time.Until(dl), 0).Round(time.Millisecond); left < minTimeLeft {
			return fmt.Errorf("%w (%v left, less than one more query needs)", ErrDeadline, left)
		}
	}
	return nil
}

// countAliases counts the CNAME records (sent or synthesised) in a chain.
func countAliases(chain []dns.RR) int {
	n := 0
	for _, rr := range chain {
		if rr.Header().Rrtype == dns.TypeCNAME {
			n++
		}
	}
	return n
}

func (rq *request) setDeleg(zone string, zs *zoneServers) { rq.deleg.set(zone, zs) }

func (rq *request) setBad(key badServer, reason string) {
	if rq.bad == nil {
		rq.bad = map[badServer]string{}
	}
	rq.bad[key] = reason
}

// glueFor returns the glue of a referral for qname/qtype when qname is the
// name server whose address this request is looking up.
func (rq *request) glueFor(ref response, qname string, qtype uint16) []dns.RR {
	if len(rq.nsStack) == 0 || !strings.EqualFold(rq.nsStack[len(rq.nsStack)-1], qname) {
		return nil
	}
	var out []dns.RR
	for _, rr := range ref.glue {
		if rr.Header().Rrtype == qtype && strings.EqualFold(rr.Header().Name, qname) {
			out = append(out, rr)
		}
	}
	return out
}

func (rq *request) skipCut(zone string) {
	if rq.skipped == nil {
		rq.skipped = map[string]bool{}
	}
	rq.skipped[zone] = true
	rq.deleg.remove(zone)
}

// negAuthority is the authority section of a negative answer: the SOA
// (and the zone's NS), plus the NSEC/NSEC3 proof and RRSIGs for clients
// that asked with DO.
func (rq *request) negAuthority(out response) []dns.RR {
	auth := make([]dns.RR, 0, len(out.soa)+len(out.proof))
	for _, rr := range out.soa {
		switch rr.Header().Rrtype {
		case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
			if rq.do {
				auth = append(auth, rr)
			}
		default:
			auth = append(auth, rr)
		}
	}
	if rq.do {
		auth = append(auth, out.proof...)
	}
	return auth
}

// nsAnswer reports whether answer holds an NS RRset owned by name.
func nsAnswer(answer []dns.RR, name string) bool {
	for _, rr := range answer {
		if rr.Header().Rrtype == dns.TypeNS && strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// containsEqual reports whether rrs holds a record equal to rr (TTL aside).
func containsEqual(rrs []dns.RR, rr dns.RR) bool {
	for _, x := range rrs {
		if dns.IsDuplicate(x, rr) {
			return true
		}
	}
	return false
}
