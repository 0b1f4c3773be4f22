package dnssec

import (
	"crypto"
	//lint:ignore SA1019 tests sign with DSA to check its validation (RFC 2536).
	"crypto/dsa"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testNow is the validation time of the tests; signatures are valid from an
// hour before to an hour after.
var testNow = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// testKey is a generated key pair. Keys are generated at test time, never
// checked in.
type testKey struct {
	key    *dns.DNSKEY
	signer crypto.Signer   // miekg-supported algorithms
	dsa    *dsa.PrivateKey // DSA and DSA-NSEC3-SHA1
}

// algCase names an algorithm and a key size.
type algCase struct {
	name string
	alg  uint8
	bits int
}

// testAlgorithms lists every algorithm VerifyRRset supports.
var testAlgorithms = []algCase{
	{"DSA", dns.DSA, 1024},
	{"RSASHA1-1024", dns.RSASHA1, 1024},
	{"DSA-NSEC3-SHA1", dns.DSANSEC3SHA1, 1024},
	{"RSASHA1-NSEC3-SHA1-1024", dns.RSASHA1NSEC3SHA1, 1024},
	{"RSASHA256-2048", dns.RSASHA256, 2048},
	{"RSASHA512-1024", dns.RSASHA512, 1024},
	{"ECDSAP256SHA256", dns.ECDSAP256SHA256, 256},
	{"ECDSAP384SHA384", dns.ECDSAP384SHA384, 384},
	{"ED25519", dns.ED25519, 256},
}

// keyCache shares generated private keys between the tests of one binary:
// RSA-2048 and DSA parameter generation are slow.
var keyCache = struct {
	mu   sync.Mutex
	keys map[string]*testKey
}{keys: map[string]*testKey{}}

// dsaOnce generates the DSA parameters once per test binary.
var dsaOnce = sync.OnceValues(func() (*dsa.PrivateKey, error) {
	var k dsa.PrivateKey
	if err := dsa.GenerateParameters(&k.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		return nil, err
	}
	if err := dsa.GenerateKey(&k, rand.Reader); err != nil {
		return nil, err
	}
	return &k, nil
})

// newKey returns a key of zone with the given algorithm, size and flags.
// id distinguishes several keys of the same kind (e.g. "ksk", "zsk").
func newKey(tb testing.TB, zone string, alg uint8, bits int, flags uint16, id string) *testKey {
	tb.Helper()
	cacheKey := fmt.Sprintf("%d/%d/%s", alg, bits, id)
	keyCache.mu.Lock()
	cached, ok := keyCache.keys[cacheKey]
	keyCache.mu.Unlock()
	if !ok {
		cached = generateKey(tb, alg, bits, id)
		keyCache.mu.Lock()
		keyCache.keys[cacheKey] = cached
		keyCache.mu.Unlock()
	}
	k := *cached
	k.key = dns.Copy(cached.key).(*dns.DNSKEY)
	k.key.Hdr.Name = dns.Fqdn(zone)
	k.key.Flags = flags
	return &k
}

func generateKey(tb testing.TB, alg uint8, bits int, id string) *testKey {
	tb.Helper()
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     dns.ZONE,
		Protocol:  3,
		Algorithm: alg,
	}
	switch alg {
	case dns.DSA, dns.DSANSEC3SHA1:
		if id != "" {
			tb.Fatalf("one DSA key per test binary")
		}
		priv, err := dsaOnce()
		if err != nil {
			tb.Fatalf("DSA key: %v", err)
		}
		k.PublicKey = encodeDSAKey(priv)
		return &testKey{key: k, dsa: priv}
	}
	priv, err := k.Generate(bits)
	if err != nil {
		tb.Fatalf("generate %s/%d: %v", dns.AlgorithmToString[alg], bits, err)
	}
	return &testKey{key: k, signer: priv.(crypto.Signer)}
}

// encodeDSAKey encodes an RFC 2536 §2 public key: T, Q, P, G, Y.
func encodeDSAKey(k *dsa.PrivateKey) string {
	n := len(k.P.Bytes())
	t := (n - dsaBaseKeyLen) / dsaKeyLenPerT
	buf := []byte{byte(t)}
	buf = append(buf, k.Q.FillBytes(make([]byte, dsaQLen))...)
	for _, v := range []*big.Int{k.P, k.G, k.Y} {
		buf = append(buf, v.FillBytes(make([]byte, n))...)
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// sign signs rrset with k, valid from an hour before to an hour after
// testNow. mod may change the RRSIG before signing.
func (k *testKey) sign(tb testing.TB, rrset []dns.RR, mod func(*dns.RRSIG)) *dns.RRSIG {
	tb.Helper()
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Ttl: rrset[0].Header().Ttl},
		Algorithm:  k.key.Algorithm,
		SignerName: k.key.Hdr.Name,
		KeyTag:     k.key.KeyTag(),
		Inception:  uint32(testNow.Add(-time.Hour).Unix()),
		Expiration: uint32(testNow.Add(time.Hour).Unix()),
	}
	h0 := rrset[0].Header()
	sig.Hdr.Name, sig.Hdr.Class, sig.Hdr.Rrtype = h0.Name, h0.Class, dns.TypeRRSIG
	sig.OrigTtl, sig.TypeCovered = h0.Ttl, h0.Rrtype
	sig.Labels = uint8(dns.CountLabel(h0.Name))
	if strings.HasPrefix(h0.Name, "*.") {
		sig.Labels--
	}
	if mod != nil {
		mod(sig)
	}
	if k.dsa != nil {
		data, err := signedData(sig, rrset)
		if err != nil {
			tb.Fatalf("signed data: %v", err)
		}
		sum := sha1.Sum(data)
		r, s, err := dsa.Sign(rand.Reader, k.dsa, sum[:])
		if err != nil {
			tb.Fatalf("DSA sign: %v", err)
		}
		t := (len(k.dsa.P.Bytes()) - dsaBaseKeyLen) / dsaKeyLenPerT
		raw := append([]byte{byte(t)}, r.FillBytes(make([]byte, dsaQLen))...)
		raw = append(raw, s.FillBytes(make([]byte, dsaQLen))...)
		sig.Signature = base64.StdEncoding.EncodeToString(raw)
		return sig
	}
	// Sign recomputes owner, class, labels, original TTL and type
	// covered from the RRset; tests change those after signing.
	if err := sig.Sign(k.signer, rrset); err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return sig
}

// rrs parses zone-file text (origin example.org.).
func rrs(tb testing.TB, text string) []dns.RR {
	tb.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), "example.org.", "test")
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		tb.Fatalf("parse %q: %v", text, err)
	}
	return out
}

// keysRRset returns the DNSKEYs as an RRset.
func keysRRset(keys ...*dns.DNSKEY) []dns.RR {
	out := make([]dns.RR, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func base64Encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
