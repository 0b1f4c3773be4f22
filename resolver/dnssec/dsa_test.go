package dnssec

import (
	"errors"
	"math/big"
	"testing"

	"github.com/miekg/dns"
)

func TestDSAPublicKeyErrors(t *testing.T) {
	t.Parallel()
	// key builds T=0 key material with the given Q, P, G, Y.
	key := func(q, p, g, y int64) []byte {
		buf := []byte{0}
		buf = append(buf, big.NewInt(q).FillBytes(make([]byte, dsaQLen))...)
		for _, v := range []int64{p, g, y} {
			buf = append(buf, big.NewInt(v).FillBytes(make([]byte, dsaBaseKeyLen))...)
		}
		return buf
	}
	tests := []struct {
		name string
		key  []byte
	}{
		{"short", []byte{0, 1, 2}},
		{"T too large", append([]byte{9}, make([]byte, dsaMinKeyBytes)...)},
		{"length does not match T", append(key(11, 23, 4, 8), 0)},
		{"G = 1 accepts any signature", key(11, 23, 1, 8)},
		{"Y = 1", key(11, 23, 4, 1)},
		{"G >= P", key(11, 23, 23, 8)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := &dns.DNSKEY{Algorithm: dns.DSA, PublicKey: base64Encode(tc.key)}
			if _, err := dsaPublicKey(k); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := dsaPublicKey(&dns.DNSKEY{PublicKey: base64Encode(key(11, 23, 4, 8))}); err != nil {
		t.Errorf("well-formed key: %v", err)
	}
}
