package resolvertest

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzEngine feeds arbitrary queries to the engine: whatever a client
// sends, answering must not panic, and the reply must pack.
func FuzzEngine(f *testing.F) {
	for _, seed := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.org.", dns.TypeA},
		{"x.old.example.org.", dns.TypeA},
		{"a.b.wild.example.org.", dns.TypeANY},
		{"example.org.", dns.TypeDS},
		{"ns.sub.example.org.", dns.TypeA},
		{"*.wild2.example.org.", dns.TypeTXT},
	} {
		q := new(dns.Msg)
		q.SetQuestion(seed.name, seed.qtype)
		q.SetEdns0(1232, true)
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
	}
	var zones []*zone
	for _, zt := range []struct{ origin, text string }{
		{".", rootZone}, {"org.", orgZone}, {"example.org.", exampleZone}, {"sub.example.org.", subZone},
	} {
		z, err := parseZone(zt.origin, zt.text)
		if err != nil {
			f.Fatal(err)
		}
		zones = append(zones, z)
	}
	e := &engine{zones: zones}
	f.Fuzz(func(t *testing.T, b []byte, udp bool) {
		q := new(dns.Msg)
		if err := q.Unpack(b); err != nil {
			return
		}
		r := e.answer(q, udp)
		if _, err := r.Pack(); err != nil && r.Rcode <= 0xF {
			t.Fatalf("reply does not pack: %v\n%v", err, r)
		}
	})
}
