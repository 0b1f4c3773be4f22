package resolver_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

func answerStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		out = append(out, strings.ToLower(h.Name)+" "+dns.TypeToString[h.Rrtype]+" "+
			strings.TrimSpace(strings.TrimPrefix(rr.String(), h.String())))
	}
	return out
}

// maxTestUpstream bounds the upstream queries of any TestResolve case.
const maxTestUpstream = 30

func TestResolve(t *testing.T) {
	lab := startLab(t)
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		mod       func(*resolver.Config)
		wantRcode int
		want      []string
		wantSOA   bool
		wantErr   error
	}{
		{name: "referrals from the root", qname: "www.example.org.", qtype: dns.TypeA,
			want: []string{"www.example.org. A 192.0.2.10"}},
		{name: "referrals without qname minimisation", qname: "www.example.org.", qtype: dns.TypeAAAA,
			mod:  func(c *resolver.Config) { c.DisableQNAMEMinimisation = true },
			want: []string{"www.example.org. AAAA 2001:db8::10"}},
		{name: "glueless delegation", qname: "www.glueless.org.", qtype: dns.TypeA,
			want: []string{"www.glueless.org. A 192.0.2.40"}},
		{name: "cname across zones", qname: "alias.example.org.", qtype: dns.TypeA,
			want: []string{"alias.example.org. CNAME web.example.net.", "web.example.net. A 192.0.2.20"}},
		{name: "cname chain back into the first zone", qname: "c1.example.org.", qtype: dns.TypeA,
			want: []string{"c1.example.org. CNAME c2.example.net.", "c2.example.net. CNAME www.example.org.",
				"www.example.org. A 192.0.2.10"}},
		{name: "cname loop", qname: "loop1.example.org.", qtype: dns.TypeA,
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrCNAMELoop,
			want: []string{"loop1.example.org. CNAME loop2.example.net.", "loop2.example.net. CNAME loop1.example.org."}},
		{name: "dname", qname: "www.old.example.org.", qtype: dns.TypeA,
			want: []string{"old.example.org. DNAME example.net.", "www.old.example.org. CNAME www.example.net.",
				"www.example.net. A 192.0.2.30"}},
		{name: "nxdomain", qname: "nope.example.org.", qtype: dns.TypeA,
			wantRcode: dns.RcodeNameError, wantSOA: true},
		{name: "nodata", qname: "www.example.org.", qtype: dns.TypeMX, wantSOA: true},
		{name: "nxdomain in the tld", qname: "nope.org.", qtype: dns.TypeA,
			wantRcode: dns.RcodeNameError, wantSOA: true},
		{name: "lame server skipped", qname: "www.lame.org.", qtype: dns.TypeA,
			want: []string{"www.lame.org. A 192.0.2.70"}},
		{name: "every server dead", qname: "www.dead.org.", qtype: dns.TypeA,
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrNoServers},
		{name: "dependency cycle", qname: "www.cyc1.org.", qtype: dns.TypeA,
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrDependencyCycle},
		{name: "loopback upstreams refused by default", qname: "www.example.org.", qtype: dns.TypeA,
			mod:       func(c *resolver.Config) { c.AllowLoopback = false },
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrLoopbackUpstream},
		{name: "limit: referral depth", qname: "www.example.org.", qtype: dns.TypeA,
			mod:       func(c *resolver.Config) { c.Limits.ReferralDepth = 1 },
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrReferralDepth},
		{name: "limit: upstream queries", qname: "www.example.org.", qtype: dns.TypeA,
			mod:       func(c *resolver.Config) { c.Limits.UpstreamQueries = 2 },
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrQueryLimit},
		{name: "limit: cname chain", qname: "c1.example.org.", qtype: dns.TypeA,
			mod:       func(c *resolver.Config) { c.Limits.CNAMEChain = 1 },
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrCNAMEChain},
		{name: "limit: glueless lookups", qname: "www.cyc1.org.", qtype: dns.TypeA,
			mod:       func(c *resolver.Config) { c.Limits.Glueless = 1 },
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrGluelessLimit},
		{name: "limit: nested lookups", qname: "www.cyc1.org.", qtype: dns.TypeA,
			mod:       func(c *resolver.Config) { c.Limits.SubDepth = 1 },
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrSubDepth},
		{name: "limit: request deadline", qname: "www.dead.org.", qtype: dns.TypeA,
			mod:       func(c *resolver.Config) { c.RequestTimeout = 150 * time.Millisecond },
			wantRcode: dns.RcodeServerFailure, wantErr: resolver.ErrDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newResolver(t, lab, tt.mod)
			res, err := r.Resolve(context.Background(), tt.qname, tt.qtype)
			// Every outcome must come from a handful of queries, not
			// from running into a limit by retrying: counted, not
			// timed, so a busy machine cannot fail it. (The lab has at
			// most six zone cuts and two servers per zone on any path.)
			if res != nil && res.Upstream > maxTestUpstream {
				t.Errorf("%d upstream queries; want at most %d", res.Upstream, maxTestUpstream)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var rerr *resolver.Error
				if !errors.As(err, &rerr) {
					t.Errorf("err %T is not a *resolver.Error", err)
				}
			} else if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if res.Rcode != tt.wantRcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[res.Rcode], dns.RcodeToString[tt.wantRcode])
			}
			if diff := cmp.Diff(tt.want, answerStrings(res.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			gotSOA := len(res.Authority) > 0 && res.Authority[0].Header().Rrtype == dns.TypeSOA
			if gotSOA != tt.wantSOA {
				t.Errorf("SOA in authority = %v, want %v (%v)", gotSOA, tt.wantSOA, res.Authority)
			}
		})
	}
}

func TestTruncatedRetriesOverTCP(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	res, err := r.Resolve(context.Background(), "big.example.org.", dns.TypeTXT)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(res.Answer) != 2 {
		t.Fatalf("got %d TXT records, want 2", len(res.Answer))
	}
	var udp, tcp int
	for _, q := range lab.Queries() {
		if q.Name == "big.example.org." {
			switch q.Transport {
			case "udp":
				udp++
			case "tcp":
				tcp++
			}
		}
	}
	if udp != 1 || tcp != 1 {
		t.Errorf("queries for big.example.org.: udp %d tcp %d, want 1 and 1", udp, tcp)
	}
}

// TestOversizedUDPReply checks what the resolver does with a server that
// sends UDP replies larger than the payload size it advertised (1232): up
// to 4096 bytes the reply is used; beyond, it is not read whole, and the
// question is asked again over TCP.
func TestOversizedUDPReply(t *testing.T) {
	tests := []struct {
		name        string
		qname       string
		wantAnswers int
		wantUDP     int
		wantTCP     int
	}{
		// big: two TXT records, some 1.6 KB: over 1232, under 4096.
		{"over the advertised size, under 4096 bytes", "big.example.org.", 2, 1, 0},
		// huge: five TXT records, some 5 KB.
		{"over 4096 bytes", "huge.example.org.", 5, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := startLab(t)
			for _, ns := range []string{"ns1.example.org.", "ns2.example.org."} {
				lab.Server(ns).SetFaults(resolvertest.Faults{IgnoreUDPSize: true})
			}
			r := newResolver(t, lab, nil)
			res, err := r.Resolve(context.Background(), tt.qname, dns.TypeTXT)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if len(res.Answer) != tt.wantAnswers {
				t.Errorf("got %d TXT records, want %d", len(res.Answer), tt.wantAnswers)
			}
			var udp, tcp int
			for _, q := range lab.Queries() {
				if q.Name != tt.qname {
					continue
				}
				switch q.Transport {
				case "udp":
					udp++
				case "tcp":
					tcp++
				}
			}
			if udp != tt.wantUDP || tcp != tt.wantTCP {
				t.Errorf("queries for %s: udp %d tcp %d, want %d and %d", tt.qname, udp, tcp, tt.wantUDP, tt.wantTCP)
			}
		})
	}
}

// TestFaultyServers checks that a server that misbehaves in each way is
// skipped or survived, and that the answer is still right.
func TestFaultyServers(t *testing.T) {
	tests := []struct {
		name   string
		faults resolvertest.Faults
	}{
		{"forged ID", resolvertest.Faults{ForgeID: true}},
		{"forged question", resolvertest.Faults{ForgeQuestion: true}},
		{"forged source", resolvertest.Faults{ForgeSource: true}},
		{"malformed", resolvertest.Faults{Malformed: true}},
		{"refused", resolvertest.Faults{Rcode: dns.RcodeRefused}},
		{"servfail", resolvertest.Faults{Rcode: dns.RcodeServerFailure}},
		{"upward referral", resolvertest.Faults{Lame: resolvertest.LameUpward}},
		{"truncates every UDP reply", resolvertest.Faults{Truncate: true}},
		{"slow", resolvertest.Faults{Latency: 50 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := startLab(t)
			// Both servers of example.org. misbehave the same way for the
			// forgeries (a real answer follows the forgery); for the
			// others only ns1 does and ns2 must be used.
			lab.Server("ns1.example.org.").SetFaults(tt.faults)
			if tt.faults.ForgeID || tt.faults.ForgeQuestion || tt.faults.ForgeSource || tt.faults.Truncate || tt.faults.Latency > 0 {
				lab.Server("ns2.example.org.").SetFaults(tt.faults)
			}
			r := newResolver(t, lab, nil)
			res, err := r.Resolve(context.Background(), "www.example.org.", dns.TypeA)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff([]string{"www.example.org. A 192.0.2.10"}, answerStrings(res.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDeadServerFallback resolves a name whose first NS is dead until the
// dead one has been picked first at least once, and checks the trace
// shows the timeout and the fallback.
func TestDeadServerFallback(t *testing.T) {
	lab := startLab(t)
	const attempts = 24 // random order: P(dead never first) = 2^-24
	for i := 0; i < attempts; i++ {
		r := newResolver(t, lab, func(c *resolver.Config) { c.QueryTimeout = 100 * time.Millisecond })
		res, err := r.Query(context.Background(), resolver.Request{Name: "www.two.org.", Type: dns.TypeA, Trace: true})
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		if got := answerStrings(res.Answer); len(got) != 1 || got[0] != "www.two.org. A 192.0.2.50" {
			t.Fatalf("answer = %v", got)
		}
		var sawTimeout, sawFallback bool
		for _, s := range res.Trace.Steps {
			if s.Kind == resolver.EventQuery && s.Outcome == "timeout" && s.Server == "ns1.two.org." {
				sawTimeout = true
			}
			if sawTimeout && s.Kind == resolver.EventQuery && s.Server == "ns2.two.org." && strings.Contains(s.Why, "fallback after timeout") {
				sawFallback = true
			}
		}
		if sawTimeout {
			if !sawFallback {
				t.Errorf("trace shows the timeout but no fallback to ns2.two.org.")
			}
			return
		}
	}
	t.Fatalf("in %d resolutions the dead server was never tried first", attempts)
}

func TestTraceJSONShape(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	res, err := r.Query(context.Background(), resolver.Request{Name: "www.glueless.org.", Type: dns.TypeA, Trace: true})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	b, err := json.Marshal(res.Trace)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var doc struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Steps []struct {
			Kind     string `json:"kind"`
			Zone     string `json:"zone"`
			Server   string `json:"server"`
			Addr     string `json:"addr"`
			Outcome  string `json:"outcome"`
			Referral *struct {
				Zone string   `json:"zone"`
				NS   []string `json:"ns"`
			} `json:"referral"`
			Steps []struct {
				Kind string `json:"kind"`
				Zone string `json:"zone"`
			} `json:"steps"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	type step struct{ Kind, Zone, Outcome, Referral string }
	var got []step
	var nested []string
	for _, s := range doc.Steps {
		st := step{Kind: s.Kind, Zone: s.Zone, Outcome: s.Outcome}
		if s.Referral != nil {
			st.Referral = s.Referral.Zone
		}
		got = append(got, st)
		for _, c := range s.Steps {
			nested = append(nested, c.Kind+" "+c.Zone)
		}
	}
	want := []step{
		{Kind: "cache", Outcome: "miss"},
		{Kind: "query", Zone: ".", Outcome: "referral", Referral: "org."},
		{Kind: "query", Zone: "org.", Outcome: "referral", Referral: "glueless.org."},
		{Kind: "subresolve", Zone: "glueless.org.", Outcome: "resolved"},
		{Kind: "query", Zone: "glueless.org.", Outcome: "answer"},
		{Kind: "done"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trace steps (-want +got):\n%s", diff)
	}
	// The NS name ns1.dnshost.net. is resolved from the root (net. is not
	// known yet), nested under the subresolve step; net.'s referral to
	// dnshost.net. carries its address as glue, which is enough.
	wantNested := []string{"cache ", "query .", "query net."}
	if diff := cmp.Diff(wantNested, nested); diff != "" {
		t.Errorf("nested steps (-want +got):\n%s", diff)
	}
	if doc.Name != "www.glueless.org." || doc.Type != "A" {
		t.Errorf("trace question = %s %s", doc.Name, doc.Type)
	}
}

// TestMinimisedQuestionFails checks relaxed QNAME minimisation: when every
// server of a zone fails the shortened NS question but answers the real
// one, the full question is sent and answered.
func TestMinimisedQuestionFails(t *testing.T) {
	for _, rcode := range []int{dns.RcodeServerFailure, dns.RcodeRefused, dns.RcodeNotImplemented} {
		t.Run(dns.RcodeToString[rcode], func(t *testing.T) {
			lab := startLab(t)
			// The org. server fails NS questions for names below the zone
			// (the shortened "example.org. NS"), so the walk cannot learn
			// the cut by minimising; the full question gets the referral.
			lab.Server("ns1.nic.org.").SetFaults(resolvertest.Faults{Mutate: func(q, resp *dns.Msg) {
				if q.Question[0].Qtype == dns.TypeNS && !strings.EqualFold(q.Question[0].Name, "org.") {
					// Keep the OPT record: without it NOTIMP means "no EDNS".
					opt := resp.IsEdns0()
					resp.Rcode, resp.Answer, resp.Ns, resp.Extra = rcode, nil, nil, nil
					if opt != nil {
						resp.Extra = []dns.RR{opt}
					}
				}
			}})
			r := newResolver(t, lab, nil)
			res, err := r.Resolve(context.Background(), "www.example.org.", dns.TypeA)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff([]string{"www.example.org. A 192.0.2.10"}, answerStrings(res.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			var sent []string
			for _, q := range lab.Queries() {
				if q.Server == "ns1.nic.org." {
					sent = append(sent, q.Name+" "+dns.TypeToString[q.Type])
				}
			}
			if diff := cmp.Diff([]string{"example.org. NS", "www.example.org. A"}, sent); diff != "" {
				t.Errorf("questions to the org. server (-want +got):\n%s", diff)
			}
		})
	}
}
