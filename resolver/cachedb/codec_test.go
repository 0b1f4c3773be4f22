package cachedb_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/cachedb"
)

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

var testKey = cache.SharedKey{Name: "www.example.org.", Type: dns.TypeA, Class: dns.ClassINET}

func sampleEntries(t testing.TB) map[string]cache.SharedEntry {
	exp := time.UnixMilli(1_800_000_000_123)
	return map[string]cache.SharedEntry{
		"answer": {Kind: cache.SharedAnswer, Rank: cache.RankSecure, Security: cache.SecuritySecure, Expires: exp,
			Answer: []dns.RR{mustRR(t, "www.example.org. 300 IN A 192.0.2.1"), mustRR(t, "www.example.org. 300 IN A 192.0.2.2")},
			Sigs:   []dns.RR{mustRR(t, "www.example.org. 300 IN RRSIG A 13 3 300 20300101000000 20200101000000 12345 example.org. dGVzdA==")}},
		"cname": {Kind: cache.SharedCNAME, Rank: cache.RankAnswerAuth, Expires: exp, Target: "web.example.net.",
			Answer: []dns.RR{mustRR(t, "www.example.org. 300 IN CNAME web.example.net.")}},
		"nxdomain": {Kind: cache.SharedNXDomain, Rank: cache.RankAuthorityAuth, Security: cache.SecurityInsecure, Expires: exp,
			Target:    "www.example.org.",
			Authority: []dns.RR{mustRR(t, "example.org. 300 IN SOA ns1.example.org. h.example.org. 1 2 3 4 300")},
			Proof:     []dns.RR{mustRR(t, "example.org. 300 IN NSEC zz.example.org. A NS SOA RRSIG NSEC")}},
		"wildcard": {Kind: cache.SharedAnswer, Rank: cache.RankSecure, Security: cache.SecuritySecure, Expires: exp, Wildcard: true,
			Answer: []dns.RR{mustRR(t, "www.example.org. 300 IN A 192.0.2.9")},
			Proof:  []dns.RR{mustRR(t, "w.example.org. 300 IN NSEC zz.example.org. A RRSIG NSEC")}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for name, e := range sampleEntries(t) {
		t.Run(name, func(t *testing.T) {
			b, err := cachedb.Encode(testKey, e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cachedb.Decode(b, testKey)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(entryText(e), entryText(got)); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// entryText renders an entry for comparison.
func entryText(e cache.SharedEntry) []string {
	out := []string{e.Kind.String(), e.Rank.String(), e.Security.String(), e.Target, e.Expires.UTC().Format(time.RFC3339Nano)}
	if e.Wildcard {
		out = append(out, "wildcard")
	}
	for _, sec := range [][]dns.RR{e.Answer, e.Sigs, e.Authority, e.Proof} {
		out = append(out, "--")
		for _, rr := range sec {
			out = append(out, rr.String())
		}
	}
	return out
}

func TestDecodeRejects(t *testing.T) {
	good, err := cachedb.Encode(testKey, sampleEntries(t)["answer"])
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		b    []byte
		key  cache.SharedKey
	}{
		{"empty", nil, testKey},
		{"garbage", []byte("garbage that is long enough to pass the header"), testKey},
		{"other version", mod(func(b []byte) []byte { b[3] = '2'; return b }), testKey},
		{"bad kind", mod(func(b []byte) []byte { b[4] = 9; return b }), testKey},
		{"bad rank", mod(func(b []byte) []byte { b[5] = 0; return b }), testKey},
		{"bogus", mod(func(b []byte) []byte { b[6] = byte(cache.SecurityBogus); return b }), testKey},
		{"unknown flag", mod(func(b []byte) []byte { b[7] = 2; return b }), testKey},
		{"truncated", good[:len(good)-1], testKey},
		{"trailing byte", append(append([]byte(nil), good...), 0), testKey},
		{"another key", good, cache.SharedKey{Name: "mail.example.org.", Type: dns.TypeA, Class: dns.ClassINET}},
		{"another type", good, cache.SharedKey{Name: testKey.Name, Type: dns.TypeAAAA, Class: dns.ClassINET}},
		{"huge count", mod(func(b []byte) []byte {
			off := 4 + 4 + 8 + 4 + 1 + len(testKey.Name) + 1
			binary.BigEndian.PutUint16(b[off:], 0xffff)
			return b
		}), testKey},
		{"rr length past the end", mod(func(b []byte) []byte {
			off := 4 + 4 + 8 + 4 + 1 + len(testKey.Name) + 1 + 2
			binary.BigEndian.PutUint16(b[off:], 0xfff0)
			return b
		}), testKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := cachedb.Decode(tt.b, tt.key); !errors.Is(err, cachedb.ErrDecode) {
				t.Errorf("Decode = %v, want ErrDecode", err)
			}
		})
	}
}

// FuzzDecode feeds the decoder what a hostile or broken Redis could hold:
// it must never panic, and what it accepts must encode back to a value
// that decodes to the same entry.
func FuzzDecode(f *testing.F) {
	for _, e := range sampleEntries(f) {
		b, err := cachedb.Encode(testKey, e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("AWC1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := cachedb.Decode(b, testKey)
		if err != nil {
			return
		}
		again, err := cachedb.Encode(testKey, e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		e2, err := cachedb.Decode(again, testKey)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if diff := cmp.Diff(entryText(e), entryText(e2)); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
