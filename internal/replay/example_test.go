package replay_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/internal/replay"
	"github.com/miekg/dns"
)

// A synthetic scenario: one scripted server and one query.
const exampleScenario = `stub-addr: 192.0.2.53
CONFIG_END
SCENARIO_BEGIN example
RANGE_BEGIN 0 100 192.0.2.53
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
www.example.org. IN A
SECTION ANSWER
www.example.org. IN A 192.0.2.80
ENTRY_END
RANGE_END
STEP 1 QUERY
ENTRY_BEGIN
REPLY RD
SECTION QUESTION
www.example.org. IN A
ENTRY_END
STEP 2 CHECK_ANSWER
ENTRY_BEGIN
MATCH all
REPLY QR RD RA NOERROR
SECTION QUESTION
www.example.org. IN A
SECTION ANSWER
www.example.org. IN A 192.0.2.80
ENTRY_END
SCENARIO_END
`

// stubResolver stands in for the resolver: it asks the root hint, through
// the scenario network, and relays the answer.
type stubResolver struct {
	upstream func(ctx context.Context, m *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error)
	root     netip.Addr
}

func (s *stubResolver) Query(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	up := new(dns.Msg)
	up.SetQuestion(q.Question[0].Name, q.Question[0].Qtype)
	resp, err := s.upstream(ctx, up, "udp", netip.AddrPortFrom(s.root, 53))
	if err != nil {
		return nil, err
	}
	out := new(dns.Msg)
	out.SetRcode(q, resp.Rcode)
	out.RecursionAvailable = true
	out.Answer = resp.Answer
	return out, nil
}

func (s *stubResolver) QueryRaw(context.Context, []byte) error { return nil }
func (s *stubResolver) Advance(time.Duration)                  {}

func Example() {
	sc, err := replay.Parse(strings.NewReader(exampleScenario), "example.rpl")
	if err != nil {
		fmt.Println(err)
		return
	}
	nw := replay.NewNetwork(sc)
	target := &stubResolver{upstream: nw.Exchange, root: sc.Config.StubAddr}
	for _, qmin := range sc.Config.Modes() {
		_ = qmin // a real runner configures the resolver for this mode
		rep := replay.Run(context.Background(), nw, target)
		fmt.Println("qmin", qmin, "passed", rep.Passed, "steps", rep.StepsRun)
		nw = replay.NewNetwork(sc) // a fresh network for the next run
		target.upstream = nw.Exchange
	}
	// Output:
	// qmin true passed true steps 2
	// qmin false passed true steps 2
}
