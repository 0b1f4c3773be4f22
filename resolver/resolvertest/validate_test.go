package resolvertest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

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
			r := exampleResolver(t, lab, true)
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
	r := exampleResolver(t, lab, true)
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

// TestValidatingResolverGlueless resolves a signed zone whose name
// servers are in an unsigned zone of another signed TLD (glueless
// delegation): the answer is Secure, since the security of data does not
// depend on how its servers' addresses were found, and the unsigned glue
// the net. referral carries for the name servers is not validated as if it
// were an answer.
func TestValidatingResolverGlueless(t *testing.T) {
	lab := resolvertest.Hierarchy{
		Zones: map[string]string{
			".": `
$TTL 86400
@           SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@           NS  a.root.lab.
a.root.lab. A   127.57.0.1
org.        NS  ns1.nic.org.
ns1.nic.org. A  127.57.1.1
net.        NS  ns1.nic.net.
ns1.nic.net. A  127.57.1.2
`,
			"org.": `
$TTL 86400
@           SOA ns1.nic hostmaster.nic 1 1800 900 604800 3600
@           NS  ns1.nic
ns1.nic     A   127.57.1.1
example     NS  ns1.dnshost.net.
example     NS  ns2.dnshost.net.
`,
			"net.": `
$TTL 86400
@           SOA ns1.nic hostmaster.nic 1 1800 900 604800 3600
@           NS  ns1.nic
ns1.nic     A   127.57.1.2
dnshost     NS  ns1.dnshost
dnshost     NS  ns2.dnshost
ns1.dnshost A   127.57.2.1
ns2.dnshost A   127.57.2.2
`,
			"dnshost.net.": `
$TTL 3600
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
@    NS  ns2
ns1  A   127.57.2.1
ns2  A   127.57.2.2
`,
			"example.org.": `
$TTL 3600
@    SOA ns1.dnshost.net. hostmaster 1 7200 3600 1209600 300
@    NS  ns1.dnshost.net.
@    NS  ns2.dnshost.net.
www  A   192.0.2.10
`,
		},
		Signed: map[string]resolvertest.SignOptions{".": {}, "org.": {}, "net.": {}, "example.org.": {}},
		Servers: []resolvertest.Host{
			{Name: "a.root.lab.", Addr: "127.57.0.1", Zones: []string{"."}},
			{Name: "ns1.nic.org.", Addr: "127.57.1.1", Zones: []string{"org."}},
			{Name: "ns1.nic.net.", Addr: "127.57.1.2", Zones: []string{"net."}},
			{Name: "ns1.dnshost.net.", Addr: "127.57.2.1", Zones: []string{"dnshost.net.", "example.org."}},
			{Name: "ns2.dnshost.net.", Addr: "127.57.2.2", Zones: []string{"dnshost.net.", "example.org."}},
		},
	}.Start(t, resolvertest.Config{Now: func() time.Time { return signedNow }})
	r := exampleResolver(t, lab, true)
	res, err := r.Resolve(t.Context(), "www.example.org.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if res.Security != dnssec.Secure {
		t.Errorf("www.example.org/A: %v, want Secure", res.Security)
	}
	res, err = r.Resolve(t.Context(), "ns1.dnshost.net.", dns.TypeA)
	if err != nil || res.Security != dnssec.Insecure {
		t.Errorf("ns1.dnshost.net/A: %v, %v; want Insecure", res, err)
	}
}
