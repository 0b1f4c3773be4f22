package replay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Target is the resolver under test, as seen by the scenario driver.
type Target interface {
	// Query sends q to the resolver as a client query over UDP and
	// returns its reply.
	Query(ctx context.Context, q *dns.Msg) (*dns.Msg, error)
	// QueryRaw sends b to the resolver as a UDP datagram; no reply is
	// awaited.
	QueryRaw(ctx context.Context, b []byte) error
	// Advance moves the resolver's wall clock forward by d (TIME_PASSES).
	Advance(d time.Duration)
}

// DefaultQueryTimeout is how long a QUERY step waits for the reply:
// Deckard's SOCKET_OPERATION_TIMEOUT (5 s of wall time).
const DefaultQueryTimeout = 5 * time.Second

// Runner plays scenarios. The zero value is ready to use.
type Runner struct {
	// QueryTimeout bounds each QUERY step; zero means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// NewID returns the ID of each query sent; nil means random.
	NewID func() uint16
}

// StepFailure is the first step that failed.
type StepFailure struct {
	Step *Step
	Err  error
}

func (f *StepFailure) Error() string {
	return fmt.Sprintf("step %d %s (line %d): %v", f.Step.ID, f.Step.Type, f.Step.Line, f.Err)
}

func (f *StepFailure) Unwrap() error { return f.Err }

// Report is the outcome of one run of a scenario.
type Report struct {
	File string
	// Passed is true when every step passed, no undefined answer was
	// given and every MANDATORY entry fired.
	Passed bool
	// StepsRun counts the steps executed, including a failed one.
	StepsRun int
	// Failure is the first failed step, or nil.
	Failure *StepFailure
	// Undefined lists the queries the scenario does not define.
	Undefined []UndefinedAnswer
	// UnfiredMandatory lists the MANDATORY entries that never fired.
	UnfiredMandatory []*Entry
}

// Err summarises why the run failed, or returns nil if it passed.
func (r *Report) Err() error {
	if r.Passed {
		return nil
	}
	var errs []error
	if r.Failure != nil {
		errs = append(errs, r.Failure)
	}
	if len(r.Undefined) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "the scenario does not define all necessary answers (%d undefined):", len(r.Undefined))
		for _, u := range r.Undefined {
			b.WriteString("\n  " + u.String())
		}
		errs = append(errs, errors.New(b.String()))
	}
	for _, e := range r.UnfiredMandatory {
		errs = append(errs, fmt.Errorf("MANDATORY entry at line %d never fired", e.Line))
	}
	return fmt.Errorf("replay: %s failed: %w", r.File, errors.Join(errs...))
}

// Run plays the scenario of nw against target with a zero Runner.
func Run(ctx context.Context, nw *Network, target Target) Report {
	var r Runner
	return r.Run(ctx, nw, target)
}

// Run plays the steps of nw's scenario in file order against target,
// setting nw's current step before each one, and stops at the first failing
// step. QUERY sends the entry (random ID, the entry's flags, EDNS0 payload
// 4096 with DO if asked; RAW entries go through QueryRaw); CHECK_ANSWER
// compares the last reply with Check; TIME_PASSES calls Advance; REPLY
// steps are served by nw; CHECK_OUT_QUERY is ignored, as in Deckard.
func (r *Runner) Run(ctx context.Context, nw *Network, target Target) Report {
	sc := nw.Scenario()
	rep := Report{File: sc.File}
	var last *dns.Msg
	for _, st := range sc.Steps {
		if err := ctx.Err(); err != nil {
			rep.Failure = &StepFailure{Step: st, Err: err}
			break
		}
		nw.SetStep(st.ID)
		rep.StepsRun++
		var err error
		switch st.Type {
		case StepQuery:
			if st.Entry.Raw != nil {
				// No reply is awaited, and none is left to check.
				last = nil
				err = r.queryRaw(ctx, st.Entry.Raw, target)
				break
			}
			last, err = r.query(ctx, st.Entry, target)
		case StepCheckAnswer:
			if last == nil {
				err = ErrNoReply
			} else {
				err = Check(st.Entry, last)
			}
		case StepTimePasses:
			target.Advance(st.Elapse)
		case StepReply, StepCheckOutQuery:
		}
		if err != nil {
			rep.Failure = &StepFailure{Step: st, Err: err}
			break
		}
	}
	rep.Undefined = nw.Undefined()
	rep.UnfiredMandatory = nw.UnfiredMandatory()
	rep.Passed = rep.Failure == nil && len(rep.Undefined) == 0 && len(rep.UnfiredMandatory) == 0
	return rep
}

func (r *Runner) timeout() time.Duration {
	if r.QueryTimeout > 0 {
		return r.QueryTimeout
	}
	return DefaultQueryTimeout
}

func (r *Runner) queryRaw(ctx context.Context, b []byte, target Target) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	if err := target.QueryRaw(ctx, b); err != nil {
		return fmt.Errorf("raw query: %w", err)
	}
	return nil
}

func (r *Runner) query(ctx context.Context, e *Entry, target Target) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	q := e.Msg.Copy()
	if r.NewID != nil {
		q.Id = r.NewID()
	} else {
		q.Id = uint16(rand.Uint32())
	}
	resp, err := target.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", DescribeQuery(q), err)
	}
	if resp == nil {
		return nil, fmt.Errorf("query %s: %w", DescribeQuery(q), ErrNoReply)
	}
	return resp, nil
}
