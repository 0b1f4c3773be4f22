package replay

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// entryFrom parses lines as the body of one synthetic entry.
func entryFrom(t *testing.T, lines string) *Entry {
	t.Helper()
	sc := mustParse(t, body("STEP 1 CHECK_ANSWER\nENTRY_BEGIN\n"+lines+"\nENTRY_END"))
	return sc.Steps[0].Entry
}

// msgFrom builds a message from entry syntax, as a resolver reply would be:
// through the wire format.
func msgFrom(t *testing.T, lines string) *dns.Msg {
	t.Helper()
	b, err := entryFrom(t, lines).Msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckTokens(t *testing.T) {
	const q = "SECTION QUESTION\nwww.example.org. IN A\n"
	for _, tc := range []struct {
		name      string
		expected  string
		got       string
		mismatch  string // "" means Check passes; else the failed token
		inMessage string
	}{
		{"no match line accepts anything", "REPLY QR\n" + q, "REPLY NXDOMAIN", "", ""},
		{"opcode", "MATCH opcode\n" + q, q, "", ""},
		{"qtype same", "MATCH qtype\n" + q, "SECTION QUESTION\nWWW.example.org. IN A", "", ""},
		{"qtype differs", "MATCH qtype\n" + q, "SECTION QUESTION\nwww.example.org. IN AAAA", "qtype", `got "www.example.org. IN AAAA"`},
		{"qtype neither has question", "MATCH qtype", "", "", ""},
		{"qtype only one has question", "MATCH qtype\n" + q, "", "qtype", "got no question"},
		{"qname case-insensitive", "MATCH qname\n" + q, "SECTION QUESTION\nWwW.ExAmPlE.oRg. IN A", "", ""},
		{"qname differs", "MATCH qname\n" + q, "SECTION QUESTION\nexample.org. IN A", "qname", ""},
		{"qcase same", "MATCH qcase\nSECTION QUESTION\nWwW.example.org. IN A", "SECTION QUESTION\nWwW.example.org. IN A", "", ""},
		{"qcase differs", "MATCH qcase\nSECTION QUESTION\nWwW.example.org. IN A", "SECTION QUESTION\nwww.example.org. IN A", "qcase", ""},
		{"subdomain equal", "MATCH subdomain\nSECTION QUESTION\nexample.org. IN NS", "SECTION QUESTION\nEXAMPLE.org. IN A", "", ""},
		{"subdomain below", "MATCH subdomain\nSECTION QUESTION\nexample.org. IN NS", q, "", ""},
		{"subdomain outside", "MATCH subdomain\nSECTION QUESTION\nexample.org. IN NS", "SECTION QUESTION\nexample.net. IN A", "subdomain", ""},
		{"subdomain no expected question", "MATCH subdomain", q, "", ""},
		{"subdomain got no question is root", "MATCH subdomain\nSECTION QUESTION\n. IN NS", "", "", ""},
		{"subdomain got no question not below", "MATCH subdomain\nSECTION QUESTION\norg. IN NS", "", "subdomain", ""},
		{"flags exact", "MATCH flags\nREPLY QR RD RA DO", "REPLY QR RD RA", "", ""},
		{"flags extra AA", "MATCH flags\nREPLY QR RD RA", "REPLY QR AA RD RA", "flags", `expected "QR RD RA", got "QR AA RD RA"`},
		{"flags missing AD", "MATCH flags\nREPLY QR RD RA AD CD", "REPLY QR RD RA CD", "flags", ""},
		{"flags TC", "MATCH flags\nREPLY QR TC", "REPLY QR", "flags", ""},
		{"rcode", "MATCH rcode\nREPLY NXDOMAIN", "REPLY NXDOMAIN AA", "", ""},
		{"rcode differs", "MATCH rcode\nREPLY NXDOMAIN", "REPLY SERVFAIL", "rcode", "expected NXDOMAIN, got SERVFAIL"},
		{"rcode extended", "MATCH rcode\nREPLY BADCOOKIE", "REPLY BADCOOKIE", "", ""},
		{"rcode extended differs", "MATCH rcode\nREPLY BADVERS", "REPLY NOERROR", "rcode", "expected BADVERS"},
		{"question", "MATCH question\n" + q, "SECTION QUESTION\nwww.example.org. IN TXT", "qtype", ""},
		{"answer multiset", "MATCH answer\nSECTION ANSWER\na.example. 1 IN A 192.0.2.1\na.example. IN A 192.0.2.2\nb.example. IN NS NS.Example.",
			"SECTION ANSWER\nB.EXAMPLE. 7 IN NS ns.example.\nA.example. IN A 192.0.2.2\na.example. 99 IN A 192.0.2.1", "", ""},
		{"answer counts duplicates", "MATCH answer\nSECTION ANSWER\na.example. IN A 192.0.2.1\na.example. IN A 192.0.2.1",
			"SECTION ANSWER\na.example. IN A 192.0.2.1", "answer", "expected 2 RRs, got 1 RR"},
		{"answer extra", "MATCH answer\nSECTION ANSWER\na.example. IN A 192.0.2.1",
			"SECTION ANSWER\na.example. IN A 192.0.2.1\na.example. IN A 192.0.2.9", "answer", "+ unexpected: a.example. IN A 192.0.2.9"},
		{"answer rdata differs", "MATCH answer\nSECTION ANSWER\na.example. IN A 192.0.2.1", "SECTION ANSWER\na.example. IN A 192.0.2.2", "answer", "- missing:    a.example. IN A 192.0.2.1\n    + unexpected: a.example. IN A 192.0.2.2"},
		{"answer must be empty", "MATCH answer", "SECTION ANSWER\na.example. IN A 192.0.2.1", "answer", "expected 0 RRs, got 1 RR"},
		{"answer class differs", "MATCH answer\nSECTION ANSWER\na.example. IN TXT \"x\"", "SECTION ANSWER\na.example. CH TXT \"x\"", "answer", ""},
		{"answer txt case-sensitive", "MATCH answer\nSECTION ANSWER\na.example. IN TXT \"x\"", "SECTION ANSWER\na.example. IN TXT \"X\"", "answer", ""},
		{"answer rdata names case-insensitive", "MATCH answer\nSECTION ANSWER\nx.example. IN SOA NS.example. Host.Example. 1 2 3 4 5\nx.example. IN RRSIG SOA 8 2 300 20300101000000 20200101000000 1 X.EXAMPLE. AAAA",
			"SECTION ANSWER\nx.example. IN SOA ns.example. host.example. 1 2 3 4 5\nx.example. IN RRSIG SOA 8 2 300 20300101000000 20200101000000 1 x.example. AAAA", "", ""},
		{"answer signature case-sensitive", "MATCH answer\nSECTION ANSWER\nx.example. IN RRSIG SOA 8 2 300 20300101000000 20200101000000 1 x.example. AAAA",
			"SECTION ANSWER\nx.example. IN RRSIG SOA 8 2 300 20300101000000 20200101000000 1 x.example. aaaa", "answer", ""},
		{"answer DS digest hex case", "MATCH answer\nSECTION ANSWER\nx.example. IN DS 1 8 2 abcdef",
			"SECTION ANSWER\nx.example. IN DS 1 RSASHA256 2 ABCDEF", "", ""},
		{"authority", "MATCH authority\nSECTION AUTHORITY\nexample. IN SOA a. b. 1 2 3 4 5", "SECTION AUTHORITY\nEXAMPLE. IN SOA A. B. 1 2 3 4 5", "", ""},
		{"authority missing", "MATCH authority\nSECTION AUTHORITY\nexample. IN SOA a. b. 1 2 3 4 5", "", "authority", ""},
		{"additional ignores OPT", "MATCH additional\nREPLY DO\nSECTION ADDITIONAL\nns.example. IN A 192.0.2.1", "SECTION ADDITIONAL\nns.example. IN A 192.0.2.1", "", ""},
		{"additional differs", "MATCH additional", "SECTION ADDITIONAL\nns.example. IN A 192.0.2.1", "additional", ""},
		{"edns equal", "MATCH edns", "REPLY DO", "", ""},
		{"all", "MATCH all\nREPLY QR RD RA NOERROR\n" + q + "SECTION ANSWER\nwww.example.org. IN A 192.0.2.1",
			"REPLY QR RD RA\nSECTION QUESTION\nWWW.example.org. IN A\nSECTION ANSWER\nwww.example.org. 5 IN A 192.0.2.1", "", ""},
		{"all includes authority", "MATCH all\n" + q, q + "SECTION AUTHORITY\nexample.org. IN NS ns.example.org.", "authority", ""},
		{"all excludes qcase", "MATCH all\n" + q, "SECTION QUESTION\nWWW.example.org. IN A", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(entryFrom(t, tc.expected), msgFrom(t, tc.got))
			if tc.mismatch == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var me *MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("Check = %v, want a *MismatchError", err)
			}
			if me.Mismatches[0].Token != tc.mismatch {
				t.Errorf("failed token %q, want %q in:\n%v", me.Mismatches[0].Token, tc.mismatch, err)
			}
			if !strings.Contains(err.Error(), tc.inMessage) {
				t.Errorf("message lacks %q:\n%v", tc.inMessage, err)
			}
		})
	}
}

func TestCheckEDNS(t *testing.T) {
	e := entryFrom(t, "MATCH edns")
	m := new(dns.Msg)
	if err := Check(e, m); err == nil || !strings.Contains(err.Error(), "got no EDNS") {
		t.Errorf("no EDNS: %v", err)
	}
	m.SetEdns0(1232, false)
	if err := Check(e, m); err == nil || !strings.Contains(err.Error(), "payload 4096, got EDNS version 0 payload 1232") {
		t.Errorf("payload: %v", err)
	}
	m.SetEdns0(4096, true)
	m.IsEdns0().SetVersion(1)
	if err := Check(e, m); err == nil || !strings.Contains(err.Error(), "got EDNS version 1") {
		t.Errorf("version: %v", err)
	}
}

func TestCheckReportsAllTokens(t *testing.T) {
	e := entryFrom(t, "MATCH all\nREPLY QR RD RA NXDOMAIN\nSECTION QUESTION\nexample. IN A")
	got := msgFrom(t, "REPLY QR RD NOERROR\nSECTION QUESTION\nexample. IN A\nSECTION ANSWER\nexample. IN A 192.0.2.1")
	err := Check(e, got)
	var me *MismatchError
	if !errors.As(err, &me) || len(me.Mismatches) != 3 {
		t.Fatalf("Check = %v, want 3 mismatches", err)
	}
	msg := err.Error()
	for _, want := range []string{"entry at line 4", "flags: expected", "rcode: expected NXDOMAIN, got NOERROR", "answer: expected 0 RRs, got 1 RR\n    + unexpected: example. IN A 192.0.2.1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestCheckRawAndNil(t *testing.T) {
	if err := Check(entryFrom(t, "MATCH all"), nil); !errors.Is(err, ErrNoReply) {
		t.Errorf("nil reply: %v", err)
	}
	m := new(dns.Msg)
	m.Id = 0x0102
	b, _ := m.Pack()
	var hexs strings.Builder
	for _, c := range b {
		hexs.WriteString(strings.ToUpper(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])))
	}
	if err := Check(entryFrom(t, "RAW\n"+hexs.String()), m); err != nil {
		t.Errorf("raw equal: %v", err)
	}
	m.Id = 3
	if err := Check(entryFrom(t, "RAW\n"+hexs.String()), m); err == nil || !strings.Contains(err.Error(), "RAW: expected 0102") {
		t.Errorf("raw differs: %v", err)
	}
}
