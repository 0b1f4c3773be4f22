package dnssec

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// collidingKeys returns n bogus Ed25519 DNSKEYs of zone whose key tag is
// tag, found by varying the last two octets of random public keys: the
// KeyTrap attack (CVE-2023-50387) packs a zone with such keys.
func collidingKeys(t *testing.T, zone string, tag uint16, n int) []*dns.DNSKEY {
	t.Helper()
	var out []*dns.DNSKEY
	for len(out) < n {
		pub := make([]byte, 32)
		if _, err := rand.Read(pub); err != nil {
			t.Fatal(err)
		}
		k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 300},
			Flags: dns.ZONE, Protocol: 3, Algorithm: dns.ED25519}
		for v := 0; v < 1<<16; v++ {
			pub[30], pub[31] = byte(v>>8), byte(v)
			k.PublicKey = base64.StdEncoding.EncodeToString(pub)
			if k.KeyTag() == tag {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func TestKeyTrap(t *testing.T) {
	t.Parallel()
	const zone = "example.org."
	k := newKey(t, zone, dns.ED25519, 256, dns.ZONE, "")
	rrset := rrs(t, "www 300 IN A 192.0.2.1\n")
	sig := k.sign(t, rrset, nil)
	fakes := collidingKeys(t, zone, k.key.KeyTag(), 2*DefaultMaxKeyTagCollisions)

	tests := []struct {
		name     string
		keys     []*dns.DNSKEY
		sigs     int // copies of the good signature, all tried
		limits   Limits
		want     error
		wantUsed int // verifications counted for the response
	}{
		{name: "real key after few collisions", keys: append(fakes[:DefaultMaxKeyTagCollisions-1:DefaultMaxKeyTagCollisions-1], k.key),
			sigs: 1, wantUsed: DefaultMaxKeyTagCollisions},
		{name: "real key after too many collisions", keys: append(fakes[:len(fakes):len(fakes)], k.key),
			sigs: 1, want: ErrBudgetExceeded, wantUsed: DefaultMaxKeyTagCollisions},
		{name: "many signatures exhaust the response budget", keys: fakes,
			sigs: 10, limits: Limits{MaxVerificationsPerResponse: 10}, want: ErrBudgetExceeded, wantUsed: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewBudget(tc.limits)
			sigs := make([]*dns.RRSIG, tc.sigs)
			for i := range sigs {
				sigs[i] = sig
			}
			_, err := VerifyRRset(rrset, sigs, tc.keys, testNow, b)
			checkErr(t, err, tc.want, Bogus, dns.ExtendedErrorCodeDNSBogus)
			used, _ := b.Used()
			if diff := cmp.Diff(tc.wantUsed, used); diff != "" {
				t.Errorf("verifications (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBudgetPerRequest(t *testing.T) {
	t.Parallel()
	k := newKey(t, "example.org.", dns.ED25519, 256, dns.ZONE, "")
	rrset := rrs(t, "www 300 IN A 192.0.2.1\n")
	sig := k.sign(t, rrset, nil)
	b := NewBudget(Limits{MaxVerificationsPerResponse: 2, MaxVerificationsPerRequest: 3})
	var errs []bool
	for range 4 {
		b.NextResponse()
		_, err := VerifyRRset(rrset, []*dns.RRSIG{sig}, []*dns.DNSKEY{k.key}, testNow, b)
		errs = append(errs, err != nil)
		if err != nil {
			checkErr(t, err, ErrBudgetExceeded, Bogus, dns.ExtendedErrorCodeDNSBogus)
		}
	}
	if diff := cmp.Diff([]bool{false, false, false, true}, errs); diff != "" {
		t.Errorf("failures per response (-want +got):\n%s", diff)
	}
	resp, req := b.Used()
	if resp != 0 || req != 3 {
		t.Errorf("Used() = %d, %d; want 0, 3", resp, req)
	}
}

func TestNilBudget(t *testing.T) {
	t.Parallel()
	var b *Budget
	b.NextResponse()
	if r, q := b.Used(); r != 0 || q != 0 {
		t.Errorf("Used() = %d, %d on nil", r, q)
	}
}
