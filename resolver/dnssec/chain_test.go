package dnssec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestChainOfTrust walks a chain as the resolver will: a DNSKEY trust anchor
// for org, org's DNSKEY RRset, the DS of example.org signed by org, the
// DNSKEY RRset of example.org, and an answer, all on one request budget.
func TestChainOfTrust(t *testing.T) {
	t.Parallel()
	orgKSK := newKey(t, "org.", dns.RSASHA256, 2048, dns.ZONE|dns.SEP, "")
	orgZSK := newKey(t, "org.", dns.ECDSAP384SHA384, 384, dns.ZONE, "")
	exKSK := newKey(t, "example.org.", dns.ED25519, 256, dns.ZONE|dns.SEP, "ksk")
	exZSK := newKey(t, "example.org.", dns.ED25519, 256, dns.ZONE, "zsk")

	anchors, err := NewAnchors(orgKSK.key)
	if err != nil {
		t.Fatal(err)
	}
	budget := NewBudget(Limits{})
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	zone, ok := anchors.Closest("www.example.org.")
	if !ok || zone != "org." {
		t.Fatalf("Closest = %q, %v", zone, ok)
	}
	anchorDS, anchorKeys := anchors.Lookup(zone)

	orgKeys := []*dns.DNSKEY{orgKSK.key, orgZSK.key}
	_, err = VerifyDNSKEY(orgKeys, []*dns.RRSIG{orgKSK.sign(t, keysRRset(orgKeys...), nil)}, anchorDS, anchorKeys, testNow, budget)
	step("org DNSKEY", err)

	budget.NextResponse()
	ds := []dns.RR{exKSK.key.ToDS(dns.SHA256)}
	_, err = VerifyRRset(ds, []*dns.RRSIG{orgZSK.sign(t, ds, nil)}, orgKeys, testNow, budget)
	step("example.org DS", err)

	budget.NextResponse()
	exKeys := []*dns.DNSKEY{exZSK.key, exKSK.key}
	_, err = VerifyDNSKEY(exKeys, []*dns.RRSIG{exKSK.sign(t, keysRRset(exKeys...), nil)},
		[]*dns.DS{ds[0].(*dns.DS)}, nil, testNow, budget)
	step("example.org DNSKEY", err)

	budget.NextResponse()
	a := rrs(t, "www 300 IN A 192.0.2.1\n")
	sig, err := VerifyRRset(a, []*dns.RRSIG{exZSK.sign(t, a, nil)}, exKeys, testNow, budget)
	step("www.example.org A", err)
	if _, wild := WildcardExpansion(sig, "www.example.org."); wild {
		t.Error("plain answer reported as wildcard expansion")
	}

	resp, req := budget.Used()
	if diff := cmp.Diff([2]int{1, 4}, [2]int{resp, req}); diff != "" {
		t.Errorf("budget used (response, request) (-want +got):\n%s", diff)
	}

	// Negative twin: the DS of example.org signed by the child's own key
	// (as an attacker controlling the child could) is rejected.
	_, err = VerifyRRset(ds, []*dns.RRSIG{exZSK.sign(t, ds, nil)}, exKeys, testNow, budget)
	checkErr(t, err, ErrSignerMismatch, Bogus, dns.ExtendedErrorCodeDNSBogus)
}
