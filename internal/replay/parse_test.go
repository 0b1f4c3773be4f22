package replay

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// All snippets below are synthetic, written for these tests.

func mustParse(t *testing.T, s string) *Scenario {
	t.Helper()
	sc, err := Parse(strings.NewReader(s), "test.rpl")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return sc
}

// body wraps scenario lines in a minimal file.
func body(lines string) string {
	return "CONFIG_END\nSCENARIO_BEGIN synthetic test\n" + lines + "\nSCENARIO_END\n"
}

func TestParseConfig(t *testing.T) {
	sc := mustParse(t, `; a comment line
	stub-addr: 192.0.2.1 # the root
	stub-name: "ns.example."
	do-ip6: no
	do-ip4: 'YES'
	trust-anchor: ". IN DS 12345 RSASHA256 2 0123456789ABCDEF 0123456789abcdef"
	trust-anchor: "example.org. 3600 IN DNSKEY 257 3 8 ( AwEAAc== ) ; a key"
	val-override-date: "20200102030405"
	query-minimization: off ; still off, the ; comment is dropped
	harden-glue: off
	do-not-query-localhost: 0
	domain-insecure: insecure.example
	forward-addr: 2001:db8::1
	force-ipv6: True
	features: min_ttl = 5; max_ttl=600
	features: dns64_prefix=64:ff9b::
	feature-list: policy=x
;	target-fetch-policy: "0 0 0 0 0"
CONFIG_END
SCENARIO_BEGIN config test
SCENARIO_END
`)
	c := sc.Config
	if c.StubAddr != netip.MustParseAddr("192.0.2.1") || c.StubName != "ns.example." {
		t.Errorf("stub = %v %q", c.StubAddr, c.StubName)
	}
	if !c.DoIP4 || c.DoIP6 || c.HardenGlue || c.DoNotQueryLocalhost || !c.ForceIPv6 {
		t.Errorf("booleans = %+v", c)
	}
	if len(c.TrustAnchors) != 2 {
		t.Fatalf("trust anchors = %v", c.TrustAnchors)
	}
	ds, ok := c.TrustAnchors[0].(*dns.DS)
	if !ok || ds.Algorithm != dns.RSASHA256 || !strings.EqualFold(ds.Digest, "0123456789abcdef0123456789abcdef") {
		t.Errorf("DS = %v", c.TrustAnchors[0])
	}
	if k, ok := c.TrustAnchors[1].(*dns.DNSKEY); !ok || k.Flags != 257 || k.Hdr.Name != "example.org." {
		t.Errorf("DNSKEY = %v", c.TrustAnchors[1])
	}
	if want := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC); !c.Now.Equal(want) {
		t.Errorf("Now = %v, want %v", c.Now, want)
	}
	if c.QueryMinimization != QMinOff || !slices.Equal(c.Modes(), []bool{false}) {
		t.Errorf("qmin = %v, modes %v", c.QueryMinimization, c.Modes())
	}
	if !slices.Equal(c.DomainInsecure, []string{"insecure.example."}) || c.ForwardAddr != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("domain-insecure %v forward %v", c.DomainInsecure, c.ForwardAddr)
	}
	if c.Features["min_ttl"] != "5" || c.Features["max_ttl"] != "600" || c.Features["dns64_prefix"] != "64:ff9b::" {
		t.Errorf("features = %v", c.Features)
	}
	if !slices.Equal(c.FeatureList, []string{"policy=x"}) || len(c.Lines) != 16 {
		t.Errorf("feature-list %v, %d lines", c.FeatureList, len(c.Lines))
	}
}

func TestParseConfigDefaultsAndModes(t *testing.T) {
	sc := mustParse(t, body(""))
	c := sc.Config
	if !c.DoIP4 || !c.DoIP6 || !c.HardenGlue || !c.DoNotQueryLocalhost || c.ForceIPv6 {
		t.Errorf("defaults = %+v", c)
	}
	if c.StubName != "k.root-servers.net." || !c.Now.IsZero() || c.QueryMinimization != QMinUnset {
		t.Errorf("defaults = %+v", c)
	}
	if !slices.Equal(c.Modes(), []bool{true, false}) {
		t.Errorf("modes = %v", c.Modes())
	}
	for _, tc := range []struct {
		value string
		want  QMin
		modes []bool
	}{
		{"on", QMinOn, []bool{true}},
		{"yes", QMinOn, []bool{true}},
		{"1", QMinOn, []bool{true}},
		{"no", QMinOff, []bool{false}},
		{"whatever", QMinOff, []bool{false}},
	} {
		sc := mustParse(t, "query-minimization: "+tc.value+"\n"+body(""))
		if sc.Config.QueryMinimization != tc.want || !slices.Equal(sc.Config.Modes(), tc.modes) {
			t.Errorf("%q: got %v %v", tc.value, sc.Config.QueryMinimization, sc.Config.Modes())
		}
	}
	for value, want := range map[string]bool{"true": true, "TRUE": true, "on": false, "yes": false} {
		if got := mustParse(t, "force-ipv6: "+value+"\n"+body("")).Config.ForceIPv6; got != want {
			t.Errorf("force-ipv6: %s = %v, want %v (Deckard only accepts true)", value, got, want)
		}
	}
	sc = mustParse(t, "val-override-timestamp: \"1500000000\"\n"+body(""))
	if !sc.Config.Now.Equal(time.Unix(1500000000, 0)) || sc.Config.Now.Location() != time.UTC {
		t.Errorf("timestamp = %v", sc.Config.Now)
	}
	// No CONFIG section at all.
	if sc := mustParse(t, "SCENARIO_BEGIN x\nSCENARIO_END\n"); sc.Title != "x" {
		t.Errorf("title = %q", sc.Title)
	}
}

func TestParseStructure(t *testing.T) {
	sc := mustParse(t, body(`
RANGE_BEGIN 0 100 192.0.2.1
	ADDRESS 2001:db8::53
	ADDRESS ::ffff:192.0.2.2
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
example.org. IN A
SECTION ANSWER
example.org. IN A 192.0.2.10
ENTRY_END
RANGE_END
STEP 1 QUERY
ENTRY_BEGIN
REPLY RD DO
SECTION QUESTION
www.example.org. A
ENTRY_END
STEP 2 CHECK_ANSWER
ENTRY_BEGIN
MATCH all
REPLY QR RD RA NXDOMAIN
ENTRY_END
RANGE_BEGIN 5 10
RANGE_END
STEP 3 TIME_PASSES ELAPSE 42
STEP 4 REPLY
ENTRY_BEGIN
MATCH opcode
ENTRY_END
STEP 5 CHECK_OUT_QUERY
ENTRY_BEGIN
ENTRY_END
`))
	if sc.Title != "synthetic test" || len(sc.Ranges) != 2 || len(sc.Steps) != 5 {
		t.Fatalf("got %q, %d ranges, %d steps", sc.Title, len(sc.Ranges), len(sc.Steps))
	}
	r := sc.Ranges[0]
	wantAddrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("192.0.2.2")}
	if r.From != 0 || r.To != 100 || !slices.Equal(r.Addresses, wantAddrs) || len(r.Entries) != 1 {
		t.Errorf("range = %+v", r)
	}
	if !r.Active(0) || !r.Active(100) || r.Active(101) {
		t.Error("Active bounds are not inclusive")
	}
	if len(sc.Ranges[1].Addresses) != 0 || len(sc.Ranges[1].Entries) != 0 {
		t.Errorf("range 2 = %+v", sc.Ranges[1])
	}
	types := []StepType{StepQuery, StepCheckAnswer, StepTimePasses, StepReply, StepCheckOutQuery}
	for i, st := range sc.Steps {
		if st.Type != types[i] || st.ID != i+1 {
			t.Errorf("step %d = %v %v", i, st.ID, st.Type)
		}
		if (st.Entry == nil) != (st.Type == StepTimePasses) {
			t.Errorf("step %d entry = %v", st.ID, st.Entry)
		}
	}
	if sc.Steps[2].Elapse != 42*time.Second {
		t.Errorf("elapse = %v", sc.Steps[2].Elapse)
	}
	q := sc.Steps[0].Entry
	if !q.DO || !q.Msg.RecursionDesired || q.Msg.Response || q.Msg.Question[0] != (dns.Question{Name: "www.example.org.", Qtype: dns.TypeA, Qclass: dns.ClassINET}) {
		t.Errorf("query entry = %+v", q.Msg)
	}
	if opt := q.Msg.IsEdns0(); opt == nil || opt.UDPSize() != 4096 || opt.Version() != 0 || !opt.Do() {
		t.Errorf("query OPT = %v", opt)
	}
	if e := sc.Steps[1].Entry; !e.HasMatch(MatchAdditional) || e.HasMatch(MatchEDNS) || e.Msg.Rcode != dns.RcodeNameError {
		t.Errorf("check entry = %+v", e)
	}
	if e := sc.Steps[4].Entry; e.Match != nil {
		t.Errorf("entry without MATCH has Match %v", e.Match)
	}
}

func TestParseEntry(t *testing.T) {
	sc := mustParse(t, body(`
RANGE_BEGIN 0 10
ENTRY_BEGIN
MANDATORY
TSIG hmac.example. c2VjcmV0
MATCH opcode subdomain
MATCH edns
ADJUST copy_id copy_query
FLAGS QR TC CD AD BADVERS
SECTION QUESTION
Example.ORG CH TXT
SECTION ANSWER
sub.example.org IN TXT "a ; not a comment" ; a comment
example.org. 300 IN NS ns.Example.org.
example.org. IN TYPE65280 \# 3 010203
example.org. IN A \# 4 C0000201
example.org. IN A \# 3 010203
SECTION AUTHORITY
example.org. IN DS 1 RSASHA1 1 ( 0123456789abcdef0123 456789abcdef01234567 )
example.org. IN NSEC z.example.org. TXT A NS A
SECTION ADDITIONAL
example.org. IN RRSIG A 8 2 300 20300101000000 20200101000000 1 example.org. AAAA==
RAW
00 01 0203
ENTRY_END
RANGE_END
`))
	e := sc.Ranges[0].Entries[0]
	if !e.Mandatory || e.TSIG == nil || *e.TSIG != (TSIG{"hmac.example.", "c2VjcmV0"}) {
		t.Errorf("mandatory %v tsig %v", e.Mandatory, e.TSIG)
	}
	if !slices.Equal(e.Match, []string{"opcode", "subdomain", "edns"}) || !slices.Equal(e.Adjust, []string{"copy_id", "copy_query"}) {
		t.Errorf("match %v adjust %v", e.Match, e.Adjust)
	}
	h := e.Msg.MsgHdr
	if !h.Response || !h.Truncated || !h.CheckingDisabled || !h.AuthenticatedData || h.Authoritative || e.Msg.Rcode != dns.RcodeBadVers {
		t.Errorf("header = %+v", h)
	}
	if opt := e.Msg.IsEdns0(); opt == nil || opt.ExtendedRcode() != dns.RcodeBadVers {
		t.Errorf("OPT = %v", opt)
	}
	if q := e.Msg.Question[0]; q.Name != "Example.ORG." || q.Qclass != dns.ClassCHAOS || q.Qtype != dns.TypeTXT {
		t.Errorf("question = %v", q)
	}
	an := e.Msg.Answer
	if len(an) != 5 {
		t.Fatalf("answer = %v", an)
	}
	if txt := an[0].(*dns.TXT); txt.Hdr.Name != "sub.example.org." || txt.Hdr.Ttl != 3600 || txt.Txt[0] != "a ; not a comment" {
		t.Errorf("TXT = %v", txt)
	}
	if ns := an[1].(*dns.NS); ns.Hdr.Ttl != 300 || ns.Ns != "ns.Example.org." {
		t.Errorf("NS = %v", ns)
	}
	if g, ok := an[2].(*dns.RFC3597); !ok || g.Rdata != "010203" {
		t.Errorf("unknown type = %#v", an[2])
	}
	if a, ok := an[3].(*dns.A); !ok || a.A.String() != "192.0.2.1" {
		t.Errorf("generic A = %#v", an[3])
	}
	if g, ok := an[4].(*dns.RFC3597); !ok || g.Rdata != "010203" || g.Hdr.Rrtype != dns.TypeA {
		t.Errorf("invalid generic A = %#v, want it kept as RFC3597", an[4])
	}
	ds := e.Msg.Ns[0].(*dns.DS)
	if ds.Algorithm != dns.RSASHA1 || !strings.EqualFold(ds.Digest, "0123456789abcdef0123456789abcdef01234567") {
		t.Errorf("DS = %v", ds)
	}
	if nsec := e.Msg.Ns[1].(*dns.NSEC); !slices.Equal(nsec.TypeBitMap, []uint16{dns.TypeA, dns.TypeNS, dns.TypeTXT}) {
		t.Errorf("NSEC bitmap = %v, want sorted and deduplicated", nsec.TypeBitMap)
	}
	if len(e.Msg.Extra) != 2 || e.Msg.Extra[1].Header().Rrtype != dns.TypeOPT {
		t.Errorf("additional = %v", e.Msg.Extra)
	}
	if !slices.Equal(e.Raw, []byte{0, 1, 2, 3}) {
		t.Errorf("raw = %x", e.Raw)
	}
	if _, err := e.Msg.Pack(); err != nil {
		t.Errorf("entry does not pack: %v", err)
	}
	sc2 := mustParse(t, body(`
RANGE_BEGIN 0 1
ENTRY_BEGIN
SECTION ANSWER
example.org. IN RRSIG A 8 2 300 20300101000000 20200101000000 1 example.org. QUJD==
ENTRY_END
RANGE_END`))
	if len(sc2.Notes) != 1 || !strings.Contains(sc2.Notes[0], "test.rpl:7: RRSIG Signature") {
		t.Errorf("notes = %q", sc2.Notes)
	}
	if s := sc2.Ranges[0].Entries[0].Msg.Answer[0].(*dns.RRSIG).Signature; s != "QUJD" {
		t.Errorf("signature = %q", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		want     string
	}{
		{"unknown config key", "unknown-key: 1\nCONFIG_END\n", 1, "unsupported CONFIG key"},
		{"config without colon", "stub-addr 1.2.3.4\n", 1, "without ':'"},
		{"bad stub-addr", "stub-addr: nope\n", 1, "stub-addr"},
		{"bad date", "val-override-date: 2020\n", 1, "val-override-date"},
		{"bad trust anchor type", "trust-anchor: \"example. IN A 192.0.2.1\"\n", 1, "DS or DNSKEY"},
		{"no title", "CONFIG_END\nSCENARIO_BEGIN\n", 2, "description"},
		{"no begin", "CONFIG_END\nSTEP 1 QUERY\n", 2, "expected SCENARIO_BEGIN"},
		{"truncated", body("")[:35], 2, "unexpected end of file"},
		{"after end", body("") + "STEP 1 QUERY\n", 5, "after SCENARIO_END"},
		{"dup step", body("STEP 1 TIME_PASSES ELAPSE 1\nSTEP 1 TIME_PASSES ELAPSE 1"), 4, "duplicate STEP id 1"},
		{"unknown step", body("STEP 1 NOTHING"), 3, `unsupported STEP type "NOTHING"`},
		{"time passes eval", body("STEP 1 TIME_PASSES EVAL ${x}"), 3, "ELAPSE"},
		{"step without entry", body("STEP 1 QUERY\nSTEP 2 QUERY"), 4, "needs an entry"},
		{"range args", body("RANGE_BEGIN 0"), 3, "RANGE_BEGIN"},
		{"range order", body("RANGE_BEGIN 5 1"), 3, "from 5 > to 1"},
		{"bad address", body("RANGE_BEGIN 0 1\nADDRESS 1.2.3"), 4, "bad address"},
		{"match token", body("STEP 1 QUERY\nENTRY_BEGIN\nMATCH nsid\nENTRY_END"), 5, `unknown MATCH token "nsid"`},
		{"adjust token", body("STEP 1 QUERY\nENTRY_BEGIN\nADJUST copy_everything\nENTRY_END"), 5, "unknown ADJUST token"},
		{"reply token", body("STEP 1 QUERY\nENTRY_BEGIN\nREPLY QUERY\nENTRY_END"), 5, "unknown REPLY token"},
		{"section order", body("STEP 1 QUERY\nENTRY_BEGIN\nSECTION ANSWER\nSECTION QUESTION\nENTRY_END"), 6, "out of order"},
		{"bad rr", body("STEP 1 QUERY\nENTRY_BEGIN\nSECTION ANSWER\nexample.org. IN A 300.1.1.1\nENTRY_END"), 6, `bad RR "example.org. IN A 300.1.1.1"`},
		{"directive", body("STEP 1 QUERY\nENTRY_BEGIN\nSECTION ANSWER\n$INCLUDE /etc/passwd\nENTRY_END"), 6, "directive"},
		{"bad question", body("STEP 1 QUERY\nENTRY_BEGIN\nSECTION QUESTION\nexample.org. IN BOGUS\nENTRY_END"), 6, "bad question"},
		{"rr outside section", body("STEP 1 QUERY\nENTRY_BEGIN\nexample.org. IN A 192.0.2.1\nENTRY_END"), 5, "unexpected"},
		{"bad raw", body("STEP 1 QUERY\nENTRY_BEGIN\nRAW\nzz\nENTRY_END"), 6, "RAW"},
		{"raw without hex", body("STEP 1 QUERY\nENTRY_BEGIN\nRAW\nENTRY_END"), 6, "hex"},
		{"mandatory in step", body("STEP 1 QUERY\nENTRY_BEGIN\nMANDATORY\nENTRY_END"), 6, "MANDATORY"},
		{"two rcodes", body("STEP 1 QUERY\nENTRY_BEGIN\nREPLY NOERROR\nREPLY SERVFAIL\nENTRY_END"), 6, "more than one rcode"},
		{"tsig args", body("STEP 1 QUERY\nENTRY_BEGIN\nTSIG k\nENTRY_END"), 5, "TSIG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), "bad.rpl")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.File != "bad.rpl" || pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (line %d), want line %d and %q", err, pe.Line, tc.line, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "replay: bad.rpl:") {
				t.Errorf("err = %q lacks the file:line prefix", err)
			}
		})
	}
}
