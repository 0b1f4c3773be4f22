package resolvertest

import (
	"testing"
	"time"

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

// FuzzSignedEngine is FuzzEngine over the same zones signed, org. and
// sub.example.org. with NSEC3 (opt-out for org.), the others with NSEC:
// every DNSSEC path of the engine must answer without panicking, with a
// reply that packs.
func FuzzSignedEngine(f *testing.F) {
	for _, seed := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.org.", dns.TypeA},
		{"nope.example.org.", dns.TypeA},
		{"x.old.example.org.", dns.TypeA},
		{"a.b.wild.example.org.", dns.TypeANY},
		{"a.b.wild.example.org.", dns.TypeMX},
		{"example.org.", dns.TypeDS},
		{"www.sub.example.org.", dns.TypeA},
		{"nope.org.", dns.TypeDNSKEY},
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
	lab := New(Config{})
	for _, zt := range []struct {
		origin, text string
		opts         SignOptions
	}{
		{".", rootZone, SignOptions{}},
		{"org.", orgZone, SignOptions{NSEC3: true, OptOut: true}},
		{"example.org.", exampleZone, SignOptions{}},
		{"sub.example.org.", subZone, SignOptions{NSEC3: true}},
	} {
		if err := lab.AddZone(zt.origin, zt.text); err != nil {
			f.Fatal(err)
		}
		if err := lab.SignZone(zt.origin, zt.opts); err != nil {
			f.Fatal(err)
		}
	}
	if err := lab.signZones(time.Now()); err != nil {
		f.Fatal(err)
	}
	var zones []*zone
	for _, z := range lab.zones {
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
