package dnssec

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"math/big"

	"github.com/miekg/dns"
)

// maxRSAModulusBits bounds the keys verifyRSABig accepts: RFC 3110 allows
// up to 4096-bit moduli for DNSSEC; more is a denial-of-service lever.
const maxRSAModulusBits = 4096

// maxRSAExponentBytes bounds the public exponent (RFC 3110 §2 allows up
// to 4096 bits, but real keys use 3, 65537 or 2^32+1; a huge exponent
// only makes verification slow).
const maxRSAExponentBytes = 8

// verifyRSABig verifies an RSA/SHA signature (RFC 3110, RFC 5702) with
// math/big. It serves the keys the standard path refuses: public
// exponents wider than 32 bits (2^32+1 is used by real zones) and moduli
// under 1024 bits. The signature check itself is the same PKCS #1 v1.5
// comparison crypto/rsa makes.
func verifyRSABig(sig *dns.RRSIG, k *dns.DNSKEY, rrset []dns.RR) error {
	var h crypto.Hash
	switch sig.Algorithm {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1:
		h = crypto.SHA1
	case dns.RSASHA256:
		h = crypto.SHA256
	case dns.RSASHA512:
		h = crypto.SHA512
	default:
		return errors.New("not an RSA algorithm")
	}
	key, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(key) < 3 {
		return dns.ErrKey
	}
	// RFC 3110 §2: exponent length in one octet, or 0 and two octets.
	elen, off := int(key[0]), 1
	if elen == 0 {
		elen, off = int(key[1])<<8|int(key[2]), 3
	}
	if elen == 0 || elen > maxRSAExponentBytes || off+elen >= len(key) {
		return dns.ErrKey
	}
	e := new(big.Int).SetBytes(key[off : off+elen])
	n := new(big.Int).SetBytes(key[off+elen:])
	if n.BitLen() > maxRSAModulusBits || n.Sign() == 0 || e.Sign() == 0 {
		return dns.ErrKey
	}
	s, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil {
		return dns.ErrSig
	}
	data, err := signedData(sig, rrset)
	if err != nil {
		return err
	}
	var digest []byte
	switch h {
	case crypto.SHA1:
		d := sha1.Sum(data)
		digest = d[:]
	case crypto.SHA256:
		d := sha256.Sum256(data)
		digest = d[:]
	default:
		d := sha512.Sum512(data)
		digest = d[:]
	}
	k8 := (n.BitLen() + 7) / 8
	if len(s) != k8 {
		return dns.ErrSig
	}
	m := new(big.Int).Exp(new(big.Int).SetBytes(s), e, n).FillBytes(make([]byte, k8))
	// EMSA-PKCS1-v1_5: 00 01 FF..FF 00 DigestInfo digest (RFC 8017 §9.2).
	prefix := digestInfoPrefix[h]
	tlen := len(prefix) + len(digest)
	if k8 < tlen+11 || m[0] != 0 || m[1] != 1 || m[k8-tlen-1] != 0 {
		return dns.ErrSig
	}
	for _, b := range m[2 : k8-tlen-1] {
		if b != 0xff {
			return dns.ErrSig
		}
	}
	if string(m[k8-tlen:k8-len(digest)]) != string(prefix) || string(m[k8-len(digest):]) != string(digest) {
		return dns.ErrSig
	}
	return nil
}

// digestInfoPrefix are the DER DigestInfo headers of RFC 8017 §9.2 note 1.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}
