package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkVerifyRRset measures one signature verification per algorithm
// (go test -run '^$' -bench . ./resolver/dnssec/).
func BenchmarkVerifyRRset(b *testing.B) {
	for _, alg := range testAlgorithms {
		b.Run(alg.name, func(b *testing.B) {
			k := newKey(b, "example.org.", alg.alg, alg.bits, dns.ZONE, "")
			rrset := rrs(b, "www 300 IN A 192.0.2.1\nwww 300 IN A 192.0.2.2\n")
			sigs := []*dns.RRSIG{k.sign(b, rrset, nil)}
			keys := []*dns.DNSKEY{k.key}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := VerifyRRset(rrset, sigs, keys, testNow, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNSEC3Hash measures hashing one name at the RFC 9276
// recommended 0 iterations and at the MaxNSEC3Iterations limit.
func BenchmarkNSEC3Hash(b *testing.B) {
	for _, tc := range []struct {
		name string
		iter uint16
		salt string
	}{
		{"iter0-nosalt", 0, ""},
		{"iter10-salt4", 10, "AABBCCDD"},
		{"iter150-salt4", MaxNSEC3Iterations, "AABBCCDD"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if NSEC3Hash("www.example.org.", dns.SHA1, tc.iter, tc.salt) == "" {
					b.Fatal("empty hash")
				}
			}
		})
	}
}

// BenchmarkProveNSEC3NXDOMAIN measures a full NSEC3 name error proof.
func BenchmarkProveNSEC3NXDOMAIN(b *testing.B) {
	chain := buildNSEC3(b, "example.org.", nsec3Zone(true), 0, "", false)
	b.ReportAllocs()
	for b.Loop() {
		if err := ProveNSEC3NXDOMAIN("nx.example.org.", "example.org.", chain); err != nil {
			b.Fatal(err)
		}
	}
}
