package dnssec

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rsaKeyWithExponent makes an RSA key pair whose public exponent is e,
// from fresh primes, in RFC 3110 form.
func rsaKeyWithExponent(t *testing.T, bits int, e *big.Int) (*dns.DNSKEY, *big.Int, *big.Int) {
	t.Helper()
	for tries := 0; tries < 20; tries++ {
		// Primes straight from crypto/rand: rsa.GenerateKey refuses
		// moduli under 1024 bits.
		p, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			t.Fatal(err)
		}
		q, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			t.Fatal(err)
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits || p.Cmp(q) == 0 {
			continue
		}
		one := big.NewInt(1)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue // e not invertible mod phi: other primes
		}
		eb := e.Bytes()
		buf := append([]byte{byte(len(eb))}, eb...)
		buf = append(buf, n.Bytes()...)
		k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: dns.ZONE, Protocol: 3, Algorithm: dns.RSASHA256, PublicKey: base64.StdEncoding.EncodeToString(buf)}
		return k, d, n
	}
	t.Fatal("no usable primes")
	return nil, nil, nil
}

// signRaw signs rrset with the raw RSA private exponent d.
func signRaw(t *testing.T, k *dns.DNSKEY, d, n *big.Int, rrset []dns.RR) *dns.RRSIG {
	t.Helper()
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rrset[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
		TypeCovered: rrset[0].Header().Rrtype, Algorithm: dns.RSASHA256, Labels: uint8(dns.CountLabel(rrset[0].Header().Name)),
		OrigTtl: 3600, Expiration: uint32(time.Now().Add(time.Hour).Unix()), Inception: uint32(time.Now().Add(-time.Hour).Unix()),
		KeyTag: k.KeyTag(), SignerName: k.Hdr.Name}
	data, err := signedData(sig, rrset)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(data)
	k8 := (n.BitLen() + 7) / 8
	prefix := digestInfoPrefix[crypto.SHA256]
	em := make([]byte, k8)
	em[1] = 1
	for i := 2; i < k8-len(prefix)-len(digest)-1; i++ {
		em[i] = 0xff
	}
	copy(em[k8-len(prefix)-len(digest):], prefix)
	copy(em[k8-len(digest):], digest[:])
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), d, n).FillBytes(make([]byte, k8))
	sig.Signature = base64.StdEncoding.EncodeToString(s)
	return sig
}

// TestVerifyRSABig checks the math/big path the standard library refuses
// to take: an exponent of 2^32+1 (used by real zones) and a 512-bit
// modulus (used by the conformance scenarios).
func TestVerifyRSABig(t *testing.T) {
	rrset := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "www.example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: []byte{192, 0, 2, 1}}}
	tests := []struct {
		name string
		bits int
		e    *big.Int
	}{
		{"exponent 2^32+1", 1024, new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 32), big.NewInt(1))},
		{"512-bit modulus", 512, big.NewInt(65537)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, d, n := rsaKeyWithExponent(t, tt.bits, tt.e)
			sig := signRaw(t, k, d, n, rrset)
			if err := verifyOne(sig, k, rrset); err != nil {
				t.Fatalf("good signature rejected: %v", err)
			}
			bad := *sig
			raw, _ := base64.StdEncoding.DecodeString(sig.Signature)
			raw[len(raw)-1] ^= 1
			bad.Signature = base64.StdEncoding.EncodeToString(raw)
			if err := verifyOne(&bad, k, rrset); err == nil {
				t.Errorf("tampered signature accepted")
			}
			other := []dns.RR{&dns.A{Hdr: *rrset[0].Header(), A: []byte{192, 0, 2, 2}}}
			if err := verifyOne(sig, k, other); err == nil {
				t.Errorf("signature accepted for other data")
			}
		})
	}
}
