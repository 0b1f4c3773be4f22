package dnssec

import (
	//lint:ignore SA1019 DSA DNSSEC algorithms 3 and 6 are validated on purpose; see AlgorithmSupported.
	"crypto/dsa"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/miekg/dns"
)

// RFC 2536 §2 sizes: T is 0..8, Q and the signature halves are 20 octets,
// P, G and Y are 64+T*8 octets.
const (
	dsaMaxT        = 8
	dsaQLen        = 20
	dsaSigLen      = 1 + 2*dsaQLen
	dsaBaseKeyLen  = 64
	dsaKeyLenPerT  = 8
	dsaMinKeyBytes = 1 + dsaQLen + 3*dsaBaseKeyLen
)

// dsaPublicKey decodes an RFC 2536 §2 DSA public key: T, Q, P, G, Y.
func dsaPublicKey(k *dns.DNSKEY) (*dsa.PublicKey, error) {
	buf, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: DSA key: %v", ErrMalformed, err)
	}
	if len(buf) < dsaMinKeyBytes {
		return nil, fmt.Errorf("%w: DSA key of %d octets", ErrMalformed, len(buf))
	}
	t := int(buf[0])
	if t > dsaMaxT {
		return nil, fmt.Errorf("%w: DSA key T=%d > %d", ErrMalformed, t, dsaMaxT)
	}
	n := dsaBaseKeyLen + t*dsaKeyLenPerT
	if len(buf) != 1+dsaQLen+3*n {
		return nil, fmt.Errorf("%w: DSA key of %d octets for T=%d", ErrMalformed, len(buf), t)
	}
	off := 1
	next := func(l int) *big.Int {
		v := new(big.Int).SetBytes(buf[off : off+l])
		off += l
		return v
	}
	pk := &dsa.PublicKey{}
	pk.Q = next(dsaQLen)
	pk.P = next(n)
	pk.G = next(n)
	pk.Y = next(n)
	// Reject degenerate parameters (G or Y of 0 or 1, or not below P), with
	// which any signature "verifies".
	one := big.NewInt(1)
	if pk.G.Cmp(one) <= 0 || pk.Y.Cmp(one) <= 0 || pk.G.Cmp(pk.P) >= 0 || pk.Y.Cmp(pk.P) >= 0 {
		return nil, fmt.Errorf("%w: degenerate DSA key", ErrMalformed)
	}
	return pk, nil
}

// verifyDSA verifies an RFC 2536 §3 signature (T, R, S) over the RFC 4034
// signed data hashed with SHA-1 (algorithms DSA and DSA-NSEC3-SHA1).
func verifyDSA(sig *dns.RRSIG, k *dns.DNSKEY, rrset []dns.RR) error {
	pk, err := dsaPublicKey(k)
	if err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil || len(raw) != dsaSigLen {
		return fmt.Errorf("%w: DSA signature of %d octets", ErrMalformed, len(raw))
	}
	data, err := signedData(sig, rrset)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	sum := sha1.Sum(data)
	r := new(big.Int).SetBytes(raw[1 : 1+dsaQLen])
	s := new(big.Int).SetBytes(raw[1+dsaQLen:])
	if !dsa.Verify(pk, sum[:], r, s) {
		return ErrInvalidSignature
	}
	return nil
}
