package dnssec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestRootAnchors(t *testing.T) {
	t.Parallel()
	a := RootAnchors()
	ds, keys := a.Lookup(".")
	type dsText struct {
		Owner           string
		Tag             uint16
		Alg, DigestType uint8
		Digest          string
	}
	var got []dsText
	for _, d := range ds {
		got = append(got, dsText{d.Hdr.Name, d.KeyTag, d.Algorithm, d.DigestType, strings.ToUpper(d.Digest)})
	}
	// As published in https://data.iana.org/root-anchors/root-anchors.xml.
	want := []dsText{
		{".", 20326, 8, 2, "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"},
		{".", 38696, 8, 2, "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("root DS (-want +got):\n%s", diff)
	}
	if len(keys) != 0 {
		t.Errorf("unexpected DNSKEY anchors: %v", keys)
	}
	if !a.HasKeyTag(".", 20326) || !a.HasKeyTag(".", 38696) || a.HasKeyTag(".", 19036) {
		t.Error("HasKeyTag: want 20326 and 38696 only")
	}
	zone, ok := a.Closest("www.Example.ORG.")
	if diff := cmp.Diff(".", zone); diff != "" || !ok {
		t.Errorf("Closest ok=%v (-want +got):\n%s", ok, diff)
	}
}

func TestParseAnchors(t *testing.T) {
	t.Parallel()
	k := newKey(t, "example.org.", dns.ED25519, 256, dns.ZONE|dns.SEP, "anchor")
	text := "; anchors for two zones\n" +
		"example.net. IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n" +
		k.key.String() + "\n" +
		"sub.example.net. 3600 IN DS 54321 8 2 00ff\n"
	a, err := ParseAnchors(text)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"example.net.", "sub.example.net.", "example.org."}, a.Zones()); diff != "" {
		t.Errorf("Zones (-want +got):\n%s", diff)
	}
	tests := []struct {
		name, qname, want string
		ok                bool
	}{
		{"deepest wins", "a.sub.example.net.", "sub.example.net.", true},
		{"exact", "example.net.", "example.net.", true},
		{"DNSKEY anchor", "www.example.org.", "example.org.", true},
		{"no anchor", "example.com.", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := a.Closest(tc.qname)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Closest(%s) = %q, %v; want %q, %v", tc.qname, got, ok, tc.want, tc.ok)
			}
		})
	}
	ds, keys := a.Lookup("EXAMPLE.ORG")
	if len(ds) != 0 || len(keys) != 1 || keys[0].KeyTag() != k.key.KeyTag() {
		t.Fatalf("Lookup(example.org) = %v, %v", ds, keys)
	}
	keys[0].PublicKey = "changed"
	if _, again := a.Lookup("example.org."); again[0].PublicKey == "changed" {
		t.Error("Lookup returned the anchor itself, not a copy")
	}
}

func TestParseAnchorsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text string }{
		{"not DS or DNSKEY", "example.org. IN A 192.0.2.1\n"},
		{"syntax", "example.org. IN DS twelve\n"},
		{"DNSKEY without zone bit", "example.org. IN DNSKEY 1 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseAnchors(tc.text); err == nil || !strings.HasPrefix(err.Error(), "dnssec: ") {
				t.Errorf("ParseAnchors(%q) err = %v, want a dnssec: error", tc.text, err)
			}
		})
	}
}

func TestNegativeAnchors(t *testing.T) {
	t.Parallel()
	n, err := NewNegativeAnchors("broken.example.", "Lab.Example.ORG")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, qname string
		want        error
	}{
		{"the anchor", "broken.example.", ErrNegativeTrustAnchor},
		{"below", "a.b.lab.example.org.", ErrNegativeTrustAnchor},
		{"sibling", "example.org.", nil},
		{"suffix is not a label boundary", "notbroken.example.", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, n.Check(tc.qname), tc.want, Insecure, NoEDE)
		})
	}
	var empty *NegativeAnchors
	if err := empty.Check("example.org."); err != nil {
		t.Errorf("nil set: %v", err)
	}
	if _, err := NewNegativeAnchors("bad..name"); err == nil {
		t.Error("want an error for an invalid name")
	}
}

// TestRootAnchorDigests checks the built-in DS digests against the root
// KSKs' public keys as published by IANA (public data, not test keys): a
// wrong hex digit in either would make the DS not match.
func TestRootAnchorDigests(t *testing.T) {
	t.Parallel()
	const ksks = `
. IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=
. IN DNSKEY 257 3 8 AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc=
`
	ds, _ := RootAnchors().Lookup(".")
	keys := rrs(t, ksks)
	if len(ds) != len(keys) {
		t.Fatalf("%d DS for %d KSKs", len(ds), len(keys))
	}
	for i, rr := range keys {
		k := rr.(*dns.DNSKEY)
		if !dsMatches(ds[i], k) {
			t.Errorf("DS %d does not match KSK %d (computed %s)", ds[i].KeyTag, k.KeyTag(), k.ToDS(dns.SHA256).Digest)
		}
	}
}
