package cache

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// withTTL returns the presentation form of rrs with every TTL set to ttl,
// and the owner name lower-cased when owned (the key's name is the one
// decoded records get).
func withTTL(rrs []dns.RR, ttl uint32, owned bool) []string {
	out := make([]string, len(rrs))
	for i, r := range rrs {
		c := dns.Copy(r)
		c.Header().Ttl = ttl
		if owned {
			c.Header().Name = dns.CanonicalName(c.Header().Name)
		}
		out[i] = c.String()
	}
	return out
}

// TestPackRoundTrip packs records of every shape the cache keeps, owned and
// foreign, several in a row so that a record reading past its end would
// show, and checks they decode to what went in.
func TestPackRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   []string
	}{
		{"one A", []string{"a.example.org. 300 IN A 192.0.2.1"}},
		{"A set", []string{"a.example.org. 300 IN A 192.0.2.1", "a.example.org. 300 IN A 192.0.2.2"}},
		{"AAAA set", []string{"a.example.org. 300 IN AAAA 2001:db8::1", "a.example.org. 300 IN AAAA 2001:db8::2"}},
		{"mixed case owner", []string{"WwW.Example.ORG. 300 IN A 192.0.2.1"}},
		{"NS set", []string{"example.org. 300 IN NS ns1.example.org.", "example.org. 300 IN NS ns2.example.net."}},
		{"CNAME", []string{"www.example.org. 300 IN CNAME host.example.net."}},
		{"MX", []string{"example.org. 300 IN MX 10 mail.example.org."}},
		{"TXT set", []string{`example.org. 300 IN TXT "v=spf1 -all" "two"`, `example.org. 300 IN TXT ""`}},
		{"SOA", []string{"example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300"}},
		{"DS", []string{"example.org. 300 IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},
		{"DNSKEY", []string{"example.org. 300 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="}},
		{"NSEC then NSEC", []string{"a.example.org. 300 IN NSEC c.example.org. A RRSIG NSEC", "a.example.org. 300 IN NSEC d.example.org. NS DS RRSIG NSEC TYPE65534"}},
		{"NSEC3", []string{"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.org. 300 IN NSEC3 1 1 12 aabbccdd 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG"}}, // upper case, as from the wire
		{"RRSIG set", []string{
			"a.example.org. 300 IN RRSIG A 13 3 300 20261226120000 20261126110000 10777 example.org. qZTxYQCcURQi4o8RSbShrTLcZj1I6c+weEEKARXOb1cSrvYy/5uJkCfbRNc7JKuzksPw2wV6ERzacFg8K+KwfQ==",
			"a.example.org. 300 IN RRSIG A 8 3 300 20261226120000 20261126110000 4242 example.org. AwEAAag=",
		}},
		{"unknown type", []string{`a.example.org. 300 IN TYPE65280 \# 3 abcdef`}},
		{"empty rdata", []string{`a.example.org. 300 IN TYPE65280 \# 0`, `a.example.org. 300 IN TYPE65280 \# 1 00`}},
		{"root owner", []string{". 300 IN NS a.root-servers.net."}},
	}
	const ttl = 42
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rrs(t, tt.in...)
			c, _ := newTestCache(t, Config{})
			h := in[0].Header()

			owned, err := c.pack(in, nil, nil)
			if err != nil {
				t.Fatalf("pack owned: %v", err)
			}
			got, end, err := unpackOwned(owned, 0, len(in), dns.CanonicalName(h.Name), h.Class, ttl)
			if err != nil || end != len(owned) {
				t.Fatalf("unpackOwned: end %d of %d, %v", end, len(owned), err)
			}
			if diff := cmp.Diff(withTTL(in, ttl, true), strs(got)); diff != "" {
				t.Errorf("owned (-want +got):\n%s", diff)
			}

			foreign, err := c.pack(nil, nil, in)
			if err != nil {
				t.Fatalf("pack foreign: %v", err)
			}
			got, err = unpackForeign(nil, foreign, 0, ttl)
			if err != nil {
				t.Fatalf("unpackForeign: %v", err)
			}
			if diff := cmp.Diff(withTTL(in, ttl, false), strs(got)); diff != "" {
				t.Errorf("foreign (-want +got):\n%s", diff)
			}
			if len(owned) >= len(foreign) && !strings.HasPrefix(h.Name, ".") {
				t.Errorf("owned form %d bytes, foreign %d: the owner name is not left out", len(owned), len(foreign))
			}
		})
	}
}

// TestPackLeavesInputAlone checks that packing does not write into the
// caller's records (dns.PackRR would set Rdlength): they may be shared.
func TestPackLeavesInputAlone(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	in := rrs(t, "example.org. 300 IN NS ns1.example.org.")
	in[0].Header().Rdlength = 7
	if _, err := c.pack(in, in, in); err != nil {
		t.Fatal(err)
	}
	if got := in[0].Header().Rdlength; got != 7 {
		t.Errorf("Rdlength = %d after packing, want 7 (untouched)", got)
	}
}

// TestUnpackCorrupt feeds truncated packed data to the decoders: they
// report an error and never panic or loop.
func TestUnpackCorrupt(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	in := rrs(t, "a.example.org. 300 IN NSEC c.example.org. A RRSIG NSEC", "a.example.org. 300 IN A 192.0.2.1")
	data, err := c.pack(nil, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.pack(nil, nil, in[:1])
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		// Cut between records, the data is one record: not an error.
		if _, err := unpackForeign(nil, data[:n], 0, 1); err == nil && n != 0 && n != len(first) {
			t.Errorf("unpackForeign of %d of %d bytes: no error", n, len(data))
		}
		if _, _, err := unpackOwned(data[:n], 0, 2, "a.example.org.", dns.ClassINET, 1); err == nil {
			t.Errorf("unpackOwned of %d of %d bytes: no error", n, len(data))
		}
	}
}

// FuzzPackRoundTrip packs the answer records of any message that unpacks
// in the foreign form and checks they decode to the same records as
// miekg's own pack and unpack give: the records as the server would send
// them without the cache. (miekg does not keep every record through its
// own round trip: a URI target's raw backslash is packed as an escape, so
// "\\." comes back "."; the cache must only add no difference of its own.)
func FuzzPackRoundTrip(f *testing.F) {
	for _, s := range []string{
		"a.example.org. 300 IN NSEC c.example.org. A RRSIG NSEC",
		"example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300",
		`a.example.org. 300 IN TXT "x" "y"`,
	} {
		m := new(dns.Msg)
		m.Answer = rrs(f, s)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil || len(m.Answer) == 0 {
			return
		}
		c, _ := newTestCache(t, Config{})
		data, err := c.pack(nil, nil, m.Answer)
		if err != nil {
			return // a record miekg unpacks but does not pack: Insert refuses it
		}
		got, err := unpackForeign(nil, data, 0, 1)
		if err != nil {
			// A record miekg unpacks from an empty RDATA (an SOA of
			// RDLENGTH 0) but packs as something else: Insert finds
			// it so and refuses it (TestInsertRefusesUndecodable).
			return
		}
		wire, err := m.Pack()
		if err != nil {
			return
		}
		again := new(dns.Msg)
		if again.Unpack(wire) != nil {
			return
		}
		if diff := cmp.Diff(withTTL(again.Answer, 1, false), strs(got)); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}

// TestInsertRefusesUndecodable: a record that miekg unpacks but that does
// not survive the cache's packed form (an SOA with empty RDATA, as a broken
// or hostile server may send) is refused at insertion, so no entry turns
// into a miss on every lookup.
func TestInsertRefusesUndecodable(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	empty := &dns.SOA{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300}}
	if _, err := c.Insert(RRset{RRs: []dns.RR{empty}, Rank: RankAnswerAuth}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Insert: %v, want ErrInvalid", err)
	}
	good := rr(t, "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300").(*dns.SOA)
	if _, err := c.InsertNegative("x.example.org.", dns.TypeA, dns.ClassINET,
		Negative{Kind: NXDomain, SOA: good, Proof: []dns.RR{empty}, Rank: RankAnswerAuth}); !errors.Is(err, ErrInvalid) {
		t.Errorf("InsertNegative: %v, want ErrInvalid", err)
	}
	if st := c.Stats(); st.Entries != 0 {
		t.Errorf("%d entries, want 0", st.Entries)
	}
}

// TestUnpackNS: an NS set decodes the same by the three-allocation path
// as by miekg's, which takes over for any name that needs an escape.
func TestUnpackNS(t *testing.T) {
	tests := []struct {
		name     string
		ns       []string // NS targets
		wantFast bool
	}{
		{"two", []string{"ns1.example.org.", "ns2.example.net."}, true},
		{"mixed case kept", []string{"NS1.Example.ORG."}, true},
		{"root", []string{"."}, true},
		{"underscore and digits", []string{"_x-1.example.org.", "a.b.c.d.e.f.example."}, true},
		{"thirteen", []string{"a.root-servers.net.", "b.root-servers.net.", "c.root-servers.net.", "d.root-servers.net.",
			"e.root-servers.net.", "f.root-servers.net.", "g.root-servers.net.", "h.root-servers.net.", "i.root-servers.net.",
			"j.root-servers.net.", "k.root-servers.net.", "l.root-servers.net.", "m.root-servers.net."}, true},
		{"escaped dot", []string{`a\.b.example.org.`, "ns2.example.org."}, false},
		{"escaped byte", []string{`a\009b.example.org.`}, false},
		{"seventeen: past the stack arrays", []string{"1.x.", "2.x.", "3.x.", "4.x.", "5.x.", "6.x.", "7.x.", "8.x.", "9.x.",
			"10.x.", "11.x.", "12.x.", "13.x.", "14.x.", "15.x.", "16.x.", "17.x."}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []dns.RR
			for _, target := range tt.ns {
				in = append(in, rr(t, "example.org. 300 IN NS "+target))
			}
			data, _, err := packRecords(nil, in, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			hdr := dns.RR_Header{Name: "example.org.", Class: dns.ClassINET, Ttl: 300}
			if len(in) <= maxFastNames {
				_, _, fast := unpackNS(data, 0, len(in), hdr)
				if fast != tt.wantFast {
					t.Errorf("fast path = %v, want %v", fast, tt.wantFast)
				}
			}
			out, end, err := unpackOwned(data, 0, len(in), "example.org.", dns.ClassINET, 300)
			if err != nil {
				t.Fatal(err)
			}
			if end != len(data) {
				t.Errorf("decoded %d of %d bytes", end, len(data))
			}
			// miekg's own decoding of the same bytes, record by record.
			var want []dns.RR
			for off := 0; off < len(data); {
				h := hdr
				h.Rrtype = binary.BigEndian.Uint16(data[off:])
				h.Rdlength = binary.BigEndian.Uint16(data[off+2:])
				r, _, err := dns.UnpackRRWithHeader(h, data[:off+4+int(h.Rdlength)], off+4)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, r)
				off += 4 + int(h.Rdlength)
			}
			if diff := cmp.Diff(want, out); diff != "" {
				t.Errorf("unpackOwned (-miekg +got):\n%s", diff)
			}
			if diff := cmp.Diff(strs(in), strs(out)); diff != "" {
				t.Errorf("round trip (-in +out):\n%s", diff)
			}
		})
	}
}
