package replay

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxLineBytes bounds one input line; the longest lines in the suite are
// RRSIG/DNSKEY records of a few hundred bytes, RAW packets stay under 64 KiB
// of wire data (128 KiB of hex).
const maxLineBytes = 1 << 18

// ParseError is a syntax or semantic error at a line of a scenario file.
type ParseError struct {
	File string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("replay: %s:%d: %v", e.File, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ParseFile reads and parses the scenario at path.
func ParseFile(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse parses a scenario; name is used in error messages and Scenario.File.
func Parse(r io.Reader, name string) (*Scenario, error) {
	p := &parser{
		sc: &Scenario{File: name, Config: Config{
			StubName:            "k.root-servers.net.",
			DoIP4:               true,
			DoIP6:               true,
			HardenGlue:          true,
			DoNotQueryLocalhost: true,
		}},
		stepIDs: map[int]bool{},
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLineBytes)
	for sc.Scan() {
		p.line++
		if err := p.feed(sc.Text()); err != nil {
			return nil, &ParseError{File: name, Line: p.line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: name, Line: p.line + 1, Err: err}
	}
	if p.state != stateEnd {
		return nil, &ParseError{File: name, Line: p.line, Err: fmt.Errorf("unexpected end of file in %s", p.state)}
	}
	return p.sc, nil
}

type parseState int

const (
	stateConfig parseState = iota
	stateBeforeScenario
	stateScenario
	stateRange
	stateStepEntry // a STEP that needs an ENTRY was read
	stateEntry
	stateEnd
)

func (s parseState) String() string {
	return [...]string{"CONFIG", "header (expecting SCENARIO_BEGIN)", "SCENARIO",
		"RANGE", "STEP (expecting ENTRY_BEGIN)", "ENTRY", "end"}[s]
}

// Entry sections, in the order they must appear.
const (
	secNone = iota
	secQuestion
	secAnswer
	secAuthority
	secAdditional
	secRaw
	secRawDone
)

type parser struct {
	sc      *Scenario
	line    int
	state   parseState
	rng     *Range
	step    *Step
	entry   *Entry
	parent  parseState // state to return to after ENTRY_END
	section int
	// rcodeSet tells whether the entry's REPLY lines gave an rcode.
	rcodeSet bool
	stepIDs  map[int]bool
}

func (p *parser) feed(raw string) error {
	if p.state == stateConfig {
		return p.configLine(raw)
	}
	line := strings.TrimSpace(stripComment(raw, true, false))
	if line == "" {
		return nil
	}
	f := strings.Fields(line)
	switch p.state {
	case stateBeforeScenario:
		return p.scenarioBegin(line, f)
	case stateScenario:
		return p.scenarioLine(f)
	case stateRange:
		return p.rangeLine(f)
	case stateStepEntry:
		if f[0] != "ENTRY_BEGIN" {
			return fmt.Errorf("STEP %d %s needs an entry, got %q", p.step.ID, p.step.Type, f[0])
		}
		p.beginEntry(stateScenario)
		return nil
	case stateEntry:
		return p.entryLine(line, f)
	case stateEnd:
		return fmt.Errorf("text after SCENARIO_END: %q", line)
	}
	return fmt.Errorf("internal: bad state %d", p.state)
}

// stripComment cuts s at the first ';' (if semicolon is set) or '#' (if
// hash is set) outside double quotes; a backslash escapes the next character.
func stripComment(s string, semicolon, hash bool) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case semicolon && c == ';', hash && c == '#':
			return s[:i]
		}
	}
	return s
}

func (p *parser) note(notes []string) {
	for _, n := range notes {
		p.sc.Notes = append(p.sc.Notes, fmt.Sprintf("%s:%d: %s", p.sc.File, p.line, n))
	}
}

func (p *parser) scenarioBegin(line string, f []string) error {
	if f[0] != "SCENARIO_BEGIN" {
		return fmt.Errorf("expected SCENARIO_BEGIN, got %q", f[0])
	}
	title := strings.TrimSpace(strings.TrimPrefix(line, "SCENARIO_BEGIN"))
	if title == "" {
		return errors.New("SCENARIO_BEGIN needs a description")
	}
	p.sc.Title = title
	p.state = stateScenario
	return nil
}

func (p *parser) scenarioLine(f []string) error {
	switch f[0] {
	case "SCENARIO_END":
		if len(f) != 1 {
			return fmt.Errorf("SCENARIO_END takes no arguments")
		}
		p.state = stateEnd
		return nil
	case "RANGE_BEGIN":
		return p.rangeBegin(f)
	case "STEP":
		return p.stepLine(f)
	}
	return fmt.Errorf("unexpected %q in SCENARIO", f[0])
}

func (p *parser) rangeBegin(f []string) error {
	if len(f) != 3 && len(f) != 4 {
		return fmt.Errorf("want RANGE_BEGIN <from> <to> [<addr>], got %d fields", len(f))
	}
	from, err1 := strconv.Atoi(f[1])
	to, err2 := strconv.Atoi(f[2])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("RANGE_BEGIN: %w", err)
	}
	if from > to {
		return fmt.Errorf("RANGE_BEGIN: from %d > to %d", from, to)
	}
	p.rng = &Range{Line: p.line, From: from, To: to}
	if len(f) == 4 {
		if err := p.addAddress(f[3]); err != nil {
			return err
		}
	}
	p.state = stateRange
	return nil
}

func (p *parser) addAddress(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return fmt.Errorf("bad address: %w", err)
	}
	p.rng.Addresses = append(p.rng.Addresses, a.Unmap())
	return nil
}

func (p *parser) rangeLine(f []string) error {
	switch f[0] {
	case "ADDRESS":
		if len(f) != 2 {
			return errors.New("want ADDRESS <ip>")
		}
		return p.addAddress(f[1])
	case "ENTRY_BEGIN":
		p.beginEntry(stateRange)
		return nil
	case "RANGE_END":
		p.sc.Ranges = append(p.sc.Ranges, p.rng)
		p.rng = nil
		p.state = stateScenario
		return nil
	}
	return fmt.Errorf("unexpected %q in RANGE", f[0])
}

var stepTypes = map[string]StepType{
	"QUERY":           StepQuery,
	"CHECK_ANSWER":    StepCheckAnswer,
	"TIME_PASSES":     StepTimePasses,
	"REPLY":           StepReply,
	"CHECK_OUT_QUERY": StepCheckOutQuery,
}

func (p *parser) stepLine(f []string) error {
	if len(f) < 3 {
		return errors.New("want STEP <id> <type>")
	}
	id, err := strconv.Atoi(f[1])
	if err != nil {
		return fmt.Errorf("STEP id: %w", err)
	}
	if p.stepIDs[id] {
		return fmt.Errorf("duplicate STEP id %d", id)
	}
	p.stepIDs[id] = true
	typ, ok := stepTypes[f[2]]
	if !ok {
		return fmt.Errorf("unsupported STEP type %q", f[2])
	}
	st := &Step{Line: p.line, ID: id, Type: typ}
	if typ == StepTimePasses {
		if len(f) != 5 || f[3] != "ELAPSE" {
			return errors.New("want STEP <id> TIME_PASSES ELAPSE <seconds>")
		}
		n, err := strconv.ParseUint(f[4], 10, 32)
		if err != nil {
			return fmt.Errorf("ELAPSE: %w", err)
		}
		st.Elapse = time.Duration(n) * time.Second
		p.sc.Steps = append(p.sc.Steps, st)
		return nil
	}
	if len(f) != 3 {
		return fmt.Errorf("STEP %s takes no arguments, got %q", f[2], strings.Join(f[3:], " "))
	}
	p.sc.Steps = append(p.sc.Steps, st)
	p.step = st
	p.state = stateStepEntry
	return nil
}

func (p *parser) beginEntry(parent parseState) {
	p.entry = &Entry{Line: p.line, Msg: new(dns.Msg)}
	p.parent = parent
	p.section = secNone
	p.rcodeSet = false
	p.state = stateEntry
}

func (p *parser) entryLine(line string, f []string) error {
	e := p.entry
	if p.section == secRaw {
		if len(f) == 1 && isKeyword(f[0]) {
			return errors.New("RAW needs a hex line")
		}
		b, err := hex.DecodeString(strings.Join(f, ""))
		if err != nil {
			return fmt.Errorf("RAW: %w", err)
		}
		e.Raw = b
		p.section = secRawDone
		return nil
	}
	switch f[0] {
	case "ENTRY_END":
		return p.endEntry()
	case "MANDATORY":
		e.Mandatory = true
		return nil
	case "TSIG":
		if len(f) != 3 {
			return errors.New("want TSIG <keyname> <secret>")
		}
		e.TSIG = &TSIG{KeyName: f[1], Secret: f[2]}
		return nil
	case "MATCH":
		for _, t := range f[1:] {
			if !slices.Contains(matchTokens, t) {
				return fmt.Errorf("unknown MATCH token %q", t)
			}
		}
		e.Match = append(e.Match, f[1:]...)
		if e.Match == nil {
			e.Match = []string{}
		}
		return nil
	case "ADJUST":
		for _, t := range f[1:] {
			if !slices.Contains(adjustTokens, t) {
				return fmt.Errorf("unknown ADJUST token %q", t)
			}
		}
		e.Adjust = append(e.Adjust, f[1:]...)
		return nil
	case "REPLY", "FLAGS":
		return p.flags(f[1:])
	case "SECTION":
		if len(f) != 2 {
			return errors.New("want SECTION QUESTION|ANSWER|AUTHORITY|ADDITIONAL")
		}
		s, ok := map[string]int{"QUESTION": secQuestion, "ANSWER": secAnswer,
			"AUTHORITY": secAuthority, "ADDITIONAL": secAdditional}[f[1]]
		if !ok {
			return fmt.Errorf("unknown SECTION %q", f[1])
		}
		if s <= p.section {
			return fmt.Errorf("SECTION %s out of order", f[1])
		}
		p.section = s
		return nil
	case "RAW":
		if len(f) != 1 {
			return errors.New("RAW takes its hex on the next line")
		}
		if p.section >= secRaw {
			return errors.New("duplicate RAW")
		}
		p.section = secRaw
		return nil
	}
	switch p.section {
	case secQuestion:
		q, err := parseQuestion(f)
		if err != nil {
			return err
		}
		e.Msg.Question = append(e.Msg.Question, q)
		return nil
	case secAnswer, secAuthority, secAdditional:
		rr, notes, err := parseRR(line, p.sc.File)
		if err != nil {
			return err
		}
		p.note(notes)
		switch p.section {
		case secAnswer:
			e.Msg.Answer = append(e.Msg.Answer, rr)
		case secAuthority:
			e.Msg.Ns = append(e.Msg.Ns, rr)
		default:
			e.Msg.Extra = append(e.Msg.Extra, rr)
		}
		return nil
	case secRawDone:
		return errors.New("RAW takes a single hex line")
	}
	return fmt.Errorf("unexpected %q in ENTRY", f[0])
}

func isKeyword(s string) bool {
	switch s {
	case "ENTRY_END", "MANDATORY", "TSIG", "MATCH", "ADJUST", "REPLY", "FLAGS", "SECTION", "RAW":
		return true
	}
	return false
}

// rcodes are the rcode mnemonics accepted on a REPLY line.
var rcodes = map[string]int{
	"NOERROR": dns.RcodeSuccess, "FORMERR": dns.RcodeFormatError,
	"SERVFAIL": dns.RcodeServerFailure, "NXDOMAIN": dns.RcodeNameError,
	"NOTIMP": dns.RcodeNotImplemented, "REFUSED": dns.RcodeRefused,
	"YXDOMAIN": dns.RcodeYXDomain, "YXRRSET": dns.RcodeYXRrset,
	"NXRRSET": dns.RcodeNXRrset, "NOTAUTH": dns.RcodeNotAuth,
	"NOTZONE": dns.RcodeNotZone, "BADVERS": dns.RcodeBadVers,
	"BADSIG": dns.RcodeBadSig, "BADKEY": dns.RcodeBadKey,
	"BADTIME": dns.RcodeBadTime, "BADMODE": dns.RcodeBadMode,
	"BADNAME": dns.RcodeBadName, "BADALG": dns.RcodeBadAlg,
	"BADTRUNC": dns.RcodeBadTrunc, "BADCOOKIE": dns.RcodeBadCookie,
}

func (p *parser) flags(toks []string) error {
	e := p.entry
	h := &e.Msg.MsgHdr
	for _, t := range toks {
		switch t {
		case "QR":
			h.Response = true
		case "AA":
			h.Authoritative = true
		case "TC":
			h.Truncated = true
		case "RD":
			h.RecursionDesired = true
		case "RA":
			h.RecursionAvailable = true
		case "AD":
			h.AuthenticatedData = true
		case "CD":
			h.CheckingDisabled = true
		case "DO":
			e.DO = true
		default:
			rc, ok := rcodes[t]
			if !ok {
				return fmt.Errorf("unknown REPLY token %q", t)
			}
			if p.rcodeSet {
				return fmt.Errorf("more than one rcode on REPLY lines (%q)", t)
			}
			p.rcodeSet = true
			h.Rcode = rc
		}
	}
	e.Flags = append(e.Flags, toks...)
	return nil
}

func (p *parser) endEntry() error {
	e := p.entry
	if p.section == secRaw {
		return errors.New("RAW needs a hex line")
	}
	if e.Mandatory && p.parent != stateRange {
		return errors.New("MANDATORY is only allowed in RANGE entries")
	}
	e.Msg.Opcode = dns.OpcodeQuery
	e.Msg.SetEdns0(defaultPayload, e.DO)
	if e.Msg.Rcode > 0xF {
		e.Msg.IsEdns0().SetExtendedRcode(uint16(e.Msg.Rcode))
	}
	p.entry = nil
	p.state = p.parent
	if p.parent == stateRange {
		p.rng.Entries = append(p.rng.Entries, e)
		return nil
	}
	p.step.Entry = e
	p.step = nil
	return nil
}

// defaultPayload is the EDNS UDP payload size of every entry message, as in
// Deckard.
const defaultPayload = 4096

// parseQuestion parses "<owner> [<ttl>] [<class>] <type>".
func parseQuestion(f []string) (dns.Question, error) {
	q := dns.Question{Qclass: dns.ClassINET}
	if _, ok := dns.IsDomainName(f[0]); !ok {
		return q, fmt.Errorf("bad question name %q", f[0])
	}
	q.Name = dns.Fqdn(f[0])
	rest := f[1:]
	if len(rest) > 0 {
		if _, err := strconv.ParseUint(rest[0], 10, 32); err == nil {
			rest = rest[1:] // a TTL, meaningless in a question
		}
	}
	if len(rest) > 1 {
		c, ok := parseClass(rest[0])
		if !ok {
			return q, fmt.Errorf("bad question class %q", rest[0])
		}
		q.Qclass = c
		rest = rest[1:]
	}
	if len(rest) != 1 {
		return q, fmt.Errorf("want <owner> [<class>] <type> in SECTION QUESTION, got %q", strings.Join(f, " "))
	}
	t, ok := parseType(rest[0])
	if !ok {
		return q, fmt.Errorf("bad question type %q", rest[0])
	}
	q.Qtype = t
	return q, nil
}

func parseType(s string) (uint16, bool) {
	s = strings.ToUpper(s)
	if t, ok := dns.StringToType[s]; ok {
		return t, true
	}
	if n, ok := strings.CutPrefix(s, "TYPE"); ok {
		v, err := strconv.ParseUint(n, 10, 16)
		return uint16(v), err == nil
	}
	return 0, false
}

func parseClass(s string) (uint16, bool) {
	s = strings.ToUpper(s)
	if c, ok := dns.StringToClass[s]; ok {
		return c, true
	}
	if n, ok := strings.CutPrefix(s, "CLASS"); ok {
		v, err := strconv.ParseUint(n, 10, 16)
		return uint16(v), err == nil
	}
	return 0, false
}
