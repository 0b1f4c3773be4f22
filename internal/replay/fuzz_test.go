package replay

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzParse feeds arbitrary text to Parse. Whatever parses must be usable:
// every entry checks against its own message, and the mock network answers
// a query without panicking.
func FuzzParse(f *testing.F) {
	// Synthetic seeds only; the real scenarios are never copied here.
	for _, s := range []string{
		body(""),
		"stub-addr: 192.0.2.1 # root\nquery-minimization: on ; x\nfeatures: a=1;b=2\n" +
			"trust-anchor: \". IN DS 1 RSASHA256 2 00ff 00FF\"\nval-override-date: 20200101000000\n" + body(""),
		body(runRange + "STEP 1 QUERY\n" + queryWWW + "STEP 2 CHECK_ANSWER\n" + checkWWW + "STEP 3 TIME_PASSES ELAPSE 5\n"),
		body("RANGE_BEGIN 0 9 192.0.2.1\nADDRESS 2001:db8::1\nENTRY_BEGIN\nMATCH opcode subdomain\nADJUST copy_id copy_query\n" +
			"REPLY QR BADVERS DO\nSECTION QUESTION\nexample. IN NS\nSECTION AUTHORITY\nexample. IN NS ns.example.\n" +
			"SECTION ADDITIONAL\nns.example. IN A \\# 4 c0000201\nENTRY_END\nRANGE_END\n"),
		body("STEP 1 REPLY\nENTRY_BEGIN\nMATCH all edns qcase\nADJUST raw_id\nRAW\n0001020304\nENTRY_END\n"),
		body("RANGE_BEGIN 0 1\nENTRY_BEGIN\nMANDATORY\nTSIG k. c2VjcmV0\nSECTION ANSWER\n" +
			"x. IN NSEC y. TXT A\nx. IN TXT \"a;b\" ; c\nx. IN DNSKEY 257 3 8 ( AwEAAQ== )\nENTRY_END\nRANGE_END\n"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sc, err := Parse(strings.NewReader(in), "fuzz.rpl")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "replay: fuzz.rpl:") {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		var entries []*Entry
		for _, r := range sc.Ranges {
			entries = append(entries, r.Entries...)
		}
		for _, st := range sc.Steps {
			if st.Entry != nil {
				entries = append(entries, st.Entry)
			}
		}
		for _, e := range entries {
			if e.Raw == nil {
				if err := Check(e, e.Msg); err != nil {
					t.Fatalf("entry at line %d does not check against itself: %v", e.Line, err)
				}
			}
			_, _ = e.Msg.Pack()
		}
		nw := NewNetwork(sc)
		q := new(dns.Msg)
		q.SetQuestion("www.example.", dns.TypeA)
		q.SetEdns0(1232, true)
		for _, st := range sc.Steps {
			nw.SetStep(st.ID)
			_, _, _, _ = nw.Reply(st.ID, netip.MustParseAddr("192.0.2.1"), q)
			_, _ = nw.Exchange(t.Context(), q, "udp", netip.MustParseAddrPort("[2001:db8::1]:53"))
		}
	})
}
