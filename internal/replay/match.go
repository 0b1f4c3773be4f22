package replay

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// Mismatch is one MATCH token that failed.
type Mismatch struct {
	// Token is the failed token (after expanding question and all).
	Token string
	// Expected and Got summarise both sides.
	Expected, Got string
	// For answer/authority/additional: Missing are the expected RRs not in
	// the reply, Unexpected the reply's RRs not expected (multiset
	// difference, normalised text: lower-case names, no TTL, sorted), and
	// Diff is a cmp.Diff (-expected +got) of both sorted sections.
	Missing, Unexpected []string
	Diff                string
}

func (m Mismatch) String() string {
	s := fmt.Sprintf("%s: expected %s, got %s", m.Token, m.Expected, m.Got)
	for _, rr := range m.Missing {
		s += "\n  - missing:    " + rr
	}
	for _, rr := range m.Unexpected {
		s += "\n  + unexpected: " + rr
	}
	return s
}

// MismatchError is returned by Check when the reply differs from the entry.
type MismatchError struct {
	// Line is the line of the expected entry.
	Line       int
	Mismatches []Mismatch
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "replay: reply does not match the entry at line %d:", e.Line)
	for _, m := range e.Mismatches {
		b.WriteString("\n  ")
		b.WriteString(strings.ReplaceAll(m.String(), "\n", "\n  "))
	}
	return b.String()
}

// ErrNoReply is returned by Check when there is no reply to check.
var ErrNoReply = errors.New("replay: no reply to check")

// Check compares got with expected using expected's MATCH tokens, with the
// CHECK_ANSWER semantics of Deckard: header flags QR AA TC RD RA AD CD as an
// exact set, the extended rcode, and sections as multisets of RRs with
// case-insensitive owners and rdata names, TTLs ignored and OPT/TSIG not part
// of additional. An entry without MATCH accepts anything. An entry with RAW
// data is compared byte for byte with got packed. It returns nil or a
// *MismatchError listing every failed token.
func Check(expected *Entry, got *dns.Msg) error {
	if got == nil {
		return ErrNoReply
	}
	if expected.Raw != nil {
		b, err := got.Pack()
		if err != nil {
			return fmt.Errorf("replay: packing the reply: %w", err)
		}
		if !bytes.Equal(b, expected.Raw) {
			return &MismatchError{Line: expected.Line, Mismatches: []Mismatch{{
				Token: "RAW", Expected: fmt.Sprintf("%x", expected.Raw), Got: fmt.Sprintf("%x", b)}}}
		}
		return nil
	}
	if ms := compare(expected, got, false); len(ms) > 0 {
		return &MismatchError{Line: expected.Line, Mismatches: ms}
	}
	return nil
}

// matches reports whether the query q passes all of e's MATCH tokens.
func (e *Entry) matches(q *dns.Msg) bool {
	return len(compare(e, q, true)) == 0
}

// compare evaluates e's MATCH tokens against got; with first set it stops
// at the first failure.
func compare(e *Entry, got *dns.Msg, first bool) []Mismatch {
	var out []Mismatch
	for _, tok := range expandMatch(e.Match) {
		if m, ok := matchToken(tok, e.Msg, got); !ok {
			out = append(out, m)
			if first {
				break
			}
		}
	}
	return out
}

func matchToken(tok string, exp, got *dns.Msg) (Mismatch, bool) {
	m := Mismatch{Token: tok}
	switch tok {
	case MatchOpcode:
		m.Expected, m.Got = opcodeString(exp.Opcode), opcodeString(got.Opcode)
		return m, exp.Opcode == got.Opcode
	case MatchQtype, MatchQname, MatchQcase:
		eq, gq := firstQuestion(exp), firstQuestion(got)
		m.Expected, m.Got = questionString(eq), questionString(gq)
		if eq == nil || gq == nil {
			return m, eq == nil && gq == nil
		}
		switch tok {
		case MatchQtype:
			return m, eq.Qtype == gq.Qtype
		case MatchQname:
			return m, strings.EqualFold(eq.Name, gq.Name)
		default:
			return m, eq.Name == gq.Name
		}
	case MatchSubdomain:
		eq, gq := firstQuestion(exp), firstQuestion(got)
		if eq == nil {
			return m, true
		}
		name := "."
		if gq != nil {
			name = gq.Name
		}
		m.Expected, m.Got = "a name at or below "+eq.Name, name
		return m, dns.IsSubDomain(eq.Name, name)
	case MatchFlags:
		m.Expected, m.Got = flagsString(&exp.MsgHdr), flagsString(&got.MsgHdr)
		return m, m.Expected == m.Got
	case MatchRcode:
		m.Expected, m.Got = rcodeString(exp.Rcode), rcodeString(got.Rcode)
		return m, exp.Rcode == got.Rcode
	case MatchAnswer:
		return compareSection(m, exp.Answer, got.Answer)
	case MatchAuthority:
		return compareSection(m, exp.Ns, got.Ns)
	case MatchAdditional:
		return compareSection(m, withoutMeta(exp.Extra), withoutMeta(got.Extra))
	case MatchEDNS:
		m.Expected, m.Got = ednsString(exp), ednsString(got)
		return m, m.Expected == m.Got
	}
	m.Expected, m.Got = "a known token", "unknown"
	return m, false
}

func firstQuestion(m *dns.Msg) *dns.Question {
	if len(m.Question) == 0 {
		return nil
	}
	return &m.Question[0]
}

func questionString(q *dns.Question) string {
	if q == nil {
		return "no question"
	}
	return fmt.Sprintf("%q", q.Name+" "+dns.Class(q.Qclass).String()+" "+dns.Type(q.Qtype).String())
}

func opcodeString(op int) string {
	if s, ok := dns.OpcodeToString[op]; ok {
		return s
	}
	return fmt.Sprintf("OPCODE%d", op)
}

func rcodeString(rc int) string {
	for name, v := range rcodes { // rcodes is small; prefer the canonical names
		if v == rc && name != "BADSIG" {
			return name
		}
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// flagsString renders the header flags compared by the flags token, in a
// fixed order.
func flagsString(h *dns.MsgHdr) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{
		{h.Response, "QR"}, {h.Authoritative, "AA"}, {h.Truncated, "TC"},
		{h.RecursionDesired, "RD"}, {h.RecursionAvailable, "RA"},
		{h.AuthenticatedData, "AD"}, {h.CheckingDisabled, "CD"},
	} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return fmt.Sprintf("%q", strings.Join(f, " "))
}

func ednsString(m *dns.Msg) string {
	opt := m.IsEdns0()
	if opt == nil {
		return "no EDNS"
	}
	return fmt.Sprintf("EDNS version %d payload %d", opt.Version(), opt.UDPSize())
}

// withoutMeta drops the pseudo-RRs (OPT, TSIG, SIG(0)) that are not part of
// the additional section in Deckard's (dnspython's) view.
func withoutMeta(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		switch rr.Header().Rrtype {
		case dns.TypeOPT, dns.TypeTSIG, dns.TypeSIG:
			continue
		}
		out = append(out, rr)
	}
	return out
}

// compareSection compares two sections as multisets of RRs.
func compareSection(m Mismatch, exp, got []dns.RR) (Mismatch, bool) {
	// pending holds, per key, the expected RRs not yet paired with a
	// received one.
	pending := map[string][]string{}
	et := make([]string, 0, len(exp))
	gt := make([]string, 0, len(got))
	for _, rr := range exp {
		k, t := rrKey(rr)
		pending[k] = append(pending[k], t)
		et = append(et, t)
	}
	for _, rr := range got {
		k, t := rrKey(rr)
		gt = append(gt, t)
		if p := pending[k]; len(p) > 0 {
			pending[k] = p[1:]
			continue
		}
		m.Unexpected = append(m.Unexpected, t)
	}
	for _, p := range pending {
		m.Missing = append(m.Missing, p...)
	}
	if len(m.Missing) == 0 && len(m.Unexpected) == 0 {
		return Mismatch{Token: m.Token}, true
	}
	slices.Sort(m.Missing)
	slices.Sort(m.Unexpected)
	slices.Sort(et)
	slices.Sort(gt)
	m.Expected, m.Got = rrCount(len(exp)), rrCount(len(got))
	m.Diff = strings.TrimRight(cmp.Diff(et, gt), "\n")
	return m, false
}

func rrCount(n int) string {
	if n == 1 {
		return "1 RR"
	}
	return fmt.Sprintf("%d RRs", n)
}
