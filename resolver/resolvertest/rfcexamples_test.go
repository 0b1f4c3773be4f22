package resolvertest_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// rfcExample is one example response of RFC 4035 or RFC 5155 Appendix B,
// asked of the resolver as a client with DO: the rcode, the security
// status (AD for Secure) and the records of the answer and authority
// sections, as "owner TYPE" (an RRSIG as "owner RRSIG/COVERED").
type rfcExample struct {
	name         string
	qname        string
	qtype        uint16
	rcode        int
	status       dnssec.Status
	answer, auth []string
}

// rfc4035Examples are RFC 4035 B.1-B.8. B.4 and B.5 are referrals to the
// signed a.example and unsigned b.example; the resolver follows them to
// the child's answer. B.8 asks for the DS of example., which a resolver
// must ask of the parent (the root), never of the child that answers
// NODATA in the RFC.
var rfc4035Examples = []rfcExample{
	{name: "B.1 answer", qname: "x.w.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		answer: []string{"x.w.example. MX", "x.w.example. RRSIG/MX"}},
	{name: "B.2 name error", qname: "ml.example.", qtype: dns.TypeA, rcode: dns.RcodeNameError, status: dnssec.Secure,
		auth: []string{"example. SOA", "example. RRSIG/SOA", "b.example. NSEC", "b.example. RRSIG/NSEC", "example. NSEC", "example. RRSIG/NSEC"}},
	{name: "B.3 no data", qname: "ns1.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		auth: []string{"example. SOA", "example. RRSIG/SOA", "ns1.example. NSEC", "ns1.example. RRSIG/NSEC"}},
	{name: "B.4 referral to signed zone", qname: "mc.a.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		answer: []string{"mc.a.example. MX", "mc.a.example. RRSIG/MX"}},
	{name: "B.5 referral to unsigned zone", qname: "mc.b.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Insecure,
		answer: []string{"mc.b.example. MX"}},
	{name: "B.6 wildcard expansion", qname: "a.z.w.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		answer: []string{"a.z.w.example. MX", "a.z.w.example. RRSIG/MX"},
		auth:   []string{"x.y.w.example. NSEC", "x.y.w.example. RRSIG/NSEC"}},
	{name: "B.7 wildcard no data", qname: "a.z.w.example.", qtype: dns.TypeAAAA, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		auth: []string{"example. SOA", "example. RRSIG/SOA", "x.y.w.example. NSEC", "x.y.w.example. RRSIG/NSEC", "*.w.example. NSEC", "*.w.example. RRSIG/NSEC"}},
	{name: "B.8 DS child zone no data", qname: "example.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		answer: []string{"example. DS", "example. RRSIG/DS"}},
	// Not in the RFC: a name error whose closest encloser is the empty
	// non-terminal y.w.example (so the wildcard denied is *.y.w.example,
	// covered by the NSEC of x.w.example), and a DS question at a name
	// that is no zone cut.
	{name: "name below an empty non-terminal", qname: "z.y.w.example.", qtype: dns.TypeA, rcode: dns.RcodeNameError, status: dnssec.Secure,
		auth: []string{"example. SOA", "example. RRSIG/SOA", "x.w.example. NSEC", "x.w.example. RRSIG/NSEC", "x.y.w.example. NSEC", "x.y.w.example. RRSIG/NSEC"}},
	{name: "DS at a name that is not a cut", qname: "ai.example.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		auth: []string{"example. SOA", "example. RRSIG/SOA", "ai.example. NSEC", "ai.example. RRSIG/NSEC"}},
}

// NSEC3 owner names of RFC 5155 Appendix A: the hashes of the names with
// 12 iterations and salt aabbccdd, so exactly those of Appendix B.
const (
	h3Example = "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example." // example.
	h3A       = "35mthgpgcu1qg68fab165klnsnk3dpvl.example." // a.example.
	h3NS1     = "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example." // ns1.example.
	h3NS2     = "q04jkcevqvmu85r014c7dkba38o0ji5r.example." // ns2.example.
	h3W       = "k8udemvp1j2f7eg6jebps17vp3n8i58h.example." // w.example.
	h3WildW   = "r53bq7cc2uvmubfu5ocmm6pers9tk9en.example." // *.w.example.
	h3XW      = "b4um86eghhds6nea196smvmlo4ors995.example." // x.w.example.
	h3YW      = "ji6neoaepv8b5o6k4ev33abha8ht9fgc.example." // y.w.example.
)

func nsec3(owner string) []string { return []string{owner + " NSEC3", owner + " RRSIG/NSEC3"} }

// rfc5155Examples are RFC 5155 B.1-B.6. The example zone is opt-out, so
// every proof that rests on an NSEC3 covering the next closer name (B.1,
// B.3, B.4, B.5) cannot rule out an unsigned delegation there: the answer
// is Insecure (no AD) and keeps its rcode, as Unbound's val_nsec3.c
// decides (RFC 5155 sections 6 and 9.2). B.3 follows the referral to the
// unsigned c.example: Insecure, not Bogus. Proofs by a matching NSEC3
// (B.2, B.2.1, B.6) stay Secure.
var rfc5155Examples = []rfcExample{
	{name: "B.1 name error", qname: "a.c.x.w.example.", qtype: dns.TypeA, rcode: dns.RcodeNameError, status: dnssec.Insecure,
		auth: slices.Concat([]string{"example. SOA", "example. RRSIG/SOA"}, nsec3(h3Example), nsec3(h3XW), nsec3(h3A))},
	{name: "B.2 no data", qname: "ns1.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		auth: slices.Concat([]string{"example. SOA", "example. RRSIG/SOA"}, nsec3(h3NS1))},
	{name: "B.2.1 no data at an empty non-terminal", qname: "y.w.example.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		auth: slices.Concat([]string{"example. SOA", "example. RRSIG/SOA"}, nsec3(h3YW))},
	{name: "B.3 referral to an opt-out unsigned zone", qname: "mc.c.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Insecure,
		answer: []string{"mc.c.example. MX"}},
	{name: "B.4 wildcard expansion", qname: "a.z.w.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Insecure,
		answer: []string{"a.z.w.example. MX", "a.z.w.example. RRSIG/MX"}, auth: nsec3(h3NS2)},
	{name: "B.5 wildcard no data", qname: "a.z.w.example.", qtype: dns.TypeAAAA, rcode: dns.RcodeSuccess, status: dnssec.Insecure,
		auth: slices.Concat([]string{"example. SOA", "example. RRSIG/SOA"}, nsec3(h3W), nsec3(h3NS2), nsec3(h3WildW))},
	{name: "B.6 DS child zone no data", qname: "example.", qtype: dns.TypeDS, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		answer: []string{"example. DS", "example. RRSIG/DS"}},
	// Not in the RFC: the owner that looks like a hash, and the name the
	// opt-out span covers asked directly.
	{name: "owner name shaped like a hash", qname: "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", qtype: dns.TypeA, rcode: dns.RcodeSuccess, status: dnssec.Secure,
		answer: []string{"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. A", "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. RRSIG/A"}},
	{name: "apex of the opt-out child", qname: "c.example.", qtype: dns.TypeSOA, rcode: dns.RcodeSuccess, status: dnssec.Insecure,
		answer: []string{"c.example. SOA"}},
}

// startExample starts an RFC example hierarchy; edit may break a zone.
func startExample(t *testing.T, ex resolvertest.Hierarchy, edit func(string, *resolvertest.SignOptions)) *resolvertest.Lab {
	t.Helper()
	lab, err := ex.Lab(resolvertest.Config{Now: func() time.Time { return signedNow }}, edit)
	if err != nil {
		t.Fatal(err)
	}
	return resolvertest.Start(t, lab)
}

// exampleResolver is a validating resolver for lab, with or without QNAME
// minimisation.
func exampleResolver(t *testing.T, lab *resolvertest.Lab, qmin bool) *resolver.Resolver {
	t.Helper()
	return labresolver.New(t, lab, func(c *resolver.Config) {
		c.TrustAnchors = labresolver.TrustAnchors(t, lab)
		c.DisableQNAMEMinimisation = !qmin
		c.QueryTimeout = 2 * time.Second
		c.Now = func() time.Time { return signedNow }
	})
}

// summary lists records as "owner TYPE" ("owner RRSIG/COVERED"), sorted.
func summary(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		s := strings.ToLower(h.Name) + " " + dns.TypeToString[h.Rrtype]
		if sig, ok := rr.(*dns.RRSIG); ok {
			s += "/" + dns.TypeToString[sig.TypeCovered]
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// traceVerdict is the status of the last validation event about the
// answer itself (not a zone's keys) at the client's level.
func traceVerdict(tr *resolver.Trace) string {
	verdict := ""
	if tr == nil {
		return verdict
	}
	for _, st := range tr.Steps {
		if st.Kind == resolver.EventValidate && st.Depth == 0 && !strings.HasPrefix(st.Detail, "zone keys of ") {
			verdict = st.Outcome
		}
	}
	return verdict
}

// How checkExample's resolver has been used before.
const (
	cold   = iota // never: the trace must show the verdict
	shared        // for other questions: the cache may hold some of the proof
	warm          // for this very question: no query may go upstream
)

// checkExample asks ex's question with DO and compares the reply.
func checkExample(t *testing.T, r *resolver.Resolver, ex rfcExample, cache int) {
	t.Helper()
	res, err := r.Query(t.Context(), resolver.Request{Name: ex.qname, Type: ex.qtype, DO: true, Trace: true})
	if err != nil {
		t.Fatalf("%s %s: %v", ex.qname, dns.TypeToString[ex.qtype], err)
	}
	if res.Rcode != ex.rcode || res.Security != ex.status {
		t.Errorf("%s %s: %s %v, want %s %v", ex.qname, dns.TypeToString[ex.qtype],
			dns.RcodeToString[res.Rcode], res.Security, dns.RcodeToString[ex.rcode], ex.status)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(ex.answer)), summary(res.Answer)); diff != "" {
		t.Errorf("answer section (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(ex.auth)), summary(res.Authority)); diff != "" {
		t.Errorf("authority section (-want +got):\n%s", diff)
	}
	switch cache {
	case warm:
		if res.Upstream != 0 {
			t.Errorf("warm cache: %d upstream queries, want 0", res.Upstream)
		}
		return
	case shared:
		return
	}
	if got := traceVerdict(res.Trace); got != ex.status.String() {
		t.Errorf("trace verdict %q, want %q", got, ex.status)
	}
}

// TestRFCExamples resolves every example question of RFC 4035 Appendix B
// and RFC 5155 Appendix B through the resolver, against the RFCs' example
// zones re-signed at test time, with and without QNAME minimisation,
// from a cold cache and again from a warm one.
func TestRFCExamples(t *testing.T) {
	sets := []struct {
		name     string
		zones    resolvertest.Hierarchy
		examples []rfcExample
	}{
		{"RFC4035", resolvertest.RFC4035Example(35), rfc4035Examples},
		{"RFC5155", resolvertest.RFC5155Example(55), rfc5155Examples},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			lab := startExample(t, set.zones, nil)
			for _, qmin := range []bool{false, true} {
				mode := "qmin-off"
				if qmin {
					mode = "qmin-on"
				}
				t.Run(mode, func(t *testing.T) {
					r := exampleResolver(t, lab, qmin)
					for _, ex := range set.examples {
						t.Run(ex.name+"/cold", func(t *testing.T) {
							checkExample(t, exampleResolver(t, lab, qmin), ex, cold)
							checkExample(t, r, ex, shared)
						})
					}
					for _, ex := range set.examples {
						t.Run(ex.name+"/warm", func(t *testing.T) {
							checkExample(t, r, ex, warm)
						})
					}
				})
			}
		})
	}
}

// TestRFCExamplesAggressive asks, after an example, a name its proof also
// covers: the verdict is that of the example and, where the validated
// NSEC or NSEC3 records alone settle it (RFC 8198), no query goes
// upstream. A wildcard's own NSEC never came with B.6, so the second
// wildcard answer is asked upstream, with the same verdict. RFC 5155's
// zone is opt-out throughout, so only its matching proofs are reusable.
func TestRFCExamplesAggressive(t *testing.T) {
	tests := []struct {
		set          string
		zones        resolvertest.Hierarchy
		prime, other rfcExample
		fromCache    bool
	}{
		{"RFC4035", resolvertest.RFC4035Example(35), rfc4035Examples[1],
			rfcExample{qname: "mm.example.", qtype: dns.TypeA, rcode: dns.RcodeNameError, status: dnssec.Secure}, true},
		{"RFC4035", resolvertest.RFC4035Example(35), rfc4035Examples[2],
			rfcExample{qname: "ns1.example.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, status: dnssec.Secure}, true},
		{"RFC4035", resolvertest.RFC4035Example(35), rfc4035Examples[5],
			rfcExample{qname: "b.z.w.example.", qtype: dns.TypeMX, rcode: dns.RcodeSuccess, status: dnssec.Secure}, false},
		{"RFC5155", resolvertest.RFC5155Example(55), rfc5155Examples[1],
			rfcExample{qname: "ns1.example.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, status: dnssec.Secure}, true},
		{"RFC5155", resolvertest.RFC5155Example(55), rfc5155Examples[0],
			rfcExample{qname: "b.c.x.w.example.", qtype: dns.TypeA, rcode: dns.RcodeNameError, status: dnssec.Insecure}, false},
	}
	for _, tc := range tests {
		for _, qmin := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/%s/%s/qmin=%t", tc.set, tc.prime.name, tc.other.qname, qmin), func(t *testing.T) {
				lab := startExample(t, tc.zones, nil)
				r := exampleResolver(t, lab, qmin)
				checkExample(t, r, tc.prime, cold)
				res, err := r.Query(t.Context(), resolver.Request{Name: tc.other.qname, Type: tc.other.qtype, DO: true})
				if err != nil {
					t.Fatal(err)
				}
				if res.Rcode != tc.other.rcode || res.Security != tc.other.status {
					t.Errorf("%s %s: %s %v, want %s %v", tc.other.qname, dns.TypeToString[tc.other.qtype],
						dns.RcodeToString[res.Rcode], res.Security, dns.RcodeToString[tc.other.rcode], tc.other.status)
				}
				if tc.fromCache && res.Upstream != 0 {
					t.Errorf("%d upstream queries, want none (RFC 8198)", res.Upstream)
				}
			})
		}
	}
}

// mutateAuthority rewrites the authority section of the example zone's
// servers' replies to one question.
func mutateAuthority(lab *resolvertest.Lab, qname string, qtype uint16, f func(ns []dns.RR) []dns.RR) {
	for _, name := range []string{"ns1.example.", "ns2.example."} {
		lab.Server(name).SetFaults(resolvertest.Faults{Mutate: func(q, resp *dns.Msg) {
			if len(q.Question) == 1 && strings.EqualFold(q.Question[0].Name, qname) && q.Question[0].Qtype == qtype {
				resp.Ns = f(resp.Ns)
			}
		}})
	}
}

// authorityOf asks ns1.example directly, with DO, and returns the
// records of the authority section owned by owner.
func authorityOf(t *testing.T, lab *resolvertest.Lab, qname string, qtype uint16, owner string) []dns.RR {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(qname, qtype)
	q.SetEdns0(1232, true)
	resp, err := dns.Exchange(q, lab.Server("ns1.example.").AddrPort().String())
	if err != nil {
		t.Fatal(err)
	}
	var out []dns.RR
	for _, rr := range resp.Ns {
		if strings.EqualFold(rr.Header().Name, owner) {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s in the authority section of %s %s", owner, qname, dns.TypeToString[qtype])
	}
	return out
}

// TestRFCExamplesBroken breaks one piece of an example's proof and expects
// Bogus (SERVFAIL) with the Extended DNS Error that names the fault.
func TestRFCExamplesBroken(t *testing.T) {
	tamperSig := func(owner string, covered uint16) func([]dns.RR) []dns.RR {
		return func(ns []dns.RR) []dns.RR {
			for _, rr := range ns {
				if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == covered && strings.EqualFold(s.Hdr.Name, owner) {
					s.Signature = "AAAA" + s.Signature[4:]
				}
			}
			return ns
		}
	}
	drop := func(owner string) func([]dns.RR) []dns.RR {
		return func(ns []dns.RR) []dns.RR {
			return slices.DeleteFunc(ns, func(rr dns.RR) bool { return strings.EqualFold(rr.Header().Name, owner) })
		}
	}
	tests := []struct {
		name   string
		zones  resolvertest.Hierarchy
		edit   func(string, *resolvertest.SignOptions)
		mutate func(t *testing.T, lab *resolvertest.Lab)
		qname  string
		qtype  uint16
		ede    uint16
		reason error
	}{
		{name: "RFC4035 B.2 NSEC signature broken", zones: resolvertest.RFC4035Example(35),
			mutate: func(t *testing.T, lab *resolvertest.Lab) {
				mutateAuthority(lab, "ml.example.", dns.TypeA, tamperSig("b.example.", dns.TypeNSEC))
			},
			qname: "ml.example.", qtype: dns.TypeA, ede: dns.ExtendedErrorCodeDNSBogus, reason: dnssec.ErrInvalidSignature},
		{name: "RFC4035 B.2 wildcard NSEC left out", zones: resolvertest.RFC4035Example(35),
			mutate: func(t *testing.T, lab *resolvertest.Lab) {
				mutateAuthority(lab, "ml.example.", dns.TypeA, drop("example."))
			},
			qname: "ml.example.", qtype: dns.TypeA, ede: dns.ExtendedErrorCodeNSECMissing, reason: dnssec.ErrNSECMissing},
		{name: "RFC4035 B.6 wildcard answer without NSEC", zones: resolvertest.RFC4035Example(35),
			mutate: func(t *testing.T, lab *resolvertest.Lab) {
				mutateAuthority(lab, "a.z.w.example.", dns.TypeMX, drop("x.y.w.example."))
			},
			qname: "a.z.w.example.", qtype: dns.TypeMX, ede: dns.ExtendedErrorCodeNSECMissing, reason: dnssec.ErrWildcardProofMissing},
		{name: "RFC5155 B.1 NSEC3 signature broken", zones: resolvertest.RFC5155Example(55),
			mutate: func(t *testing.T, lab *resolvertest.Lab) {
				mutateAuthority(lab, "a.c.x.w.example.", dns.TypeA, tamperSig(h3XW, dns.TypeNSEC3))
			},
			qname: "a.c.x.w.example.", qtype: dns.TypeA, ede: dns.ExtendedErrorCodeDNSBogus, reason: dnssec.ErrInvalidSignature},
		{name: "RFC5155 B.1 wrong NSEC3 for the closest encloser", zones: resolvertest.RFC5155Example(55),
			mutate: func(t *testing.T, lab *resolvertest.Lab) {
				// The NSEC3 of ns1.example, validly signed, in place of
				// that of x.w.example: it proves nothing here.
				ns1 := authorityOf(t, lab, "ns1.example.", dns.TypeMX, h3NS1)
				mutateAuthority(lab, "a.c.x.w.example.", dns.TypeA, func(ns []dns.RR) []dns.RR {
					return append(drop(h3XW)(ns), ns1...)
				})
			},
			qname: "a.c.x.w.example.", qtype: dns.TypeA, ede: dns.ExtendedErrorCodeNSECMissing, reason: dnssec.ErrNSECMissing},
		{name: "RFC5155 B.3 opt-out flag clear", zones: resolvertest.RFC5155Example(55),
			edit: func(origin string, o *resolvertest.SignOptions) {
				if origin == "example." {
					o.OptOutFlagWrong = true
				}
			},
			qname: "mc.c.example.", qtype: dns.TypeMX, ede: dns.ExtendedErrorCodeNSECMissing, reason: dnssec.ErrNSECMissing},
		{name: "RFC5155 B.3 opt-out proof signature broken", zones: resolvertest.RFC5155Example(55),
			mutate: func(t *testing.T, lab *resolvertest.Lab) {
				for _, name := range []string{"ns1.example.", "ns2.example."} {
					lab.Server(name).SetFaults(resolvertest.Faults{Mutate: func(q, resp *dns.Msg) {
						tamperSig(h3A, dns.TypeNSEC3)(resp.Ns) // the span covering c.example, in the referral
					}})
				}
			},
			qname: "mc.c.example.", qtype: dns.TypeMX, ede: dns.ExtendedErrorCodeDNSBogus, reason: dnssec.ErrInvalidSignature},
		{name: "RFC5155 B.5 wildcard NSEC3 left out", zones: resolvertest.RFC5155Example(55),
			mutate: func(t *testing.T, lab *resolvertest.Lab) {
				mutateAuthority(lab, "a.z.w.example.", dns.TypeAAAA, drop(h3WildW))
			},
			qname: "a.z.w.example.", qtype: dns.TypeAAAA, ede: dns.ExtendedErrorCodeNSECMissing, reason: dnssec.ErrNSECMissing},
	}
	for _, tc := range tests {
		for _, qmin := range []bool{false, true} {
			mode := "qmin-off"
			if qmin {
				mode = "qmin-on"
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				lab := startExample(t, tc.zones, tc.edit)
				r := exampleResolver(t, lab, qmin)
				if tc.mutate != nil {
					tc.mutate(t, lab)
				}
				res, err := r.Query(t.Context(), resolver.Request{Name: tc.qname, Type: tc.qtype, DO: true})
				if !errors.Is(err, resolver.ErrBogus) {
					t.Fatalf("err = %v, want ErrBogus (result %+v)", err, res)
				}
				if res.Rcode != dns.RcodeServerFailure || res.Security != dnssec.Bogus {
					t.Errorf("%s %v, want SERVFAIL Bogus", dns.RcodeToString[res.Rcode], res.Security)
				}
				var e *resolver.Error
				if !errors.As(err, &e) || e.EDE != tc.ede {
					t.Errorf("EDE %v, want %d (%s)", e, tc.ede, dns.ExtendedErrorCodeToString[tc.ede])
				}
				if !errors.Is(err, tc.reason) {
					t.Errorf("err = %v, want it to wrap %v", err, tc.reason)
				}
			})
		}
	}
}

// TestNSEC3IterationsLimit lowers the NSEC3 iteration limit below the 12
// iterations of RFC 5155's example zone: its denials become Insecure
// (NOERROR or NXDOMAIN, no AD) with EDE 27 (RFC 9276 §3.2), while data
// signed without an NSEC3 proof stays Secure; the default limit (150)
// validates them, and a negative limit allows 0 iterations only.
func TestNSEC3IterationsLimit(t *testing.T) {
	lab := startExample(t, resolvertest.RFC5155Example(55), nil)
	tests := []struct {
		limit  int
		qname  string
		qtype  uint16
		rcode  int
		status dnssec.Status
		ede    uint16
	}{
		{0, "ns1.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Secure, 0},
		{12, "ns1.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Secure, 0},
		{11, "ns1.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Insecure, dns.ExtendedErrorCodeUnsupportedNSEC3IterValue},
		{-1, "ns1.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Insecure, dns.ExtendedErrorCodeUnsupportedNSEC3IterValue},
		{11, "y.w.example.", dns.TypeA, dns.RcodeSuccess, dnssec.Insecure, dns.ExtendedErrorCodeUnsupportedNSEC3IterValue},
		{11, "x.w.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Secure, 0},
		{11, "mc.a.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Secure, 0},
		// The no-DS proof of the opt-out delegation is an NSEC3 too.
		{11, "mc.c.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Insecure, dns.ExtendedErrorCodeUnsupportedNSEC3IterValue},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("limit=%d/%s/%s", tc.limit, tc.qname, dns.TypeToString[tc.qtype]), func(t *testing.T) {
			r := labresolver.New(t, lab, func(c *resolver.Config) {
				c.TrustAnchors = labresolver.TrustAnchors(t, lab)
				c.Validation = dnssec.Limits{NSEC3Iterations: tc.limit}
				c.Now = func() time.Time { return signedNow }
			})
			res, err := r.Query(t.Context(), resolver.Request{Name: tc.qname, Type: tc.qtype, DO: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rcode != tc.rcode || res.Security != tc.status || res.EDE != tc.ede {
				t.Errorf("%s %v EDE %d (%s), want %s %v EDE %d", dns.RcodeToString[res.Rcode], res.Security, res.EDE, res.EDEText,
					dns.RcodeToString[tc.rcode], tc.status, tc.ede)
			}
		})
	}
}

// TestDomainInsecure configures names as domain-insecure (negative trust
// anchors): data at and below them is Insecure even when their parent
// signed it; a trust anchor at or below such a name overrides it, as in
// Unbound; names elsewhere stay Secure.
func TestDomainInsecure(t *testing.T) {
	lab := startExample(t, resolvertest.RFC4035Example(35), nil)
	childDS := lab.DNSKEYs("a.example.")[0].ToDS(dns.SHA256).String()
	tests := []struct {
		name     string
		insecure []string
		anchors  string // besides the root's
		qname    string
		qtype    uint16
		rcode    int
		status   dnssec.Status
	}{
		{"data signed by the parent", []string{"w.example."}, "", "x.w.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Insecure},
		{"wildcard under it", []string{"w.example."}, "", "a.z.w.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Insecure},
		{"name error under it", []string{"w.example."}, "", "nope.x.w.example.", dns.TypeA, dns.RcodeNameError, dnssec.Insecure},
		{"sibling stays secure", []string{"w.example."}, "", "ns1.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Secure},
		{"a whole zone", []string{"example."}, "", "mc.a.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Insecure},
		{"an anchor below overrides", []string{"example."}, childDS, "mc.a.example.", dns.TypeMX, dns.RcodeSuccess, dnssec.Secure},
		{"outside the anchor below", []string{"example."}, childDS, "ml.example.", dns.TypeA, dns.RcodeNameError, dnssec.Insecure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			anchors, err := dnssec.ParseAnchors(lab.TrustAnchor() + tc.anchors + "\n")
			if err != nil {
				t.Fatal(err)
			}
			ntas, err := dnssec.NewNegativeAnchors(tc.insecure...)
			if err != nil {
				t.Fatal(err)
			}
			r := labresolver.New(t, lab, func(c *resolver.Config) {
				c.TrustAnchors, c.NegativeAnchors = anchors, ntas
				c.Now = func() time.Time { return signedNow }
			})
			res, err := r.Query(t.Context(), resolver.Request{Name: tc.qname, Type: tc.qtype, DO: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rcode != tc.rcode || res.Security != tc.status {
				t.Errorf("%s %v, want %s %v", dns.RcodeToString[res.Rcode], res.Security, dns.RcodeToString[tc.rcode], tc.status)
			}
		})
	}
}

// TestBogusTTL checks that a bogus answer is remembered for the bogus
// TTL (Unbound's val-bogus-ttl, 60 s by default), not the 5 s of other
// failures: within it the question fails at once, from the cache.
func TestBogusTTL(t *testing.T) {
	lab := startExample(t, resolvertest.RFC4035Example(35), nil)
	for _, name := range []string{"ns1.example.", "ns2.example."} {
		lab.Server(name).SetFaults(resolvertest.Faults{Mutate: func(q, resp *dns.Msg) {
			for _, rr := range resp.Answer {
				if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeMX {
					s.Signature = "AAAA" + s.Signature[4:]
				}
			}
		}})
	}
	tests := []struct {
		name     string
		bogusTTL time.Duration
		after    time.Duration
		cached   bool
	}{
		{"default, 10 s later", 0, 10 * time.Second, true},
		{"default, 59 s later", 0, 59 * time.Second, true},
		{"default, 61 s later", 0, 61 * time.Second, false},
		{"configured 2 s, 3 s later", 2 * time.Second, 3 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var now atomic.Int64 // the clock, in Unix nanoseconds; read by the resolver's goroutines
			now.Store(signedNow.UnixNano())
			r := labresolver.New(t, lab, func(c *resolver.Config) {
				c.TrustAnchors = labresolver.TrustAnchors(t, lab)
				c.CacheConfig = cache.Config{BogusTTL: tc.bogusTTL}
				c.Now = func() time.Time { return time.Unix(0, now.Load()) }
			})
			if _, err := r.Resolve(t.Context(), "x.w.example.", dns.TypeMX); !errors.Is(err, resolver.ErrBogus) {
				t.Fatalf("first: %v, want ErrBogus", err)
			}
			now.Add(int64(tc.after))
			res, err := r.Resolve(t.Context(), "x.w.example.", dns.TypeMX)
			if !errors.Is(err, resolver.ErrBogus) {
				t.Fatalf("again: %v, want ErrBogus", err)
			}
			if cached := errors.Is(err, resolver.ErrCachedFailure); cached != tc.cached || cached && res.Upstream != 0 {
				t.Errorf("cached failure %t with %d upstream queries, want %t", cached, res.Upstream, tc.cached)
			}
		})
	}
}
