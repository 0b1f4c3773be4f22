package dnssec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestVerifyDNSKEY(t *testing.T) {
	t.Parallel()
	const zone = "example.org."
	ksk := newKey(t, zone, dns.ECDSAP256SHA256, 256, dns.ZONE|dns.SEP, "ksk")
	zsk := newKey(t, zone, dns.ECDSAP256SHA256, 256, dns.ZONE, "zsk")
	keys := []*dns.DNSKEY{ksk.key, zsk.key}
	byKSK := ksk.sign(t, keysRRset(keys...), nil)
	byZSK := zsk.sign(t, keysRRset(keys...), nil)

	// A key without the zone bit, signing a set that contains it.
	nz := newKey(t, zone, dns.ED25519, 256, dns.SEP, "nozone")
	nzKeys := []*dns.DNSKEY{nz.key, zsk.key}
	byNZ := nz.sign(t, keysRRset(nzKeys...), nil)

	ds := func(k *testKey, digest uint8) *dns.DS { return k.key.ToDS(digest) }
	withDigest := func(d *dns.DS, digestType uint8, digest string) *dns.DS {
		c := dns.Copy(d).(*dns.DS)
		c.DigestType, c.Digest = digestType, digest
		return c
	}
	wrong := func(d *dns.DS) *dns.DS {
		c := dns.Copy(d).(*dns.DS)
		c.Digest = strings.Repeat("0", len(c.Digest))
		return c
	}
	unknownAlg := withDigest(ds(ksk, dns.SHA256), dns.SHA256, ds(ksk, dns.SHA256).Digest)
	unknownAlg.Algorithm = 200

	tests := []struct {
		name       string
		keys       []*dns.DNSKEY
		sigs       []*dns.RRSIG
		ds         []*dns.DS
		anchors    []*dns.DNSKEY
		want       error
		wantStatus Status
		wantEDE    uint16
	}{
		{name: "DS SHA-1", keys: keys, sigs: []*dns.RRSIG{byKSK}, ds: []*dns.DS{ds(ksk, dns.SHA1)}},
		{name: "DS SHA-256", keys: keys, sigs: []*dns.RRSIG{byKSK}, ds: []*dns.DS{ds(ksk, dns.SHA256)}},
		{name: "DS SHA-384", keys: keys, sigs: []*dns.RRSIG{byKSK}, ds: []*dns.DS{ds(ksk, dns.SHA384)}},
		{name: "DS upper-case digest", keys: keys, sigs: []*dns.RRSIG{byKSK},
			ds: []*dns.DS{withDigest(ds(ksk, dns.SHA256), dns.SHA256, strings.ToUpper(ds(ksk, dns.SHA256).Digest))}},
		{name: "unknown digest ignored next to SHA-256", keys: keys, sigs: []*dns.RRSIG{byKSK},
			ds: []*dns.DS{withDigest(ds(ksk, dns.SHA256), 250, "abcd"), ds(ksk, dns.SHA256)}},
		{name: "only unknown digest types", keys: keys, sigs: []*dns.RRSIG{byKSK},
			ds:   []*dns.DS{withDigest(ds(ksk, dns.SHA256), dns.GOST94, "abcd"), withDigest(ds(ksk, dns.SHA256), 250, "abcd")},
			want: ErrUnsupportedDigest, wantStatus: Insecure, wantEDE: dns.ExtendedErrorCodeUnsupportedDSDigestType},
		{name: "only unknown algorithms", keys: keys, sigs: []*dns.RRSIG{byKSK}, ds: []*dns.DS{unknownAlg},
			want: ErrUnsupportedAlgorithm, wantStatus: Insecure, wantEDE: dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm},
		{name: "SHA-256 preferred over SHA-1 (no downgrade)", keys: keys, sigs: []*dns.RRSIG{byKSK},
			ds:   []*dns.DS{ds(ksk, dns.SHA1), wrong(ds(ksk, dns.SHA256))},
			want: ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing},
		{name: "DS matches no key", keys: keys, sigs: []*dns.RRSIG{byKSK}, ds: []*dns.DS{wrong(ds(ksk, dns.SHA256))},
			want: ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing},
		{name: "DNSKEY RRset signed only by the ZSK", keys: keys, sigs: []*dns.RRSIG{byZSK}, ds: []*dns.DS{ds(ksk, dns.SHA256)},
			want: ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing},
		{name: "DS key without zone bit", keys: nzKeys, sigs: []*dns.RRSIG{byNZ}, ds: []*dns.DS{ds(nz, dns.SHA256)},
			want: ErrNoZoneKeyBit, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeNoZoneKeyBitSet},
		{name: "no signature", keys: keys, ds: []*dns.DS{ds(ksk, dns.SHA256)},
			want: ErrRRSIGsMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeRRSIGsMissing},
		{name: "DNSKEY trust anchor", keys: keys, sigs: []*dns.RRSIG{byKSK}, anchors: []*dns.DNSKEY{ksk.key}},
		{name: "DNSKEY trust anchor that did not sign", keys: keys, sigs: []*dns.RRSIG{byKSK}, anchors: []*dns.DNSKEY{zsk.key},
			want: ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing},
		{name: "neither DS nor anchor", keys: keys, sigs: []*dns.RRSIG{byKSK},
			want: ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing},
		{name: "empty DNSKEY RRset", sigs: []*dns.RRSIG{byKSK}, ds: []*dns.DS{ds(ksk, dns.SHA256)},
			want: ErrDNSKEYMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeDNSKEYMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sig, err := VerifyDNSKEY(tc.keys, tc.sigs, tc.ds, tc.anchors, testNow, nil)
			checkErr(t, err, tc.want, tc.wantStatus, tc.wantEDE)
			if tc.want == nil {
				if diff := cmp.Diff(byKSK.String(), sig.String()); diff != "" {
					t.Errorf("RRSIG (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestUsableDS(t *testing.T) {
	t.Parallel()
	mk := func(alg, digest uint8) *dns.DS {
		return &dns.DS{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeDS, Class: dns.ClassINET},
			KeyTag: 1, Algorithm: alg, DigestType: digest, Digest: "00"}
	}
	type dsKey struct{ Alg, Digest uint8 }
	keysOf := func(ds []*dns.DS) []dsKey {
		var out []dsKey
		for _, d := range ds {
			out = append(out, dsKey{d.Algorithm, d.DigestType})
		}
		return out
	}
	tests := []struct {
		name string
		in   []*dns.DS
		want []dsKey
	}{
		{"empty", nil, nil},
		{"SHA-1 only", []*dns.DS{mk(8, 1)}, []dsKey{{8, 1}}},
		{"SHA-256 beats SHA-1", []*dns.DS{mk(8, 1), mk(8, 2), mk(13, 1)}, []dsKey{{8, 2}}},
		{"SHA-384 beats SHA-256", []*dns.DS{mk(8, 2), mk(13, 4)}, []dsKey{{13, 4}}},
		{"unsupported algorithm's digest does not count", []*dns.DS{mk(200, 4), mk(8, 2)}, []dsKey{{8, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := UsableDS(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, keysOf(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
