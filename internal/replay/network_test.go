package replay

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

var (
	addr1   = netip.MustParseAddr("192.0.2.1")
	addr2   = netip.MustParseAddr("192.0.2.2")
	addr6   = netip.MustParseAddr("2001:db8::1")
	unknown = netip.MustParseAddr("198.51.100.7")
)

func networkFrom(t *testing.T, lines string) *Network {
	t.Helper()
	nw := NewNetwork(mustParse(t, body(lines)))
	nw.newID = func() uint16 { return 0xbeef }
	return nw
}

// query builds a resolver's upstream query; edns < 0 means no EDNS.
func query(name string, qtype uint16, edns int, do bool) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = false
	q.Id = 0x1234
	if edns >= 0 {
		q.SetEdns0(1232, do)
		q.IsEdns0().SetVersion(uint8(edns))
	}
	return q
}

// answerEntry is a range entry answering name/type with an A record.
func answerEntry(match, adjust, name, rdata string) string {
	s := "ENTRY_BEGIN\n"
	if match != "" {
		s += "MATCH " + match + "\n"
	}
	if adjust != "" {
		s += "ADJUST " + adjust + "\n"
	}
	return s + "REPLY QR AA NOERROR\nSECTION QUESTION\n" + name + " IN A\nSECTION ANSWER\n" + name + " IN A " + rdata + "\nENTRY_END\n"
}

// answerAddr returns the A rdata of resp's first answer, or a reason.
func answerAddr(t *testing.T, resp *dns.Msg) string {
	t.Helper()
	if resp == nil {
		return "no response"
	}
	if resp.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[resp.Rcode]
	}
	if len(resp.Answer) == 0 {
		return "no answer"
	}
	return resp.Answer[0].(*dns.A).A.String()
}

func TestRangeSelection(t *testing.T) {
	nw := networkFrom(t, `
RANGE_BEGIN 0 10 192.0.2.1
`+answerEntry("opcode qtype qname", "copy_id", "a.example.", "192.0.2.101")+`
RANGE_END
RANGE_BEGIN 0 10
	ADDRESS 192.0.2.2
	ADDRESS 2001:db8::1
`+answerEntry("opcode qtype qname", "copy_id", "a.example.", "192.0.2.102")+answerEntry("opcode qtype qname", "copy_id", "b.example.", "192.0.2.103")+`
RANGE_END
RANGE_BEGIN 11 20
`+answerEntry("opcode qtype qname", "copy_id", "a.example.", "192.0.2.104")+`
RANGE_END
RANGE_BEGIN 0 20
`+answerEntry("opcode qtype qname", "copy_id", "b.example.", "192.0.2.105")+`
RANGE_END
`)
	for _, tc := range []struct {
		name string
		step int
		to   netip.Addr
		q    string
		want string
	}{
		{"listed address", 5, addr1, "a.example.", "192.0.2.101"},
		{"second address of a range", 5, addr2, "a.example.", "192.0.2.102"},
		{"IPv6 address", 5, addr6, "A.EXAMPLE.", "192.0.2.102"},
		{"4in6 address is unmapped", 5, netip.AddrFrom16(addr2.As16()), "a.example.", "192.0.2.102"},
		{"unknown address selects any: first active range wins", 5, unknown, "a.example.", "192.0.2.101"},
		{"no fall-through to a later range", 5, addr1, "b.example.", "SERVFAIL"},
		{"unknown address: no fall-through either", 5, unknown, "b.example.", "SERVFAIL"},
		{"second entry of the range", 5, addr2, "b.example.", "192.0.2.103"},
		{"known address skips ranges of other addresses", 15, addr1, "b.example.", "SERVFAIL"},
		{"range without address answers a known address", 15, addr2, "a.example.", "192.0.2.104"},
		{"upper bound inclusive", 10, addr1, "a.example.", "192.0.2.101"},
		{"lower bound inclusive", 11, addr1, "a.example.", "192.0.2.104"},
		{"no active range", 21, addr1, "a.example.", "SERVFAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw, drop, err := nw.Reply(tc.step, tc.to, query(tc.q, dns.TypeA, 0, false))
			if err != nil || raw != nil || drop {
				t.Fatalf("Reply: %v %x %v", err, raw, drop)
			}
			if got := answerAddr(t, resp); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if got := len(nw.Undefined()); got != 4 {
		t.Errorf("%d undefined answers, want 4: %v", got, nw.Undefined())
	}
}

func TestFirstMatchingEntryWins(t *testing.T) {
	nw := networkFrom(t, `
RANGE_BEGIN 0 10
`+answerEntry("opcode qtype qname", "copy_id", "a.example.", "192.0.2.1")+
		answerEntry("opcode subdomain", "copy_id copy_query", "example.", "192.0.2.2")+
		answerEntry("", "copy_id", "any.example.", "192.0.2.3")+`
RANGE_END
`)
	for q, want := range map[string]string{"a.example.": "192.0.2.1", "x.a.example.": "192.0.2.2", "other.net.": "192.0.2.3"} {
		resp, _, _, _ := nw.Reply(1, unknown, query(q, dns.TypeA, 0, false))
		if got := answerAddr(t, resp); got != want {
			t.Errorf("%s: got %s, want %s", q, got, want)
		}
	}
	if len(nw.Undefined()) != 0 {
		t.Errorf("undefined: %v", nw.Undefined())
	}
}

func TestAdjust(t *testing.T) {
	nw := networkFrom(t, `
RANGE_BEGIN 0 10 192.0.2.1
`+answerEntry("qname", "copy_id", "id.example.", "192.0.2.1")+
		answerEntry("qname", "", "noid.example.", "192.0.2.2")+
		answerEntry("qname", "copy_query", "query.example.", "192.0.2.3")+`
ENTRY_BEGIN
MATCH qname
ADJUST copy_id
REPLY QR BADCOOKIE
SECTION QUESTION
ext.example. IN A
ENTRY_END
ENTRY_BEGIN
MATCH qname
REPLY QR DO
SECTION QUESTION
tmpl.example. IN A
ENTRY_END
RANGE_END
`)
	t.Run("copy_id copies the ID and the qname case", func(t *testing.T) {
		resp, _, _, _ := nw.Reply(1, addr1, query("Id.ExAmple.", dns.TypeAAAA, 0, false))
		if resp.Id != 0x1234 || resp.Question[0].Name != "Id.ExAmple." || resp.Question[0].Qtype != dns.TypeA {
			t.Errorf("resp = %v", resp)
		}
	})
	t.Run("without copy_id the ID is not the query's", func(t *testing.T) {
		resp, _, _, _ := nw.Reply(1, addr1, query("NoId.example.", dns.TypeA, 0, true))
		if resp.Id != 0xbeef || resp.Question[0].Name != "noid.example." {
			t.Errorf("resp = %v", resp)
		}
		// No mirroring: the template's EDNS (payload 4096, no DO).
		if opt := resp.IsEdns0(); opt == nil || opt.UDPSize() != 4096 || opt.Do() {
			t.Errorf("OPT = %v", opt)
		}
	})
	t.Run("a random ID never equals the query's", func(t *testing.T) {
		q := query("noid.example.", dns.TypeA, 0, false)
		q.Id = 0xbeef // what newID returns in these tests
		if resp, _, _, _ := nw.Reply(1, addr1, q); resp.Id == q.Id {
			t.Errorf("answer ID = query ID %#x", resp.Id)
		}
	})
	t.Run("copy_query replaces the question", func(t *testing.T) {
		resp, _, _, _ := nw.Reply(1, addr1, query("QUERY.example.", dns.TypeMX, 0, false))
		if resp.Id != 0xbeef || len(resp.Question) != 1 || resp.Question[0].Name != "QUERY.example." || resp.Question[0].Qtype != dns.TypeMX {
			t.Errorf("resp = %v", resp)
		}
	})
	t.Run("EDNS mirrors the query", func(t *testing.T) {
		resp, _, _, _ := nw.Reply(1, addr1, query("id.example.", dns.TypeA, 0, true))
		if opt := resp.IsEdns0(); opt == nil || !opt.Do() || opt.Version() != 0 || opt.UDPSize() != 1232 {
			t.Errorf("OPT = %v", opt)
		}
		resp, _, _, _ = nw.Reply(1, addr1, query("id.example.", dns.TypeA, 1, false))
		if opt := resp.IsEdns0(); opt == nil || opt.Do() || opt.Version() != 1 {
			t.Errorf("OPT = %v", opt)
		}
		resp, _, _, _ = nw.Reply(1, addr1, query("id.example.", dns.TypeA, -1, false))
		if opt := resp.IsEdns0(); opt != nil {
			t.Errorf("query without EDNS, answer OPT = %v", opt)
		}
	})
	t.Run("template DO without mirroring", func(t *testing.T) {
		resp, _, _, _ := nw.Reply(1, addr1, query("tmpl.example.", dns.TypeA, -1, false))
		if opt := resp.IsEdns0(); opt == nil || !opt.Do() {
			t.Errorf("OPT = %v", opt)
		}
	})
	t.Run("extended rcode preserved through the wire", func(t *testing.T) {
		m, err := nw.Exchange(t.Context(), query("ext.example.", dns.TypeA, 0, true), "udp", netip.AddrPortFrom(addr1, 53))
		if err != nil {
			t.Fatal(err)
		}
		if m.Rcode != dns.RcodeBadCookie || !m.IsEdns0().Do() {
			t.Errorf("resp = %v", m)
		}
	})
	t.Run("ExchangeWire packs message answers", func(t *testing.T) {
		qb, _ := query("Id.example.", dns.TypeA, 0, true).Pack()
		b, err := nw.ExchangeWire(t.Context(), qb, "udp", netip.AddrPortFrom(addr1, 53))
		m := new(dns.Msg)
		if err != nil || m.Unpack(b) != nil || m.Id != 0x1234 || m.Question[0].Name != "Id.example." || !m.IsEdns0().Do() {
			t.Errorf("ExchangeWire = %v, %v", m, err)
		}
	})
	t.Run("templates are not mutated", func(t *testing.T) {
		e := nw.Scenario().Ranges[0].Entries[0]
		if e.Msg.Id != 0 || e.Msg.Question[0].Name != "id.example." {
			t.Errorf("template = %v", e.Msg)
		}
	})
}

func TestRawAndDrop(t *testing.T) {
	good := new(dns.Msg)
	good.SetQuestion("raw.example.", dns.TypeA)
	good.Response = true
	wire, _ := good.Pack()
	hexs := strings.ToUpper(strings.TrimSpace(hexString(wire)))
	nw := networkFrom(t, `
RANGE_BEGIN 0 10
ENTRY_BEGIN
MATCH qname
ADJUST raw_id
SECTION QUESTION
raw.example. IN A
RAW
`+hexs+`
ENTRY_END
ENTRY_BEGIN
MATCH qname
SECTION QUESTION
garbage.example. IN A
RAW
00ff00
ENTRY_END
ENTRY_BEGIN
MATCH qname
ADJUST copy_id do_not_answer
SECTION QUESTION
drop.example. IN A
ENTRY_END
RANGE_END
`)
	ctx := context.Background()
	server := netip.AddrPortFrom(addr1, 53)
	_, raw, drop, err := nw.Reply(1, addr1, query("raw.example.", dns.TypeA, 0, false))
	if err != nil || drop || binary.BigEndian.Uint16(raw) != 0x1234 || !slices.Equal(raw[2:], wire[2:]) {
		t.Errorf("raw_id: %x %v %v", raw, drop, err)
	}
	if m, err := nw.Exchange(ctx, query("raw.example.", dns.TypeA, 0, false), "tcp", server); err != nil || m.Id != 0x1234 || !m.Response {
		t.Errorf("Exchange raw: %v %v", m, err)
	}
	_, raw, _, _ = nw.Reply(1, addr1, query("garbage.example.", dns.TypeA, 0, false))
	if !slices.Equal(raw, []byte{0, 0xff, 0}) {
		t.Errorf("garbage raw = %x", raw)
	}
	if _, err := nw.Exchange(ctx, query("garbage.example.", dns.TypeA, 0, false), "udp", server); !errors.Is(err, ErrGarbage) {
		t.Errorf("Exchange garbage: %v, want ErrGarbage", err)
	}
	qb, _ := query("garbage.example.", dns.TypeA, 0, false).Pack()
	if b, err := nw.ExchangeWire(ctx, qb, "udp", server); err != nil || !slices.Equal(b, []byte{0, 0xff, 0}) {
		t.Errorf("ExchangeWire garbage: %x %v", b, err)
	}
	qb, _ = query("drop.example.", dns.TypeA, 0, false).Pack()
	if _, err := nw.ExchangeWire(ctx, qb, "tcp", server); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("ExchangeWire drop: %v", err)
	}
	if _, err := nw.ExchangeWire(ctx, []byte{1}, "udp", server); err == nil {
		t.Error("ExchangeWire accepted a broken query")
	}
	resp, raw, drop, err := nw.Reply(1, addr1, query("drop.example.", dns.TypeA, 0, false))
	if resp != nil || raw != nil || !drop || err != nil {
		t.Errorf("do_not_answer: %v %x %v %v", resp, raw, drop, err)
	}
	_, err = nw.Exchange(ctx, query("drop.example.", dns.TypeA, 0, false), "udp", server)
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, ErrDropped) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Exchange drop: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := nw.Exchange(cctx, query("raw.example.", dns.TypeA, 0, false), "udp", server); !errors.Is(err, context.Canceled) {
		t.Errorf("Exchange with a cancelled context: %v", err)
	}
	if len(nw.Undefined()) != 0 {
		t.Errorf("undefined: %v", nw.Undefined())
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestReplySteps(t *testing.T) {
	nw := networkFrom(t, `
RANGE_BEGIN 100 200 192.0.2.1
`+answerEntry("qname", "copy_id", "a.example.", "192.0.2.200")+`
RANGE_END
STEP 10 QUERY
ENTRY_BEGIN
SECTION QUESTION
a.example. IN A
ENTRY_END
STEP 20 REPLY
`+answerEntry("opcode qtype qname", "copy_id", "a.example.", "192.0.2.20")+`
STEP 30 REPLY
`+answerEntry("opcode qtype qname", "copy_id", "a.example.", "192.0.2.30")+`
STEP 40 REPLY
`+answerEntry("opcode qtype qname", "copy_id", "b.example.", "192.0.2.40"))
	ask := func(step int, to netip.Addr, name string) string {
		resp, _, _, _ := nw.Reply(step, to, query(name, dns.TypeA, 0, false))
		return answerAddr(t, resp)
	}
	for i, tc := range []struct {
		step int
		to   netip.Addr
		name string
		want string
	}{
		{10, unknown, "a.example.", "192.0.2.20"},      // first pending REPLY step
		{10, addr2, "a.example.", "192.0.2.30"},        // one-shot: the next one
		{10, unknown, "a.example.", "SERVFAIL"},        // both consumed
		{150, addr2, "a.example.", "192.0.2.200"},      // unknown address: the active range
		{150, addr1, "b.example.", "SERVFAIL"},         // range eligible: REPLY steps not consulted
		{41, unknown, "b.example.", "SERVFAIL"},        // REPLY step 40 is in the past
		{40, netip.Addr{}, "b.example.", "192.0.2.40"}, // id >= current step
	} {
		if got := ask(tc.step, tc.to, tc.name); got != tc.want {
			t.Errorf("query %d (step %d %s): got %s, want %s", i, tc.step, tc.name, got, tc.want)
		}
	}
	u := nw.Undefined()
	if len(u) != 3 {
		t.Fatalf("undefined = %v", u)
	}
	if s := u[0].String(); !strings.Contains(s, "step 10") || !strings.Contains(s, "a.example. IN A") || !strings.Contains(s, "no range is active") {
		t.Errorf("undefined[0] = %s", s)
	}
	if s := u[1].String(); !strings.Contains(s, "no entry of the range at line 4 (steps 100-200) matches") {
		t.Errorf("undefined[1] = %s", s)
	}
}

func TestMandatory(t *testing.T) {
	nw := networkFrom(t, `
RANGE_BEGIN 0 10
ENTRY_BEGIN
MANDATORY
MATCH qname
SECTION QUESTION
m.example. IN A
ENTRY_END
`+answerEntry("qname", "", "other.example.", "192.0.2.1")+`
RANGE_END
`)
	e := nw.Scenario().Ranges[0].Entries[0]
	if got := nw.UnfiredMandatory(); len(got) != 1 || got[0] != e {
		t.Fatalf("unfired = %v", got)
	}
	nw.Reply(1, addr1, query("other.example.", dns.TypeA, 0, false))
	if len(nw.UnfiredMandatory()) != 1 {
		t.Error("mandatory entry fired by another entry's query")
	}
	nw.Reply(1, addr1, query("M.example.", dns.TypeA, 0, false))
	if len(nw.UnfiredMandatory()) != 0 || nw.Fired(e) != 1 {
		t.Errorf("unfired after firing = %v, fired %d", nw.UnfiredMandatory(), nw.Fired(e))
	}
}

func TestNetworkConcurrent(t *testing.T) {
	nw := networkFrom(t, `
RANGE_BEGIN 0 100
`+answerEntry("qname", "copy_id", "a.example.", "192.0.2.1")+`
RANGE_END
STEP 1 REPLY
`+answerEntry("qname", "copy_id", "b.example.", "192.0.2.2"))
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			nw.SetStep(1 + i%50)
			name := "a.example."
			if i%2 == 1 {
				name = "b.example." // undefined: the range is eligible
			}
			if _, err := nw.Exchange(t.Context(), query(name, dns.TypeA, 0, false), "udp", netip.AddrPortFrom(addr1, 53)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(nw.Undefined()); got != 32 {
		t.Errorf("%d undefined, want 32", got)
	}
	if got := nw.Fired(nw.Scenario().Ranges[0].Entries[0]); got != 32 {
		t.Errorf("fired %d, want 32", got)
	}
}

func TestDescribeQuery(t *testing.T) {
	got := DescribeQuery(query("www.Example.org.", dns.TypeAAAA, 0, true))
	want := "id 4660 QUERY www.Example.org. IN AAAA flags none, EDNS0 payload 1232 DO"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
