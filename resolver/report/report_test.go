package report_test

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/report"
	"github.com/addrwalk/addrwalk/resolver/report/reporttest"
)

// TestSchemaRejects proves the schema can fail: each document breaks one
// convention.
func TestSchemaRejects(t *testing.T) {
	ok := `{"name":"www.example.org.","type":"A","rcode":"NOERROR","security":"Indeterminate","upstream_queries":3,"duration_ms":1.5}`
	if err := reporttest.Check(reporttest.Resolution, []byte(ok)); err != nil {
		t.Fatalf("valid document rejected: %v", err)
	}
	for name, doc := range map[string]string{
		"nanoseconds":    `{"name":"x.","type":"A","rcode":"NOERROR","security":"Indeterminate","upstream_queries":3,"duration_ns":1500000}`,
		"null":           `{"name":"x.","type":"A","rcode":"NOERROR","security":null,"upstream_queries":3,"duration_ms":1}`,
		"tab record":     `{"name":"x.","type":"A","rcode":"NOERROR","security":"Secure","upstream_queries":3,"duration_ms":1,"answer":["x.\t60\tIN\tA\t192.0.2.1"]}`,
		"empty list":     `{"name":"x.","type":"A","rcode":"NOERROR","security":"Secure","upstream_queries":3,"duration_ms":1,"answer":[]}`,
		"duration text":  `{"name":"x.","type":"A","rcode":"NOERROR","security":"Secure","upstream_queries":3,"duration_ms":"1ms"}`,
		"go field names": `{"Name":"x.","Type":"A","Rcode":"NOERROR","Security":"Secure","Upstream":3,"Duration":1}`,
		"step in ns":     `{"name":"x.","type":"A","rcode":"NOERROR","security":"Secure","upstream_queries":3,"duration_ms":1,"trace":{"name":"x.","type":"A","steps":[{"kind":"query","depth":0,"at_ns":5}]}}`,
	} {
		if reporttest.Check(reporttest.Resolution, []byte(doc)) == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
	for name, doc := range map[string]string{
		"go infra":  `{"servers":[{"Addr":"192.0.2.1","SRTT":6104884}]}`,
		"zero time": `{"servers":[{"addr":"192.0.2.1","srtt_ms":1,"rttvar_ms":1,"rto_ms":1,"timeouts":0,"lame_until":"0001-01-01 00:00"}]}`,
		"bare list": `[{"addr":"192.0.2.1","srtt_ms":1,"rttvar_ms":1,"rto_ms":1,"timeouts":0}]`,
	} {
		if reporttest.Check(reporttest.Infra, []byte(doc)) == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
}

// TestFromResult checks the conversions against the schema, including a
// failure with no result at all and a lame server in the table.
func TestFromResult(t *testing.T) {
	rr, err := dns.NewRR("www.example.org. 60 IN A 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	res := &resolver.Result{Name: "www.example.org.", Type: dns.TypeA, Rcode: dns.RcodeSuccess, Answer: []dns.RR{rr},
		Upstream: 2, Duration: 1500 * time.Microsecond,
		Trace: &resolver.Trace{Name: "www.example.org.", Type: "A", Steps: []*resolver.Step{{Event: resolver.Event{
			Kind: resolver.EventQuery, At: time.Millisecond, Name: "www.example.org.", Type: "A", Addr: netip.MustParseAddrPort("192.0.2.53:53"),
			Transport: "udp", RTT: 700 * time.Microsecond, Answer: []string{rr.String()}}}}}}
	docs := map[string]*report.Resolution{
		"answer":  report.FromResult("www.example.org.", dns.TypeA, res, nil),
		"refused": report.FromResult("www.example.org", dns.TypeAXFR, nil, &resolver.Error{Name: "www.example.org.", Type: dns.TypeAXFR, Err: resolver.ErrInvalidQuestion}),
		"plain":   report.FromResult("x.", 65280, nil, errors.New("boom")),
	}
	for name, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		reporttest.Validate(t, reporttest.Resolution, b)
		if name == "answer" && (d.DurationMS != 1.5 || d.Trace.Steps[0].RTTMS != 0.7 || d.Answer[0] != "www.example.org. 60 IN A 192.0.2.1" || d.ServersContacted != 1) {
			t.Errorf("answer: %+v", d)
		}
	}
	now := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	b, err := json.Marshal(report.FromInfra([]cache.InfraEntry{
		{Addr: netip.MustParseAddr("192.0.2.1"), Zone: "example.org.", SRTT: 12 * time.Millisecond, RTO: 376 * time.Millisecond, Updated: now},
		{Addr: netip.MustParseAddr("2001:db8::1"), Lame: true, LameUntil: now.Add(time.Minute), Timeouts: 3},
	}))
	if err != nil {
		t.Fatal(err)
	}
	reporttest.Validate(t, reporttest.Infra, b)
	b, _ = json.Marshal(report.FromInfra(nil))
	if string(b) != `{"servers":[]}` {
		t.Errorf("empty table: %s", b)
	}
}
