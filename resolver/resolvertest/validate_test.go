package resolvertest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// validatingResolver returns a resolver that starts at lab's root,
// validates with lab's trust anchor and whose clock is signedNow.
func validatingResolver(t *testing.T, lab *resolvertest.Lab) *resolver.Resolver {
	t.Helper()
	hints, err := resolver.ParseHints(strings.NewReader(lab.RootHints()), "lab")
	if err != nil {
		t.Fatal(err)
	}
	anchors, err := dnssec.ParseAnchors(lab.TrustAnchor())
	if err != nil {
		t.Fatal(err)
	}
	r, err := resolver.New(resolver.Config{
		Hints:         hints,
		Port:          lab.Port(),
		AllowLoopback: true,
		TrustAnchors:  anchors,
		QueryTimeout:  2 * time.Second,
		Now:           func() time.Time { return signedNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestValidatingResolver resolves through the signed lab with the
// resolver's validator: signed names are Secure, the unsigned child is
// Insecure, and every broken zone is Bogus (SERVFAIL, ErrBogus) with the
// expected reason.
func TestValidatingResolver(t *testing.T) {
	variants := []struct {
		name string
		opts resolvertest.SignOptions
	}{
		{"nsec", resolvertest.SignOptions{}},
		{"nsec3", resolvertest.SignOptions{NSEC3: true}},
		{"nsec3-optout", resolvertest.SignOptions{NSEC3: true, OptOut: true}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			lab := newSignedLab(t, v.opts)
			r := validatingResolver(t, lab)
			secure := dnssec.Secure
			if v.opts.OptOut {
				// Negative answers and wildcards of an opt-out zone are
				// Insecure when the next closer name is in an opt-out span.
				secure = dnssec.Insecure
			}
			tests := []struct {
				name   string
				qtype  uint16
				rcode  int
				status dnssec.Status
			}{
				{"www.example.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Secure},
				{"alias.example.org.", dns.TypeAAAA, dns.RcodeSuccess, dnssec.Secure},
				{"example.org.", dns.TypeDNSKEY, dns.RcodeSuccess, dnssec.Secure},
				{"nope.example.org.", dns.TypeA, dns.RcodeNameError, secure},
				{"www.example.org.", dns.TypeMX, dns.RcodeSuccess, dnssec.Secure},
				{"b.ent.example.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Secure},
				{"host.wild.example.org.", dns.TypeA, dns.RcodeSuccess, secure},
				{"host.wild.example.org.", dns.TypeMX, dns.RcodeSuccess, secure},
				{"www.unsigned.org.", dns.TypeA, dns.RcodeSuccess, dnssec.Insecure},
				{"nope.unsigned.org.", dns.TypeA, dns.RcodeNameError, dnssec.Insecure},
			}
			for _, tc := range tests {
				res, err := r.Resolve(t.Context(), tc.name, tc.qtype)
				if err != nil {
					t.Errorf("%s/%s: %v", tc.name, dns.TypeToString[tc.qtype], err)
					continue
				}
				if res.Rcode != tc.rcode || res.Security != tc.status {
					t.Errorf("%s/%s: %s %v, want %s %v", tc.name, dns.TypeToString[tc.qtype],
						dns.RcodeToString[res.Rcode], res.Security, dns.RcodeToString[tc.rcode], tc.status)
				}
			}
		})
	}
}

func TestValidatingResolverBogus(t *testing.T) {
	lab := newSignedLab(t, resolvertest.SignOptions{})
	r := validatingResolver(t, lab)
	tests := []struct {
		name   string
		qtype  uint16
		reason error // the dnssec sentinel the failure should wrap
	}{
		{"www.expired.org.", dns.TypeA, dnssec.ErrSignatureExpired},
		{"www.not-yet-valid.org.", dns.TypeA, dnssec.ErrSignatureNotYetValid},
		{"www.wrong-ds.org.", dns.TypeA, dnssec.ErrDNSKEYMissing},
		{"www.missing-sig.org.", dns.TypeA, dnssec.ErrRRSIGsMissing},
		{"www.bad-sig.org.", dns.TypeA, dnssec.ErrInvalidSignature},
		{"nope.no-nsec.org.", dns.TypeA, dnssec.ErrNSECMissing},
		{"www.no-nsec.org.", dns.TypeMX, dnssec.ErrNSECMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+dns.TypeToString[tc.qtype], func(t *testing.T) {
			res, err := r.Resolve(t.Context(), tc.name, tc.qtype)
			if !errors.Is(err, resolver.ErrBogus) {
				t.Fatalf("err = %v, want ErrBogus (result %+v)", err, res)
			}
			if res != nil && res.Rcode != dns.RcodeServerFailure {
				t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[res.Rcode])
			}
			if !errors.Is(err, tc.reason) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.reason)
			}
		})
	}
	// The healthy parts of broken zones' neighbourhood still validate.
	res, err := r.Resolve(t.Context(), "www.no-nsec.org.", dns.TypeA)
	if err != nil || res.Security != dnssec.Secure {
		t.Errorf("www.no-nsec.org/A: %v, %v; want Secure", res, err)
	}
}
