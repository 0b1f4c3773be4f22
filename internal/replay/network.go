package replay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Network is the scripted upstream network of a scenario: it answers the
// resolver's queries from the scenario's ranges and REPLY steps, following
// Deckard's rules (FORMAT.md §8). It is safe for concurrent use.
type Network struct {
	sc *Scenario
	// known holds every address listed in any range.
	known map[netip.Addr]bool
	// step is the id of the step that is executing.
	step atomic.Int64

	// newID returns the ID of answers without copy_id.
	newID func() uint16

	// mu guards the following.
	mu         sync.Mutex
	replySteps []*Step // REPLY steps not yet consumed, in file order
	fired      map[*Entry]int
	undefined  []UndefinedAnswer
}

// UndefinedAnswer is a query the scenario has no answer for. Deckard fails
// the scenario if there is any.
type UndefinedAnswer struct {
	Step  int
	To    netip.Addr
	Query string // a one-line description of the query
	// Reason tells why no entry was chosen.
	Reason string
}

func (u UndefinedAnswer) String() string {
	return fmt.Sprintf("step %d: query to %s: %s: %s", u.Step, u.To, u.Query, u.Reason)
}

// NewNetwork builds the mock network of sc. The current step starts at the
// id of the first step (0 if there is none).
func NewNetwork(sc *Scenario) *Network {
	n := &Network{
		sc:    sc,
		known: map[netip.Addr]bool{},
		newID: func() uint16 { return uint16(rand.Uint32()) },
		fired: map[*Entry]int{},
	}
	for _, r := range sc.Ranges {
		for _, a := range r.Addresses {
			n.known[a] = true
		}
	}
	for _, st := range sc.Steps {
		if st.Type == StepReply {
			n.replySteps = append(n.replySteps, st)
		}
	}
	if len(sc.Steps) > 0 {
		n.SetStep(sc.Steps[0].ID)
	}
	return n
}

// Scenario returns the scenario the network was built from.
func (n *Network) Scenario() *Scenario { return n.sc }

// SetStep sets the id of the step that is executing; Exchange and
// ExchangeWire select ranges with it.
func (n *Network) SetStep(id int) { n.step.Store(int64(id)) }

// Step returns the id set by SetStep.
func (n *Network) Step() int { return int(n.step.Load()) }

// Reply answers query q sent to address to while step is executing. It
// returns either a message (resp) or, for RAW entries, the raw bytes with
// raw_id applied; drop is set for do_not_answer. A query the scenario does
// not define is answered with SERVFAIL and recorded (see Undefined). err is
// set only for an invalid call (nil query).
func (n *Network) Reply(step int, to netip.Addr, q *dns.Msg) (resp *dns.Msg, raw []byte, drop bool, err error) {
	if q == nil {
		return nil, nil, false, errors.New("replay: nil query")
	}
	to = to.Unmap()
	anyAddr := !n.known[to]
	for _, r := range n.sc.Ranges {
		if !r.Active(step) || !(anyAddr || len(r.Addresses) == 0 || slices.Contains(r.Addresses, to)) {
			continue
		}
		// The first eligible range wins; no fall-through.
		for _, e := range r.Entries {
			if e.matches(q) {
				n.mu.Lock()
				n.fired[e]++
				n.mu.Unlock()
				resp, raw, drop = n.answer(e, q)
				return resp, raw, drop, nil
			}
		}
		return n.undefinedAnswer(step, to, q, fmt.Sprintf("no entry of the range at line %d (steps %d-%d) matches", r.Line, r.From, r.To)), nil, false, nil
	}
	n.mu.Lock()
	for i, st := range n.replySteps {
		if st.ID >= step && st.Entry.matches(q) {
			n.replySteps = slices.Delete(n.replySteps, i, i+1)
			n.mu.Unlock()
			resp, raw, drop = n.answer(st.Entry, q)
			return resp, raw, drop, nil
		}
	}
	n.mu.Unlock()
	return n.undefinedAnswer(step, to, q, "no range is active for this address and no pending REPLY step matches"), nil, false, nil
}

func (n *Network) undefinedAnswer(step int, to netip.Addr, q *dns.Msg, reason string) *dns.Msg {
	n.mu.Lock()
	n.undefined = append(n.undefined, UndefinedAnswer{Step: step, To: to, Query: DescribeQuery(q), Reason: reason})
	n.mu.Unlock()
	m := new(dns.Msg)
	m.SetRcode(q, dns.RcodeServerFailure)
	return m
}

// answer builds e's reply to q (Deckard's Entry.reply / adjust_reply).
func (n *Network) answer(e *Entry, q *dns.Msg) (*dns.Msg, []byte, bool) {
	if e.HasAdjust(AdjustDoNotAnswer) {
		return nil, nil, true
	}
	if e.Raw != nil {
		b := slices.Clone(e.Raw)
		if e.HasAdjust(AdjustRawID) && len(b) >= 2 {
			binary.BigEndian.PutUint16(b, q.Id)
		}
		return nil, b, false
	}
	m := e.Msg.Copy()
	// Without copy_id the answer carries a random ID; it is made to differ
	// from the query's so that runs are reproducible (in Deckard a 1 in
	// 65536 collision would let the resolver accept it).
	if m.Id = n.newID(); m.Id == q.Id {
		m.Id ^= 0x8000
	}
	copyID, copyQuery := e.HasAdjust(AdjustCopyID), e.HasAdjust(AdjustCopyQuery)
	if copyID {
		m.Id = q.Id
		if len(m.Question) > 0 && len(q.Question) > 0 {
			m.Question[0].Name = q.Question[0].Name
		}
	}
	if copyQuery {
		m.Question = slices.Clone(q.Question)
	}
	if copyID || copyQuery {
		mirrorEDNS(m, q)
	}
	return m, nil, false
}

// mirroredPayload is the UDP payload size of a mirrored OPT record: Deckard
// calls dnspython's Message.use_edns without a payload, which then uses its
// DEFAULT_EDNS_PAYLOAD, 1232 since dnspython 2.0.
const mirroredPayload = 1232

// mirrorEDNS gives m the EDNS version and flags (DO included) of q, keeping
// m's options and extended rcode, with payload mirroredPayload; m gets no
// EDNS if q has none.
func mirrorEDNS(m, q *dns.Msg) {
	tmpl := m.IsEdns0()
	m.Extra = slices.DeleteFunc(m.Extra, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeOPT })
	qopt := q.IsEdns0()
	if qopt == nil {
		return
	}
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(mirroredPayload)
	if tmpl != nil {
		opt.Option = slices.Clone(tmpl.Option)
	}
	// TTL field: extended rcode (8 bits), version (8 bits), flags (16 bits).
	opt.Hdr.Ttl = qopt.Hdr.Ttl & 0x00FFFFFF
	opt.SetExtendedRcode(uint16(m.Rcode))
	m.Extra = append(m.Extra, opt)
}

// Undefined returns the queries answered with SERVFAIL because the scenario
// does not define them, in order.
func (n *Network) Undefined() []UndefinedAnswer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.undefined)
}

// Fired returns how many times e was chosen as an answer.
func (n *Network) Fired(e *Entry) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fired[e]
}

// UnfiredMandatory returns the MANDATORY range entries that never fired.
func (n *Network) UnfiredMandatory() []*Entry {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*Entry
	for _, r := range n.sc.Ranges {
		for _, e := range r.Entries {
			if e.Mandatory && n.fired[e] == 0 {
				out = append(out, e)
			}
		}
	}
	return out
}

// ErrDropped is returned (wrapped in a timeout error) by Exchange when the
// chosen entry says do_not_answer.
var ErrDropped = errors.New("replay: no answer (do_not_answer)")

// ErrGarbage is returned (wrapped) by Exchange when the scripted answer is
// RAW data that does not unpack as a DNS message.
var ErrGarbage = errors.New("replay: unparsable answer")

// timeoutError is a net.Error whose Timeout is true; it matches
// os.ErrDeadlineExceeded and ErrDropped with errors.Is.
type timeoutError struct{}

func (timeoutError) Error() string   { return "replay: i/o timeout (do_not_answer)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == os.ErrDeadlineExceeded || target == ErrDropped
}

// Exchange is the upstream transport seam for the resolver: it answers msg
// sent to server over network ("udp" or "tcp", answered alike) in the
// current step (see SetStep). The reply goes through the wire format, so the
// caller owns it. A dropped answer returns at once with a timeout error
// (errors.Is os.ErrDeadlineExceeded and ErrDropped, net.Error.Timeout true)
// instead of waiting; an unparsable RAW answer returns an error wrapping
// ErrGarbage. Use ExchangeWire to receive such bytes as they are.
func (n *Network) Exchange(ctx context.Context, msg *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp, raw, drop, err := n.Reply(n.Step(), server.Addr(), msg)
	if err != nil {
		return nil, err
	}
	if drop {
		return nil, timeoutError{}
	}
	if raw == nil {
		if raw, err = resp.Pack(); err != nil {
			return nil, fmt.Errorf("replay: packing the scripted answer: %w", err)
		}
	}
	m := new(dns.Msg)
	if err := m.Unpack(raw); err != nil {
		return nil, fmt.Errorf("%w from %s: %w", ErrGarbage, server, err)
	}
	return m, nil
}

// ExchangeWire is Exchange on wire format: the query is unpacked, and the
// answer is returned as bytes, RAW data verbatim (raw_id applied). A query
// that does not unpack is an error.
func (n *Network) ExchangeWire(ctx context.Context, query []byte, network string, server netip.AddrPort) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := new(dns.Msg)
	if err := q.Unpack(query); err != nil {
		return nil, fmt.Errorf("replay: unpacking the query: %w", err)
	}
	resp, raw, drop, err := n.Reply(n.Step(), server.Addr(), q)
	if err != nil {
		return nil, err
	}
	if drop {
		return nil, timeoutError{}
	}
	if raw != nil {
		return raw, nil
	}
	b, err := resp.Pack()
	if err != nil {
		return nil, fmt.Errorf("replay: packing the scripted answer: %w", err)
	}
	return b, nil
}

// DescribeQuery renders q on one line for failure messages, e.g.
// "id 4660 QUERY www.Example.com. IN A flags RD, EDNS0 payload 1232 DO".
func DescribeQuery(q *dns.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id %d %s", q.Id, opcodeString(q.Opcode))
	for _, qq := range q.Question {
		fmt.Fprintf(&b, " %s %s %s", qq.Name, dns.Class(qq.Qclass), dns.Type(qq.Qtype))
	}
	if len(q.Question) == 0 {
		b.WriteString(" (no question)")
	}
	flags := strings.Trim(flagsString(&q.MsgHdr), `"`)
	if flags == "" {
		flags = "none"
	}
	fmt.Fprintf(&b, " flags %s", flags)
	if opt := q.IsEdns0(); opt != nil {
		fmt.Fprintf(&b, ", EDNS%d payload %d", opt.Version(), opt.UDPSize())
		if opt.Do() {
			b.WriteString(" DO")
		}
	}
	return b.String()
}
