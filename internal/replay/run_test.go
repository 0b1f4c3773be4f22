package replay

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeResolver forwards each client query to the scripted network at
// 192.0.2.1, the way the real resolver will use Network.Exchange.
type fakeResolver struct {
	t        *testing.T
	nw       *Network
	steps    []int // nw.Step() seen by each Query
	advanced []time.Duration
	raw      [][]byte
	block    bool // Query waits for the context to end
}

func (f *fakeResolver) Query(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	f.steps = append(f.steps, f.nw.Step())
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	up := new(dns.Msg)
	up.SetQuestion(q.Question[0].Name, q.Question[0].Qtype)
	up.RecursionDesired = false
	up.SetEdns0(1232, true)
	resp, err := f.nw.Exchange(ctx, up, "udp", netip.AddrPortFrom(addr1, 53))
	if err != nil {
		return nil, err
	}
	out := new(dns.Msg)
	out.SetRcode(q, resp.Rcode)
	out.RecursionAvailable = true
	out.Answer = resp.Answer
	return out, nil
}

func (f *fakeResolver) QueryRaw(ctx context.Context, b []byte) error {
	f.raw = append(f.raw, b)
	return nil
}

func (f *fakeResolver) Advance(d time.Duration) { f.advanced = append(f.advanced, d) }

const runRange = `
RANGE_BEGIN 0 100 192.0.2.1
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
www.example. IN A
SECTION ANSWER
www.example. IN A 192.0.2.80
ENTRY_END
ENTRY_BEGIN
MANDATORY
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NXDOMAIN
SECTION QUESTION
nx.example. IN A
ENTRY_END
RANGE_END
`

const (
	queryWWW = "ENTRY_BEGIN\nREPLY RD\nSECTION QUESTION\nWWW.example. IN A\nENTRY_END\n"
	queryNX  = "ENTRY_BEGIN\nREPLY RD\nSECTION QUESTION\nnx.example. IN A\nENTRY_END\n"
	checkWWW = "ENTRY_BEGIN\nMATCH all qcase\nREPLY QR RD RA NOERROR\nSECTION QUESTION\nWWW.example. IN A\nSECTION ANSWER\nwww.example. IN A 192.0.2.80\nENTRY_END\n"
	checkNX  = "ENTRY_BEGIN\nMATCH all\nREPLY QR RD RA NXDOMAIN\nSECTION QUESTION\nnx.example. IN A\nENTRY_END\n"
)

func runScenario(t *testing.T, steps string, mutate func(*fakeResolver)) (Report, *fakeResolver) {
	t.Helper()
	nw := NewNetwork(mustParse(t, body(runRange+steps)))
	f := &fakeResolver{t: t, nw: nw}
	if mutate != nil {
		mutate(f)
	}
	r := Runner{QueryTimeout: 50 * time.Millisecond}
	return r.Run(t.Context(), nw, f), f
}

func TestRunPasses(t *testing.T) {
	rep, f := runScenario(t, "STEP 1 QUERY\n"+queryWWW+"STEP 2 CHECK_ANSWER\n"+checkWWW+
		"STEP 3 TIME_PASSES ELAPSE 30\nSTEP 4 QUERY\n"+queryNX+"STEP 5 CHECK_ANSWER\n"+checkNX+
		"STEP 6 QUERY\nENTRY_BEGIN\nRAW\n00010203\nENTRY_END\n"+
		"STEP 7 CHECK_OUT_QUERY\nENTRY_BEGIN\nENTRY_END\n", nil)
	if !rep.Passed || rep.Err() != nil || rep.StepsRun != 7 {
		t.Fatalf("report = %+v, err %v", rep, rep.Err())
	}
	if !slices.Equal(f.steps, []int{1, 4}) {
		t.Errorf("steps seen by the resolver = %v", f.steps)
	}
	if !slices.Equal(f.advanced, []time.Duration{30 * time.Second}) {
		t.Errorf("advanced = %v", f.advanced)
	}
	if len(f.raw) != 1 || !slices.Equal(f.raw[0], []byte{0, 1, 2, 3}) {
		t.Errorf("raw = %x", f.raw)
	}
}

func TestRunFailures(t *testing.T) {
	t.Run("check answer", func(t *testing.T) {
		rep, _ := runScenario(t, "STEP 1 QUERY\n"+queryNX+"STEP 2 CHECK_ANSWER\n"+checkWWW+"STEP 3 QUERY\n"+queryWWW, nil)
		if rep.Passed || rep.Failure == nil || rep.Failure.Step.ID != 2 || rep.StepsRun != 2 {
			t.Fatalf("report = %+v", rep)
		}
		var me *MismatchError
		if !errors.As(rep.Err(), &me) {
			t.Errorf("Err = %v, want a MismatchError inside", rep.Err())
		}
		for _, want := range []string{"step 2 CHECK_ANSWER (line", "rcode: expected NOERROR, got NXDOMAIN", "qcase"} {
			if !strings.Contains(rep.Err().Error(), want) {
				t.Errorf("Err lacks %q:\n%v", want, rep.Err())
			}
		}
	})
	t.Run("check after a raw query", func(t *testing.T) {
		rep, _ := runScenario(t, "STEP 1 QUERY\n"+queryNX+"STEP 2 QUERY\nENTRY_BEGIN\nRAW\n00\nENTRY_END\nSTEP 3 CHECK_ANSWER\n"+checkNX, nil)
		if rep.Passed || !errors.Is(rep.Err(), ErrNoReply) || rep.Failure.Step.ID != 3 {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("check without a reply", func(t *testing.T) {
		rep, _ := runScenario(t, "STEP 1 CHECK_ANSWER\n"+checkWWW+"STEP 2 QUERY\n"+queryNX, nil)
		if rep.Passed || !errors.Is(rep.Err(), ErrNoReply) {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("undefined answer and unfired mandatory", func(t *testing.T) {
		rep, _ := runScenario(t, "STEP 1 QUERY\nENTRY_BEGIN\nSECTION QUESTION\nother.example. IN A\nENTRY_END\n"+
			"STEP 2 CHECK_ANSWER\nENTRY_BEGIN\nMATCH rcode\nREPLY SERVFAIL\nENTRY_END\n", nil)
		if rep.Passed || rep.Failure != nil || len(rep.Undefined) != 1 || len(rep.UnfiredMandatory) != 1 {
			t.Fatalf("report = %+v", rep)
		}
		msg := rep.Err().Error()
		for _, want := range []string{"does not define all necessary answers", "other.example. IN A", "MANDATORY entry at line 14 never fired"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Err lacks %q:\n%s", want, msg)
			}
		}
	})
	t.Run("query timeout", func(t *testing.T) {
		rep, _ := runScenario(t, "STEP 1 QUERY\n"+queryNX, func(f *fakeResolver) { f.block = true })
		if rep.Passed || !errors.Is(rep.Err(), context.DeadlineExceeded) || !strings.Contains(rep.Err().Error(), "nx.example. IN A") {
			t.Errorf("Err = %v", rep.Err())
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		nw := NewNetwork(mustParse(t, body(runRange+"STEP 1 QUERY\n"+queryNX)))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		rep := Run(ctx, nw, &fakeResolver{t: t, nw: nw})
		if rep.Passed || !errors.Is(rep.Err(), context.Canceled) || rep.StepsRun != 0 {
			t.Errorf("report = %+v", rep)
		}
	})
}

func TestRunQueryMessage(t *testing.T) {
	sc := mustParse(t, body("STEP 1 QUERY\nENTRY_BEGIN\nREPLY RD CD DO\nSECTION QUESTION\nwww.example. IN A\nENTRY_END\n"))
	nw := NewNetwork(sc)
	var got *dns.Msg
	target := targetFunc(func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		got = q
		return new(dns.Msg), nil
	})
	r := Runner{NewID: func() uint16 { return 7 }}
	if rep := r.Run(t.Context(), nw, target); !rep.Passed {
		t.Fatal(rep.Err())
	}
	if got.Id != 7 || !got.RecursionDesired || !got.CheckingDisabled || got.Response {
		t.Errorf("query = %v", got)
	}
	if opt := got.IsEdns0(); opt == nil || !opt.Do() || opt.UDPSize() != 4096 {
		t.Errorf("query OPT = %v", opt)
	}
	if sc.Steps[0].Entry.Msg.Id != 0 {
		t.Error("the entry template was mutated")
	}
}

type targetFunc func(ctx context.Context, q *dns.Msg) (*dns.Msg, error)

func (f targetFunc) Query(ctx context.Context, q *dns.Msg) (*dns.Msg, error) { return f(ctx, q) }
func (f targetFunc) QueryRaw(context.Context, []byte) error                  { return nil }
func (f targetFunc) Advance(time.Duration)                                   {}
