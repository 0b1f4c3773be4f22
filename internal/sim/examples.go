package sim

import (
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// DefaultName is the name `addrwalk demo` resolves when given none.
const DefaultName = "www.example.org."

// Example is a name of the simulation that shows one behaviour.
type Example struct {
	ID   string // short key, e.g. "glueless"
	Name string // fully qualified query name
	Type uint16 // query type, e.g. dns.TypeA
	What string // one line: what resolving it shows
}

// Examples returns the simulation's showcase names, the default demo name
// first.
func Examples() []Example {
	return []Example{
		{"delegation", DefaultName, dns.TypeA,
			"plain in-bailiwick delegation: root -> org -> example.org, glue at every step"},
		{"glueless", "www.quiet-harbor.org.", dns.TypeA,
			"glueless delegation: org. names ns1/ns2.dnshost.net, which must be resolved first"},
		{"cname", "alias.example.org.", dns.TypeA,
			"CNAME into another zone and TLD: alias.example.org -> www.example.com"},
		{"cname-chain", "go.example.com.", dns.TypeA,
			"three CNAMEs across com, net and org: go -> start.example.com -> hop.example.net -> end.example.org"},
		{"dname", "widget.products.example.org.", dns.TypeA,
			"DNAME products.example.org -> catalog.example.com with a synthesized CNAME (RFC 6672)"},
		{"nxdomain", "nonexistent.example.org.", dns.TypeA,
			"name does not exist: NXDOMAIN with the SOA for negative caching"},
		{"nodata", "www.example.org.", dns.TypeMX,
			"name exists without MX records: NODATA (NOERROR, empty answer, SOA)"},
		{"dead-server", "www.tideline.com.", dns.TypeA,
			"ns1.tideline.com drops every query; the resolver times out and falls back to ns2"},
		{"lame-refused", "www.lamplight.net.", dns.TypeA,
			"lame delegation: ns1.lamplight.net is not configured for the zone and answers REFUSED; ns2 works"},
		{"lame-upward", "www.driftwood.org.", dns.TypeA,
			"lame delegation: ns1.driftwood.org answers with an upward referral to the root; ns2 works"},
		{"tcp", "big.example.org.", dns.TypeTXT,
			"a 2 KB TXT RRset: truncated over UDP (TC=1), the resolver retries over TCP"},
		{"mx", "example.org.", dns.TypeMX,
			"two MX records, one in-zone with its address in additional, one in another TLD"},
		{"aaaa", "www.example.org.", dns.TypeAAAA,
			"an IPv6 address (documentation prefix 2001:db8::/32)"},
		{"srv", "_sip._tcp.example.org.", dns.TypeSRV,
			"SRV record for SIP over TCP"},
		{"ptr", "10.2.0.192.in-addr.arpa.", dns.TypePTR,
			"reverse lookup of 192.0.2.10: arpa. delegates 2.0.192.in-addr.arpa glueless to example.net's servers"},
		{"bulk", "www.acme.test.", dns.TypeA,
			"one of the 100 hosts under test. used by the bulk benchmark (BulkNames)"},

		// DNSSEC: validate with the lab's TrustAnchor(). The IDs say what
		// a validating resolver reports: Secure, Insecure or Bogus
		// (SERVFAIL); without validation they all resolve.
		{"dnssec-secure", "www.dnssec-test.org.", dns.TypeA,
			"signed chain root -> org -> dnssec-test.org (ECDSA P-256, NSEC); validated: Secure"},
		{"dnssec-nsec3", "www.nsec3.dnssec-test.org.", dns.TypeA,
			"zone signed with NSEC3 (no salt, no extra iterations) under an NSEC parent; validated: Secure"},
		{"dnssec-wildcard", "anything.wild.dnssec-test.org.", dns.TypeA,
			"signed wildcard answer: RRSIG labels show the expansion, an NSEC proves the name does not exist; validated: Secure"},
		{"dnssec-insecure", "www.insecure.dnssec-test.org.", dns.TypeA,
			"unsigned zone under a signed parent whose NSEC proves there is no DS; validated: Insecure"},
		{"dnssec-bogus-expired", "www.expired.dnssec-test.org.", dns.TypeA,
			"every signature of the zone has expired; a validating resolver answers SERVFAIL (Bogus, EDE 7)"},
		{"dnssec-bogus-not-yet-valid", "www.not-yet-valid.dnssec-test.org.", dns.TypeA,
			"the zone's signatures become valid tomorrow; a validating resolver answers SERVFAIL (Bogus, EDE 8)"},
		{"dnssec-bogus-wrong-ds", "www.wrong-ds.dnssec-test.org.", dns.TypeA,
			"the parent's DS matches no key of the zone; a validating resolver answers SERVFAIL (Bogus, EDE 9)"},
		{"dnssec-bogus-missing-sig", "www.missing-sig.dnssec-test.org.", dns.TypeA,
			"the answer comes without its RRSIG; a validating resolver answers SERVFAIL (Bogus, EDE 10)"},
		{"dnssec-bogus-bad-sig", "www.bad-sig.dnssec-test.org.", dns.TypeA,
			"the answer's signature was tampered with; a validating resolver answers SERVFAIL (Bogus, EDE 6)"},
		{"dnssec-bogus-no-nsec", "anything.wild.no-nsec.dnssec-test.org.", dns.TypeA,
			"a wildcard answer without the NSEC proving the name does not exist; a validating resolver answers SERVFAIL (Bogus, EDE 12)"},
	}
}

// bulkZones returns the zones under test. whose hosts make up BulkNames.
func bulkZones() []string {
	return []string{"acme.test.", "bluebird.test.", "cobalt.test.", "dunmore.test.", "evergreen.test."}
}

// BulkNames returns the 100 host names (A records) of the five shop zones
// under test., sorted, for "resolve 100 names in one TLD" benchmarks. The
// zones' own name servers are not included.
func BulkNames() []string {
	zones, err := Zones()
	if err != nil {
		// The zone files are embedded in the build; failing to read them
		// is a bug, caught by the package's tests.
		panic(err)
	}
	var out []string
	for _, origin := range bulkZones() {
		zp := dns.NewZoneParser(strings.NewReader(zones[origin]), origin, origin)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			name := rr.Header().Name
			if rr.Header().Rrtype != dns.TypeA || strings.HasPrefix(name, "ns1.") || strings.HasPrefix(name, "ns2.") {
				continue
			}
			out = append(out, name)
		}
		if err := zp.Err(); err != nil {
			panic(err)
		}
	}
	sort.Strings(out)
	return out
}
