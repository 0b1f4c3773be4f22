package replay

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// Scenario is one parsed .rpl file.
type Scenario struct {
	// File is the name given to Parse (usually the file path).
	File string
	// Title is the free text after SCENARIO_BEGIN.
	Title  string
	Config Config
	// Ranges are the scripted authoritative servers, in file order.
	Ranges []*Range
	// Steps are the steps, in file order.
	Steps []*Step
	// Notes lists, as "file:line: text", the records Parse read leniently
	// (see normalizeRR in rr.go), for the runner to report.
	Notes []string
}

// QMin is the tri-state query-minimization setting.
type QMin int

// Values of QMin.
const (
	QMinUnset QMin = iota // run the scenario with minimisation on and off
	QMinOn                // run only with minimisation on
	QMinOff               // run only with minimisation off
)

func (q QMin) String() string {
	switch q {
	case QMinOn:
		return "on"
	case QMinOff:
		return "off"
	default:
		return "unset"
	}
}

// Config holds the CONFIG section. Zero values of optional keys mean "not
// set"; Parse fills in the documented defaults for the boolean switches.
type Config struct {
	// StubAddr is the address of the single root server hint (stub-addr).
	StubAddr netip.Addr
	// StubName is the owner name of the root NS in the hints, fully
	// qualified (stub-name, default "k.root-servers.net.").
	StubName string
	// DoIP4 and DoIP6 allow upstream queries over IPv4/IPv6 (default true).
	DoIP4, DoIP6 bool
	// TrustAnchors are the DS or DNSKEY records given by trust-anchor lines.
	TrustAnchors []dns.RR
	// Now is the initial fake wall-clock time (val-override-date or
	// val-override-timestamp), in UTC; zero means "real time".
	Now time.Time
	// QueryMinimization is the query-minimization key.
	QueryMinimization QMin
	// HardenGlue: trust only in-bailiwick glue (default true).
	HardenGlue bool
	// DoNotQueryLocalhost: never query 127.0.0.0/8 or ::1 learned from
	// delegations (default true).
	DoNotQueryLocalhost bool
	// DomainInsecure are negative trust anchors, fully qualified.
	DomainInsecure []string
	// ForwardAddr, if valid, forwards all queries to this address.
	ForwardAddr netip.Addr
	// ForceIPv6 forces IPv6 sockets (default false).
	ForceIPv6 bool
	// Features are the key/value pairs of all features lines (kresd only).
	Features map[string]string
	// FeatureList are the feature-list lines (kresd only), verbatim.
	FeatureList []string
	// Lines are all config key/value pairs in file order, after comment
	// and quote stripping, for keys the runner wants to inspect itself.
	Lines []ConfigLine

	notes []string // parser notes, moved to Scenario.Notes
}

// ConfigLine is one key/value line of the CONFIG section.
type ConfigLine struct {
	Line       int
	Key, Value string
}

// Modes returns the QNAME minimisation modes the scenario must be run in:
// both (on, then off) when query-minimization is unset, otherwise the one set.
func (c *Config) Modes() []bool {
	switch c.QueryMinimization {
	case QMinOn:
		return []bool{true}
	case QMinOff:
		return []bool{false}
	default:
		return []bool{true, false}
	}
}

// Range is a scripted authoritative server active for a span of steps.
type Range struct {
	Line     int
	From, To int // active while From <= step <= To
	// Addresses the range answers for; empty means any address.
	Addresses []netip.Addr
	Entries   []*Entry
}

// Active reports whether the range is active during step.
func (r *Range) Active(step int) bool { return r.From <= step && step <= r.To }

// StepType is the type of a STEP.
type StepType int

// Step types accepted by Deckard's grammar.
const (
	StepQuery StepType = iota + 1
	StepCheckAnswer
	StepTimePasses
	StepReply
	StepCheckOutQuery
)

var stepTypeNames = map[StepType]string{
	StepQuery:         "QUERY",
	StepCheckAnswer:   "CHECK_ANSWER",
	StepTimePasses:    "TIME_PASSES",
	StepReply:         "REPLY",
	StepCheckOutQuery: "CHECK_OUT_QUERY",
}

func (t StepType) String() string {
	if s, ok := stepTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("StepType(%d)", int(t))
}

// Step is one STEP of the scenario.
type Step struct {
	Line int
	ID   int
	Type StepType
	// Elapse is the TIME_PASSES ELAPSE amount.
	Elapse time.Duration
	// Entry is the step's message; nil for TIME_PASSES.
	Entry *Entry
}

// Match tokens (MATCH line).
const (
	MatchOpcode     = "opcode"
	MatchQtype      = "qtype"
	MatchQname      = "qname"
	MatchQcase      = "qcase"
	MatchSubdomain  = "subdomain"
	MatchFlags      = "flags"
	MatchRcode      = "rcode"
	MatchQuestion   = "question"
	MatchAnswer     = "answer"
	MatchAuthority  = "authority"
	MatchAdditional = "additional"
	MatchAll        = "all"
	MatchEDNS       = "edns"
)

// Adjust tokens (ADJUST line).
const (
	AdjustCopyID      = "copy_id"
	AdjustCopyQuery   = "copy_query"
	AdjustRawID       = "raw_id"
	AdjustDoNotAnswer = "do_not_answer"
)

var (
	matchTokens = []string{MatchOpcode, MatchQtype, MatchQname, MatchQcase, MatchSubdomain,
		MatchFlags, MatchRcode, MatchQuestion, MatchAnswer, MatchAuthority, MatchAdditional,
		MatchAll, MatchEDNS}
	adjustTokens = []string{AdjustCopyID, AdjustCopyQuery, AdjustRawID, AdjustDoNotAnswer}
)

// TSIG is an entry's TSIG line, kept but not used by this package.
type TSIG struct {
	KeyName, Secret string
}

// Entry is one ENTRY_BEGIN … ENTRY_END block: a DNS message template plus
// metadata. Entries are immutable after Parse; copy Msg before changing it.
type Entry struct {
	Line      int
	Mandatory bool
	TSIG      *TSIG
	// Match holds the MATCH tokens in file order; nil if there is no MATCH
	// line (the entry then matches anything).
	Match []string
	// Adjust holds the ADJUST tokens in file order.
	Adjust []string
	// Flags holds the REPLY/FLAGS tokens verbatim, in file order.
	Flags []string
	// DO is set when the REPLY line carries DO.
	DO bool
	// Msg is the message: header flags, rcode (extended), opcode QUERY, the
	// sections, and an OPT record (version 0, payload 4096, DO per the
	// REPLY line) last in Extra. Its ID is 0.
	Msg *dns.Msg
	// Raw holds the RAW bytes, if any.
	Raw []byte
}

// HasMatch reports whether tok is among the entry's MATCH tokens, either
// directly or through question/all.
func (e *Entry) HasMatch(tok string) bool {
	return slices.Contains(expandMatch(e.Match), tok)
}

// HasAdjust reports whether tok is among the entry's ADJUST tokens.
func (e *Entry) HasAdjust(tok string) bool { return slices.Contains(e.Adjust, tok) }

// expandMatch expands the aliases question and all into their parts,
// keeping order and dropping duplicates.
func expandMatch(toks []string) []string {
	var out []string
	add := func(ts ...string) {
		for _, t := range ts {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	for _, t := range toks {
		switch t {
		case MatchQuestion:
			add(MatchQtype, MatchQname)
		case MatchAll:
			add(MatchOpcode, MatchQtype, MatchQname, MatchFlags, MatchRcode,
				MatchAnswer, MatchAuthority, MatchAdditional)
		default:
			add(t)
		}
	}
	return out
}
