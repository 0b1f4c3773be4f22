package resolver_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// scriptExchanger answers each query from a script: reply gets the
// question's first label, how many queries for that name came before,
// the network and the query. It logs every query as "label network
// cookie case": cookie is "sc" when the query carried a server cookie,
// "-" when only the client's; case is "0x20" or "lower".
type scriptExchanger struct {
	reply func(label string, n int, network string, q *dns.Msg) (*dns.Msg, error)
	mu    sync.Mutex // guards the following
	seen  map[string]int
	log   []string
}

func (x *scriptExchanger) Exchange(_ context.Context, q *dns.Msg, network string, _ netip.AddrPort) (*dns.Msg, error) {
	name := q.Question[0].Name
	label := strings.ToLower(name[:strings.IndexByte(name, '.')])
	label = label[:strings.IndexByte(label, '-')]
	cookie := "-"
	if len(cookieOf(q)) > 16 {
		cookie = "sc"
	}
	kase := "lower"
	if name != strings.ToLower(name) {
		kase = "0x20"
	}
	x.mu.Lock()
	n := x.seen[label]
	x.seen[label]++
	x.log = append(x.log, strings.Join([]string{label, network, cookie, kase}, " "))
	x.mu.Unlock()
	return x.reply(label, n, network, q)
}

// Scripted replies. The server's cookie is spoofSC; forgeries carry
// evilAddr, the real answers 192.0.2.1.
const spoofSC = "5c5c5c5c5c5c5c5c"

// evilAddr is what a successful forgery plants.
var evilAddr = net.IPv4(203, 0, 113, 66)

// real is the server's answer, with its cookie and the case it was asked.
func real(q *dns.Msg) *dns.Msg { return withCookie(answerA(q), q, spoofSC) }

// cookieless is the server's answer without a cookie.
func cookieless(q *dns.Msg) *dns.Msg { return answerA(q) }

// lowered is cookieless from a server that lower-cases the question.
func lowered(q *dns.Msg) *dns.Msg {
	m := answerA(q)
	m.Question[0].Name = strings.ToLower(m.Question[0].Name)
	m.Answer[0].Header().Name = m.Question[0].Name
	return m
}

// forged is a blind forger's reply that guessed ID and port: the name in
// lower case (it cannot know the 0x20 pattern), evilAddr, and the cookie
// given ("" none: it cannot know the client cookie).
func forged(q *dns.Msg, cookie string) *dns.Msg {
	m := lowered(q)
	m.Answer[0].(*dns.A).A = evilAddr
	if cookie != "" {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie}}
	}
	return m
}

// TestSpoofedStateNeverWeakens checks, rule by rule, that nothing a blind
// forger causes (timeouts, replies with a wrong cookie or case, a forced
// retry over TCP) makes the resolver accept what it refused before: a
// server known to send cookies must keep sending them over UDP (only an
// hour without any reply carrying one ends that); a 0x20 mismatch over UDP
// is asked again over TCP, and only the TCP reply's case decides that a
// server does not echo it.
func TestSpoofedStateNeverWeakens(t *testing.T) {
	timeout := func() (*dns.Msg, error) { return nil, resolver.ErrTimeout }
	tests := []struct {
		name  string
		h     resolver.Hardening
		names []string // asked in order; the first label keys the script
		// after moves the clock forward before a name is asked
		after map[string]time.Duration
		reply func(label string, n int, network string, q *dns.Msg) (*dns.Msg, error)
		want  []string // the queries, as scriptExchanger logs them
	}{
		{
			name: "cookies: a timeout does not drop the requirement", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b"},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				switch {
				case l == "b" && n == 0:
					return timeout()
				case l == "b" && network == "udp":
					return forged(q, ""), nil // was accepted once the cookie was forgotten
				}
				return real(q), nil
			},
			want: []string{"a udp - lower", "b udp sc lower", "b udp sc lower", "b tcp sc lower"},
		},
		{
			name: "cookies: wrong client cookie over UDP, asked over TCP", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b"},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				if l == "b" && network == "udp" {
					return forged(q, "ffffffffffffffff"+spoofSC), nil
				}
				return real(q), nil
			},
			want: []string{"a udp - lower", "b udp sc lower", "b tcp sc lower"},
		},
		{
			name: "cookies: forged FORMERR without OPT does not drop EDNS", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b"},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				if l == "b" && network == "udp" {
					m := new(dns.Msg)
					m.SetRcode(q, dns.RcodeFormatError)
					return m, nil
				}
				return real(q), nil
			},
			want: []string{"a udp - lower", "b udp sc lower", "b tcp sc lower"},
		},
		{
			name: "cookies: a TCP reply with a cookie keeps the requirement", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b", "c"},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				if l != "a" && network == "udp" {
					return forged(q, ""), nil
				}
				return real(q), nil
			},
			want: []string{"a udp - lower", "b udp sc lower", "b tcp sc lower", "c udp sc lower", "c tcp sc lower"},
		},
		{
			name: "cookies: a forger forces TCP; the server's TCP reply without one keeps the requirement", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b", "c"},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				switch {
				case l == "a":
					return real(q), nil
				case network == "udp":
					return forged(q, ""), nil // was accepted for c once b's TCP reply dropped the cookie
				}
				return cookieless(q), nil // cookies over UDP only, as RFC 7873 allows
			},
			want: []string{"a udp - lower", "b udp sc lower", "b tcp sc lower", "c udp sc lower", "c tcp sc lower"},
		},
		{
			name: "cookies: the server stopped sending them: an hour later, UDP without one is taken", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b", "c"}, after: map[string]time.Duration{"c": time.Hour},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				if l == "a" {
					return real(q), nil
				}
				return cookieless(q), nil
			},
			want: []string{"a udp - lower", "b udp sc lower", "b tcp sc lower", "c udp - lower"},
		},
		{
			name: "cookies: each reply with a cookie renews the hour", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b", "c"}, after: map[string]time.Duration{"b": 50 * time.Minute, "c": 50 * time.Minute},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				if l == "c" && network == "udp" {
					return forged(q, ""), nil
				}
				return real(q), nil
			},
			want: []string{"a udp - lower", "b udp sc lower", "c udp sc lower", "c tcp sc lower"},
		},
		{
			name: "cookies: a server never heard from may answer without one", h: resolver.Hardening{Cookies: true},
			names: []string{"a", "b"},
			reply: func(_ string, _ int, _ string, q *dns.Msg) (*dns.Msg, error) { return cookieless(q), nil },
			want:  []string{"a udp - lower", "b udp - lower"},
		},
		{
			name: "0x20: a UDP mismatch is asked over TCP; echoed there, 0x20 stays", h: resolver.Hardening{CaseRandomisation: true},
			names: []string{"a", "b", "c"},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				if l != "c" && network == "udp" {
					return forged(q, ""), nil // twice: the old rule then turned 0x20 off
				}
				return cookieless(q), nil
			},
			want: []string{"a udp - 0x20", "a tcp - 0x20", "b udp - 0x20", "b tcp - 0x20", "c udp - 0x20"},
		},
		{
			name: "0x20: a server that lower-cases over TCP too is asked without", h: resolver.Hardening{CaseRandomisation: true},
			names: []string{"a", "b"},
			reply: func(_ string, _ int, _ string, q *dns.Msg) (*dns.Msg, error) { return lowered(q), nil },
			want:  []string{"a udp - 0x20", "a tcp - 0x20", "b udp - lower"},
		},
		{
			name: "0x20: a timeout keeps 0x20", h: resolver.Hardening{CaseRandomisation: true},
			names: []string{"a", "b"},
			reply: func(l string, n int, network string, q *dns.Msg) (*dns.Msg, error) {
				if l == "a" && n == 0 {
					return timeout()
				}
				return cookieless(q), nil
			},
			want: []string{"a udp - 0x20", "a udp - 0x20", "b udp - 0x20"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &scriptExchanger{reply: tt.reply, seen: map[string]int{}}
			clock := newFakeClock()
			r := stubResolver(t, resolver.Config{Exchanger: x, Hardening: tt.h, Now: clock.Now}, netip.MustParseAddrPort("192.0.2.53:53"))
			var answers, wantAnswers []string
			for _, l := range tt.names {
				clock.Advance(tt.after[l])
				name := l + "-abcdefghijklmnopqrstuvwxyz.example.org."
				res, err := r.Resolve(t.Context(), name, dns.TypeA)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", name, err)
				}
				for _, rr := range res.Answer {
					answers = append(answers, strings.ReplaceAll(rr.String(), "\t", " "))
				}
				wantAnswers = append(wantAnswers, name+" 300 IN A 192.0.2.1")
			}
			if diff := cmp.Diff(wantAnswers, answers); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			x.mu.Lock()
			defer x.mu.Unlock()
			if diff := cmp.Diff(tt.want, x.log); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReplyFloodAskedOverTCP: a UDP wait that reads a flood of replies
// failing the checks (64, the bound) from the server's own address gives
// up and asks the server over TCP; fewer leave the wait to the real reply.
func TestReplyFloodAskedOverTCP(t *testing.T) {
	tests := []struct {
		name   string
		forged int // wrong-ID replies sent over UDP before the real one
		want   []string
	}{
		{"a few forgeries: the real UDP reply is taken", 3, []string{"udp"}},
		{"a flood: asked over TCP", 64, []string{"udp", "tcp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startAuth(t, func(w dns.ResponseWriter, q *dns.Msg) {
				if w.RemoteAddr().Network() == "udp" {
					for i := range tt.forged {
						f := forged(q, "")
						f.Id = q.Id + 1 + uint16(i)
						w.WriteMsg(f)
					}
				}
				w.WriteMsg(answerA(q))
			})
			r := stubResolver(t, resolver.Config{}, srv.addr)
			res, err := r.Resolve(t.Context(), "www.example.org.", dns.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Answer[0].(*dns.A).A.String(); got != "192.0.2.1" {
				t.Errorf("answer %s, want 192.0.2.1", got)
			}
			var got []string
			for _, rc := range srv.queries() {
				got = append(got, rc.network)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}
