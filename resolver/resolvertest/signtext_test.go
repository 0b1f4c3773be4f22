package resolvertest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

const signTextZone = `$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 192.0.2.1
www IN A 192.0.2.10
child IN NS ns1.child
ns1.child IN A 192.0.2.20
`

// TestSignText signs zone text and checks the result with the validator:
// the DNSKEY set matches the DS, www's A verifies (or fails the way the
// breakage says), and the denial chain is there.
func TestSignText(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		opts      resolvertest.SignOptions
		wantDS    bool  // the DS matches the KSK
		wantErr   error // verifying www's A
		wantNSEC3 bool
	}{
		{name: "NSEC", wantDS: true},
		{name: "NSEC3", opts: resolvertest.SignOptions{NSEC3: true}, wantDS: true, wantNSEC3: true},
		{name: "wrong DS", opts: resolvertest.SignOptions{Break: resolvertest.BreakWrongDS}},
		{name: "expired an hour ago (within the skew allowance)", opts: resolvertest.SignOptions{Break: resolvertest.BreakExpired, ExpiredAgo: time.Hour}, wantDS: true},
		{name: "expired", opts: resolvertest.SignOptions{Break: resolvertest.BreakExpired}, wantDS: true, wantErr: dnssec.ErrSignatureExpired},
		{name: "bad signature at www", opts: resolvertest.SignOptions{Break: resolvertest.BreakBadSignature, BreakNames: []string{"www"}}, wantDS: true, wantErr: dnssec.ErrInvalidSignature},
		{name: "no signature at www", opts: resolvertest.SignOptions{Break: resolvertest.BreakMissingRRSIG, BreakNames: []string{"www"}}, wantDS: true, wantErr: dnssec.ErrRRSIGsMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, ds, err := resolvertest.SignText("example.org.", signTextZone, tc.opts, now)
			if err != nil {
				t.Fatal(err)
			}
			var keys []*dns.DNSKEY
			var www []dns.RR
			var wwwSigs []*dns.RRSIG
			var nsec3, delegSigned bool
			zp := dns.NewZoneParser(strings.NewReader(text), "", "")
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				switch v := rr.(type) {
				case *dns.DNSKEY:
					keys = append(keys, v)
				case *dns.A:
					if v.Hdr.Name == "www.example.org." {
						www = append(www, v)
					}
				case *dns.RRSIG:
					if v.Hdr.Name == "www.example.org." && v.TypeCovered == dns.TypeA {
						wwwSigs = append(wwwSigs, v)
					}
					delegSigned = delegSigned || v.Hdr.Name == "child.example.org." && v.TypeCovered == dns.TypeNS
				case *dns.NSEC3:
					nsec3 = true
				}
			}
			if err := zp.Err(); err != nil {
				t.Fatalf("the signed text does not parse: %v", err)
			}
			matched := false
			for _, k := range keys {
				if k.Flags&dns.SEP != 0 && strings.EqualFold(k.ToDS(dns.SHA256).Digest, ds.Digest) {
					matched = true
				}
			}
			if matched != tc.wantDS {
				t.Errorf("DS %v matches the KSK: %v, want %v", ds, matched, tc.wantDS)
			}
			_, err = dnssec.VerifyRRset(www, wwwSigs, keys, now, nil)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("verifying www A: %v, want %v", err, tc.wantErr)
			}
			if nsec3 != tc.wantNSEC3 {
				t.Errorf("NSEC3 chain present: %v, want %v", nsec3, tc.wantNSEC3)
			}
			if delegSigned {
				t.Error("the delegation's NS RRset is signed")
			}
		})
	}
	if _, _, err := resolvertest.SignText("example.org.", signTextZone, resolvertest.SignOptions{Break: resolvertest.BreakMissingNSEC}, now); err == nil {
		t.Error("BreakMissingNSEC: no error")
	}
}
