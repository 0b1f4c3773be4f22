package resolver_test

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// TestCloseDrains checks Close on a resolver still answering: new
// requests get ErrClosed at once, the request in flight finishes with its
// answer, and only then does Close return. The transport is in memory: a
// root that answers every question authoritatively, and holds the answer
// for slow.example.org until the test releases it.
func TestCloseDrains(t *testing.T) {
	hints, err := resolver.ParseHints(strings.NewReader(". 3600 IN NS a.root.test.\na.root.test. 3600 IN A 192.0.2.1\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	arrived, release := make(chan struct{}), make(chan struct{})
	x := resolver.ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
		if strings.EqualFold(q.Question[0].Name, "slow.example.org.") {
			close(arrived)
			<-release
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if q.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Question[0].Name + " 300 IN A 192.0.2.7")
			m.Answer = append(m.Answer, rr)
		}
		return m, nil
	})
	r, err := resolver.New(resolver.Config{Hints: hints, Exchanger: x, DisableQNAMEMinimisation: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	type outcome struct {
		res *resolver.Result
		err error
	}
	slow := make(chan outcome, 1)
	go func() {
		res, err := r.Resolve(ctx, "slow.example.org.", dns.TypeA)
		slow <- outcome{res, err}
	}()
	<-arrived
	closed := make(chan struct{})
	go func() {
		r.Close()
		close(closed)
	}()
	// Close has begun once a new request is refused. Bounded: Close
	// sets its flag first thing, so a few scheduler turns suffice; the
	// deadline only keeps a broken Close from hanging the test.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := r.Resolve(ctx, "fast.example.org.", dns.TypeA)
		if errors.Is(err, resolver.ErrClosed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests still accepted 10 s after Close began: last error %v", err)
		}
		runtime.Gosched()
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	default:
	}
	close(release)
	out := <-slow
	if out.err != nil || len(out.res.Answer) != 1 {
		t.Errorf("request in flight during Close: %v, answer %v; want its answer", out.err, out.res)
	}
	<-closed
	var rerr *resolver.Error
	if _, err := r.Resolve(ctx, "www.example.org.", dns.TypeA); !errors.As(err, &rerr) || rerr.Reason() != "closed" {
		t.Errorf("after Close: %v, want an *Error with reason closed", err)
	}
	r.Close() // a second Close does nothing
}
