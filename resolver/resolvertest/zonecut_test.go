package resolvertest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// hiddenCutZones is a signed example.org whose servers also serve, as
// their own zones, children the referrals never show (the parent's
// servers answer for them directly): an unsigned child, a signed one, an
// unsigned child below an empty non-terminal of the parent, and an
// unsigned child a forger claims (its DS denial is tampered with in
// tests). The unsigned child's www is a CNAME into the signed parent,
// as names under real registries often are.
var hiddenCutZones = map[string]string{
	".": `
$TTL 86400
@            SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@            NS  a.root.lab.
a.root.lab.  A   127.58.0.1
org.         NS  ns1.nic.org.
ns1.nic.org. A   127.58.1.1
`,
	"org.": `
$TTL 86400
@            SOA ns1.nic hostmaster.nic 1 1800 900 604800 3600
@            NS  ns1.nic
ns1.nic      A   127.58.1.1
example      NS  ns1.example
example      NS  ns2.example
ns1.example  A   127.58.2.1
ns2.example  A   127.58.2.2
`,
	"example.org.": `
$TTL 3600
@            SOA ns1 hostmaster 1 7200 3600 1209600 300
@            NS  ns1
@            NS  ns2
ns1          A   127.58.2.1
ns2          A   127.58.2.2
www          A   192.0.2.1
unsigned     NS  ns1
unsigned     NS  ns2
signed       NS  ns1
signed       NS  ns2
x.ent        NS  ns1
x.ent        NS  ns2
forged       NS  ns1
forged       NS  ns2
`,
	"unsigned.example.org.": child + "www CNAME www.example.org.\nhost A 192.0.2.11\nhost2 A 192.0.2.12\n",
	"signed.example.org.":   child + "host A 192.0.2.21\n",
	"x.ent.example.org.":    child + "host A 192.0.2.31\n",
	"forged.example.org.":   child + "host A 192.0.2.41\n",
}

const child = `
$TTL 3600
@    SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300
@    NS  ns1.example.org.
@    NS  ns2.example.org.
`

// startHiddenCuts starts the hierarchy with example.org signed by opts.
func startHiddenCuts(t *testing.T, opts resolvertest.SignOptions) *resolvertest.Lab {
	t.Helper()
	all := []string{"example.org.", "unsigned.example.org.", "signed.example.org.", "x.ent.example.org.", "forged.example.org."}
	return resolvertest.Hierarchy{
		Zones:  hiddenCutZones,
		Signed: map[string]resolvertest.SignOptions{".": {}, "org.": {}, "example.org.": opts, "signed.example.org.": {}},
		Servers: []resolvertest.Host{
			{Name: "a.root.lab.", Addr: "127.58.0.1", Zones: []string{"."}},
			{Name: "ns1.nic.org.", Addr: "127.58.1.1", Zones: []string{"org."}},
			{Name: "ns1.example.org.", Addr: "127.58.2.1", Zones: all},
			{Name: "ns2.example.org.", Addr: "127.58.2.2", Zones: all},
		},
	}.Start(t, resolvertest.Config{Now: func() time.Time { return signedNow }})
}

// TestHiddenZoneCuts resolves names under zone cuts that the referrals
// never showed: an unsigned child is Insecure (no AD, NOERROR), a signed
// child Secure through its own DS and keys, a cut below an empty
// non-terminal is found too, and the cut found is remembered, so the
// next name under it needs only its own query.
func TestHiddenZoneCuts(t *testing.T) {
	variants := []struct {
		name string
		opts resolvertest.SignOptions
	}{
		{"nsec", resolvertest.SignOptions{}},
		{"nsec3", resolvertest.SignOptions{NSEC3: true}},
		{"nsec3-optout", resolvertest.SignOptions{NSEC3: true, OptOut: true}},
	}
	tests := []struct {
		qname  string
		qtype  uint16
		rcode  int
		status dnssec.Status
		answer int
	}{
		{"host.unsigned.example.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Insecure, 1},
		{"www.unsigned.example.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Insecure, 2}, // CNAME into the signed parent
		{"nope.unsigned.example.org.", dns.TypeA, dns.RcodeNameError, dnssec.Insecure, 0},
		{"host.unsigned.example.org.", dns.TypeMX, dns.RcodeSuccess, dnssec.Insecure, 0},
		{"host.signed.example.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Secure, 1},
		{"host.x.ent.example.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Insecure, 1},
		{"www.example.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Secure, 1},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			lab := startHiddenCuts(t, v.opts)
			for _, qmin := range []bool{false, true} {
				for _, tc := range tests {
					t.Run(fmt.Sprintf("%s/%s/qmin=%t", tc.qname, dns.TypeToString[tc.qtype], qmin), func(t *testing.T) {
						r := exampleResolver(t, lab, qmin)
						for _, pass := range []string{"cold", "warm"} {
							res, err := r.Query(t.Context(), resolver.Request{Name: tc.qname, Type: tc.qtype, DO: true})
							if err != nil {
								t.Fatalf("%s: %v", pass, err)
							}
							if res.Rcode != tc.rcode || res.Security != tc.status || len(withoutRRSIG(res.Answer)) != tc.answer {
								t.Errorf("%s: %s %v with %d records, want %s %v with %d", pass, dns.RcodeToString[res.Rcode], res.Security,
									len(withoutRRSIG(res.Answer)), dns.RcodeToString[tc.rcode], tc.status, tc.answer)
							}
							if pass == "warm" && res.Upstream != 0 {
								t.Errorf("warm: %d upstream queries, want 0", res.Upstream)
							}
						}
					})
				}
			}
			t.Run("cut remembered", func(t *testing.T) {
				for _, qmin := range []bool{false, true} {
					r := exampleResolver(t, lab, qmin)
					first, err := r.Resolve(t.Context(), "host.unsigned.example.org.", dns.TypeA)
					if err != nil {
						t.Fatal(err)
					}
					next, err := r.Resolve(t.Context(), "host2.unsigned.example.org.", dns.TypeA)
					if err != nil {
						t.Fatal(err)
					}
					base, err := exampleResolver(t, lab, qmin).Resolve(t.Context(), "www.example.org.", dns.TypeA)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("qmin=%t: cold, a signed name of the parent: %d upstream queries; the first name under the hidden cut: %d; the next name: %d",
						qmin, base.Upstream, first.Upstream, next.Upstream)
					if next.Security != dnssec.Insecure || next.Upstream != 1 {
						t.Errorf("qmin=%t: next name under the cut: %v with %d upstream queries, want Insecure with 1 (first: %d)",
							qmin, next.Security, next.Upstream, first.Upstream)
					}
				}
			})
		})
	}
}

// TestHiddenZoneCutForged breaks the proof of an unsigned child that no
// referral showed: the DS denial's signature, or the data made to look
// unsigned in the signed parent itself. Both stay Bogus.
func TestHiddenZoneCutForged(t *testing.T) {
	tamper := func(q, resp *dns.Msg) {
		if q.Question[0].Qtype != dns.TypeDS || !strings.EqualFold(q.Question[0].Name, "forged.example.org.") {
			return
		}
		for _, rr := range resp.Ns {
			if s, ok := rr.(*dns.RRSIG); ok && (s.TypeCovered == dns.TypeNSEC || s.TypeCovered == dns.TypeNSEC3) {
				s.Signature = "AAAA" + s.Signature[4:]
			}
		}
	}
	strip := func(q, resp *dns.Msg) {
		if strings.EqualFold(q.Question[0].Name, "www.example.org.") && q.Question[0].Qtype == dns.TypeA {
			resp.Answer = withoutRRSIG(resp.Answer)
		}
	}
	tests := []struct {
		name   string
		mutate func(q, resp *dns.Msg)
		qname  string
		ede    uint16
	}{
		{"DS denial signature broken", tamper, "host.forged.example.org.", dns.ExtendedErrorCodeDNSBogus},
		{"signatures stripped in the parent", strip, "www.example.org.", dns.ExtendedErrorCodeRRSIGsMissing},
	}
	for _, opts := range []resolvertest.SignOptions{{}, {NSEC3: true}} {
		lab := startHiddenCuts(t, opts)
		for _, tc := range tests {
			for _, qmin := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/nsec3=%t/qmin=%t", tc.name, opts.NSEC3, qmin), func(t *testing.T) {
					for _, s := range []string{"ns1.example.org.", "ns2.example.org."} {
						lab.Server(s).SetFaults(resolvertest.Faults{Mutate: tc.mutate})
					}
					r := exampleResolver(t, lab, qmin)
					res, err := r.Query(t.Context(), resolver.Request{Name: tc.qname, Type: dns.TypeA, DO: true})
					if !errors.Is(err, resolver.ErrBogus) {
						t.Fatalf("err = %v, want ErrBogus (result %+v)", err, res)
					}
					var e *resolver.Error
					if !errors.As(err, &e) || e.EDE != tc.ede {
						t.Errorf("EDE of %v, want %d", err, tc.ede)
					}
				})
			}
		}
	}
}

func withoutRRSIG(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			out = append(out, rr)
		}
	}
	return out
}
