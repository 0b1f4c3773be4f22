package dnssec

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// checkErr compares an error with the wanted sentinel, status and EDE.
func checkErr(t *testing.T, err, want error, wantStatus Status, wantEDE uint16) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	t.Logf("err: %v", err)
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	got := struct {
		Status Status
		EDE    uint16
	}{StatusOf(err), EDEOf(err)}
	wantSE := struct {
		Status Status
		EDE    uint16
	}{wantStatus, wantEDE}
	if diff := cmp.Diff(wantSE, got); diff != "" {
		t.Errorf("status/EDE mismatch for %v (-want +got):\n%s", err, diff)
	}
}

func TestVerifyRRsetAlgorithms(t *testing.T) {
	t.Parallel()
	for _, tc := range testAlgorithms {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newKey(t, "example.org.", tc.alg, tc.bits, dns.ZONE, "")
			rrset := rrs(t, "www 300 IN A 192.0.2.1\nwww 300 IN A 192.0.2.2\n")
			sig := k.sign(t, rrset, nil)
			got, err := VerifyRRset(rrset, []*dns.RRSIG{sig}, []*dns.DNSKEY{k.key}, testNow, nil)
			if err != nil {
				t.Fatalf("VerifyRRset: %v", err)
			}
			if diff := cmp.Diff(sig.String(), got.String()); diff != "" {
				t.Errorf("returned RRSIG (-want +got):\n%s", diff)
			}

			// Negative twin: the same signature over tampered data.
			tampered := rrs(t, "www 300 IN A 192.0.2.1\nwww 300 IN A 192.0.2.3\n")
			_, err = VerifyRRset(tampered, []*dns.RRSIG{sig}, []*dns.DNSKEY{k.key}, testNow, nil)
			checkErr(t, err, ErrInvalidSignature, Bogus, dns.ExtendedErrorCodeDNSBogus)
		})
	}
}

func TestVerifyRRsetFailures(t *testing.T) {
	t.Parallel()
	zsk := newKey(t, "example.org.", dns.ECDSAP256SHA256, 256, dns.ZONE, "")
	other := newKey(t, "example.org.", dns.ED25519, 256, dns.ZONE, "")
	noZone := newKey(t, "example.org.", dns.ED25519, 256, 0, "")
	proto := newKey(t, "example.org.", dns.ED25519, 256, dns.ZONE, "")
	proto.key.Protocol = 2
	a := func(t *testing.T) []dns.RR { return rrs(t, "www 300 IN A 192.0.2.1\n") }
	// monthLong signs for the 30 days up to testNow: a 3-day tenth,
	// capped at the 1-day skew maximum.
	monthLong := func(t *testing.T, r []dns.RR) []*dns.RRSIG {
		return []*dns.RRSIG{zsk.sign(t, r, func(s *dns.RRSIG) {
			s.Inception = uint32(testNow.Add(-30 * 24 * time.Hour).Unix())
			s.Expiration = uint32(testNow.Unix())
		})}
	}

	tests := []struct {
		name       string
		rrset      func(t *testing.T) []dns.RR
		sigs       func(t *testing.T, rrset []dns.RR) []*dns.RRSIG
		keys       []*dns.DNSKEY
		now        time.Time
		limits     *Limits // nil: the default budget
		want       error
		wantStatus Status
		wantEDE    uint16
	}{{
		name:  "good",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{zsk.key},
	}, {
		name:  "expired",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{zsk.key},
		now:   testNow.Add(3 * time.Hour), // an hour past expiry and the 1 h skew allowance
		want:  ErrSignatureExpired, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeSignatureExpired,
	}, {
		name:  "expired within the skew allowance",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{zsk.key},
		now:   testNow.Add(90 * time.Minute),
	}, {
		name:   "expired with no skew allowance",
		rrset:  a,
		sigs:   func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:   []*dns.DNSKEY{zsk.key},
		now:    testNow.Add(90 * time.Minute),
		limits: &Limits{SigSkewMax: -1},
		want:   ErrSignatureExpired, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeSignatureExpired,
	}, {
		name:  "skew is a tenth of a long period, at most a day",
		rrset: a,
		sigs:  monthLong,
		keys:  []*dns.DNSKEY{zsk.key},
		now:   testNow.Add(25 * time.Hour),
		want:  ErrSignatureExpired, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeSignatureExpired,
	}, {
		name:  "a day-long skew for a long period",
		rrset: a,
		sigs:  monthLong,
		keys:  []*dns.DNSKEY{zsk.key},
		now:   testNow.Add(23 * time.Hour),
	}, {
		name:  "not yet valid",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{zsk.key},
		now:   testNow.Add(-3 * time.Hour),
		want:  ErrSignatureNotYetValid, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeSignatureNotYetValid,
	}, {
		name:  "not yet valid within the skew allowance",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{zsk.key},
		now:   testNow.Add(-90 * time.Minute),
	}, {
		name:  "valid across the 2106 wrap of 32-bit time",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			wrap := time.Unix(1<<32, 0)
			return []*dns.RRSIG{zsk.sign(t, r, func(s *dns.RRSIG) {
				s.Inception = uint32(wrap.Add(-time.Hour).Unix())
				s.Expiration = uint32(wrap.Add(time.Hour).Unix())
			})}
		},
		keys: []*dns.DNSKEY{zsk.key},
		now:  time.Unix(1<<32+60, 0),
	}, {
		name:  "expired across the 2106 wrap of 32-bit time",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			wrap := time.Unix(1<<32, 0)
			return []*dns.RRSIG{zsk.sign(t, r, func(s *dns.RRSIG) {
				s.Inception = uint32(wrap.Add(-2 * time.Hour).Unix())
				s.Expiration = uint32(wrap.Add(-time.Hour).Unix())
			})}
		},
		keys: []*dns.DNSKEY{zsk.key},
		now:  time.Unix(1<<32+60, 0),
		want: ErrSignatureExpired, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeSignatureExpired,
	}, {
		name:  "expiration before inception",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			return []*dns.RRSIG{zsk.sign(t, r, func(s *dns.RRSIG) {
				s.Inception, s.Expiration = s.Expiration, s.Inception
			})}
		},
		keys: []*dns.DNSKEY{zsk.key},
		want: ErrSignatureExpiredBeforeValid, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeSignatureExpiredBeforeValid,
	}, {
		name:  "one expired one good",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			old := zsk.sign(t, r, func(s *dns.RRSIG) {
				s.Expiration = uint32(testNow.Add(-time.Minute).Unix())
			})
			return []*dns.RRSIG{old, zsk.sign(t, r, nil)}
		},
		keys: []*dns.DNSKEY{zsk.key},
	}, {
		name:  "wrong key tag",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{other.key},
		want:  ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing,
	}, {
		name:  "no keys",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		want:  ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing,
	}, {
		name:  "no zone key bit",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{noZone.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{noZone.key},
		want:  ErrNoZoneKeyBit, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeNoZoneKeyBitSet,
	}, {
		name:  "protocol not 3",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{proto.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{proto.key},
		want:  ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing,
	}, {
		name:  "no signatures",
		rrset: a,
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return nil },
		keys:  []*dns.DNSKEY{zsk.key},
		want:  ErrRRSIGsMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeRRSIGsMissing,
	}, {
		name:  "signature of another type",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			return []*dns.RRSIG{zsk.sign(t, rrs(t, "www 300 IN AAAA 2001:db8::1\n"), nil)}
		},
		keys: []*dns.DNSKEY{zsk.key},
		want: ErrRRSIGMismatch, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSBogus,
	}, {
		name:  "labels above owner",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			s := zsk.sign(t, r, nil)
			s.Labels = 4
			return []*dns.RRSIG{s}
		},
		keys: []*dns.DNSKEY{zsk.key},
		want: ErrRRSIGMismatch, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSBogus,
	}, {
		name:  "signer not an ancestor",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			return []*dns.RRSIG{zsk.sign(t, r, func(s *dns.RRSIG) { s.SignerName = "example.net." })}
		},
		keys: []*dns.DNSKEY{zsk.key},
		want: ErrSignerMismatch, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSBogus,
	}, {
		name:  "signer is not the key's zone",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			return []*dns.RRSIG{zsk.sign(t, r, func(s *dns.RRSIG) { s.SignerName = "org." })}
		},
		keys: []*dns.DNSKEY{zsk.key},
		want: ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing,
	}, {
		name:  "DS signed by the child",
		rrset: func(t *testing.T) []dns.RR { return rrs(t, "@ 300 IN DS 1 13 2 0123456789ABCDEF\n") },
		sigs:  func(t *testing.T, r []dns.RR) []*dns.RRSIG { return []*dns.RRSIG{zsk.sign(t, r, nil)} },
		keys:  []*dns.DNSKEY{zsk.key},
		want:  ErrSignerMismatch, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSBogus,
	}, {
		name:  "unsupported algorithm, no usable key",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			s := zsk.sign(t, r, nil)
			s.Algorithm = dns.ED448
			return []*dns.RRSIG{s}
		},
		keys: []*dns.DNSKEY{{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
			Flags: dns.ZONE, Protocol: 3, Algorithm: dns.ED448, PublicKey: "AAAA"}},
		want: ErrUnsupportedAlgorithm, wantStatus: Insecure, wantEDE: dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm,
	}, {
		name:  "unsupported algorithm while the zone has usable keys",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			s := zsk.sign(t, r, nil)
			s.Algorithm = dns.PRIVATEDNS
			return []*dns.RRSIG{s}
		},
		keys: []*dns.DNSKEY{zsk.key},
		want: ErrRRSIGsMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeRRSIGsMissing,
	}, {
		name:  "unsupported and supported signatures",
		rrset: a,
		sigs: func(t *testing.T, r []dns.RR) []*dns.RRSIG {
			s := zsk.sign(t, r, nil)
			s.Algorithm = dns.ED448
			return []*dns.RRSIG{s, zsk.sign(t, r, nil)}
		},
		keys: []*dns.DNSKEY{zsk.key},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rrset := tc.rrset(t)
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			var budget *Budget
			if tc.limits != nil {
				budget = NewBudget(*tc.limits)
			}
			sig, err := VerifyRRset(rrset, tc.sigs(t, rrset), tc.keys, now, budget)
			checkErr(t, err, tc.want, tc.wantStatus, tc.wantEDE)
			if tc.want == nil && sig == nil {
				t.Fatal("nil RRSIG for a secure RRset")
			}
		})
	}
}

func TestVerifyRRsetWildcard(t *testing.T) {
	t.Parallel()
	for _, alg := range []algCase{testAlgorithms[0], {"ECDSAP256SHA256", dns.ECDSAP256SHA256, 256}} {
		t.Run(alg.name, func(t *testing.T) {
			t.Parallel()
			k := newKey(t, "example.org.", alg.alg, alg.bits, dns.ZONE, "")
			wild := rrs(t, "*.w 300 IN TXT \"hello\"\n")
			sig := k.sign(t, wild, nil)
			if sig.Labels != 3 {
				t.Fatalf("labels = %d, want 3", sig.Labels)
			}
			// The literal wildcard is not an expansion.
			if _, ok := WildcardExpansion(sig, "*.w.example.org."); ok {
				t.Error("literal wildcard reported as expansion")
			}
			// Expand it to q.r.w.example.org as a server would.
			expanded := rrs(t, "q.r.w 300 IN TXT \"hello\"\n")
			esig := dns.Copy(sig).(*dns.RRSIG)
			esig.Hdr.Name = "q.r.w.example.org."
			if _, err := VerifyRRset(expanded, []*dns.RRSIG{esig}, []*dns.DNSKEY{k.key}, testNow, nil); err != nil {
				t.Fatalf("VerifyRRset expanded: %v", err)
			}
			wc, ok := WildcardExpansion(esig, "q.r.w.example.org.")
			if diff := cmp.Diff("*.w.example.org.", wc); diff != "" || !ok {
				t.Errorf("WildcardExpansion ok=%v (-want +got):\n%s", ok, diff)
			}
			// Negative twin: claiming a wildcard higher up breaks the signature.
			esig2 := dns.Copy(esig).(*dns.RRSIG)
			esig2.Labels = 2
			_, err := VerifyRRset(expanded, []*dns.RRSIG{esig2}, []*dns.DNSKEY{k.key}, testNow, nil)
			checkErr(t, err, ErrInvalidSignature, Bogus, dns.ExtendedErrorCodeDNSBogus)
		})
	}
}

// TestSignedDataMatchesMiekg cross-checks the canonical form built for DSA
// against github.com/miekg/dns's signer: mixed case owner and RDATA names,
// duplicate RRs, a wildcard, TTLs different from the original TTL.
func TestSignedDataMatchesMiekg(t *testing.T) {
	t.Parallel()
	k := newKey(t, "example.org.", dns.RSASHA256, 1024, dns.ZONE, "")
	tests := []struct {
		name  string
		rrset string
		owner string // rename after signing; "" keeps the owner
	}{
		{"NS with upper case", "Sub.Example.ORG. 300 IN NS NS2.Example.NET.\nsub 300 IN NS ns1.example.net.\nsub 300 IN NS ns1.example.net.\n", ""},
		{"MX", "@ 60 IN MX 10 Mail.Example.org.\n@ 60 IN MX 5 a.example.org.\n", ""},
		{"wildcard", "*.w 300 IN A 192.0.2.9\n", "x.y.w.example.org."},
		{"TXT", "t 300 IN TXT \"b\"\nt 300 IN TXT \"a\" \"c\"\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rrset := rrs(t, tc.rrset)
			sig := k.sign(t, rrset, nil)
			if tc.owner != "" {
				for _, rr := range rrset {
					rr.Header().Name = tc.owner
				}
				sig.Hdr.Name = tc.owner
			}
			for _, rr := range rrset {
				rr.Header().Ttl = 17 // TTLs decrease in caches
			}
			data, err := signedData(sig, rrset)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := base64Decode(sig.Signature)
			sum := sha256.Sum256(data)
			pub := k.signer.Public().(*rsa.PublicKey)
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw); err != nil {
				t.Errorf("signed data differs from miekg/dns's: %v", err)
			}
		})
	}
}

func TestValidatedTTL(t *testing.T) {
	t.Parallel()
	sig := &dns.RRSIG{OrigTtl: 600, Expiration: uint32(testNow.Add(100 * time.Second).Unix())}
	tests := []struct {
		name string
		ttl  uint32
		now  time.Time
		want uint32
	}{
		{"received TTL", 30, testNow, 30},
		{"original TTL", 86400, testNow.Add(-time.Hour), 600},
		{"expiry", 3600, testNow, 100},
		{"expired", 3600, testNow.Add(time.Hour), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rrset := rrs(t, "www 300 IN A 192.0.2.1\n")
			rrset[0].Header().Ttl = tc.ttl
			if diff := cmp.Diff(tc.want, ValidatedTTL(rrset, sig, tc.now)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusString(t *testing.T) {
	t.Parallel()
	got := []string{Indeterminate.String(), Secure.String(), Insecure.String(), Bogus.String(), Status(9).String()}
	want := []string{"Indeterminate", "Secure", "Insecure", "Bogus", "Status(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if StatusOf(errors.New("x")) != Bogus || StatusOf(nil) != Secure {
		t.Error("StatusOf of a plain error must be Bogus and of nil Secure")
	}
}
