package resolver

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestCheckCookie is checkCookie's table: what a reply's COOKIE option
// must be, per transport, given what the query carried.
func TestCheckCookie(t *testing.T) {
	const client, server = "0102030405060708", "aaaaaaaaaaaaaaaa"
	withOpt := func(cookie string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.example.org.", dns.TypeA)
		if cookie != "-" {
			m.SetEdns0(1232, false)
			if cookie != "" {
				m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie}}
			}
		}
		return m
	}
	tests := []struct {
		name   string
		query  string // the query's cookie: "" none (EDNS), "-" no EDNS
		reply  string // the reply's cookie, likewise
		stream bool
		want   error
	}{
		{"no cookie sent", "", "", false, nil},
		{"no EDNS sent", "-", "-", false, nil},
		{"first contact: none back over UDP", client, "", false, nil},
		{"first contact: cookie back", client, client + server, false, nil},
		{"known server: cookie back", client + server, client + "bbbbbbbbbbbbbbbb", false, nil},
		{"known server: none over UDP", client + server, "", false, errNoCookie},
		{"known server: no OPT over UDP", client + server, "-", false, errNoCookie},
		{"known server: none over TCP", client + server, "", true, nil},
		{"wrong client cookie over UDP", client + server, "ffffffffffffffff" + server, false, errWrongCookie},
		{"wrong client cookie over TCP", client + server, "ffffffffffffffff" + server, true, errWrongCookie},
		{"client cookie only back", client, client, false, errMalformedCookie},
		{"server cookie too long", client, client + server + server + server + server + "00", false, errMalformedCookie},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkCookie(withOpt(tt.reply), withOpt(tt.query), tt.stream)
			if !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("checkCookie = %v, want %v", got, tt.want)
			}
			if got != nil && !errors.Is(got, errRejected) {
				t.Errorf("%v does not wrap errRejected", got)
			}
		})
	}
}

// TestCookieJar is the jar's table: which servers are known to send
// cookies after a sequence of replies, with the clock moved between them,
// in a jar of two entries.
func TestCookieJar(t *testing.T) {
	a, b, c := netip.MustParseAddrPort("192.0.2.1:53"), netip.MustParseAddrPort("192.0.2.2:53"), netip.MustParseAddrPort("192.0.2.3:53")
	type step struct {
		after  time.Duration // the clock moves first
		server netip.AddrPort
		cookie bool // the reply carries a server cookie
	}
	tests := []struct {
		name  string
		steps []step
		want  []string // the servers known to send cookies at the end
	}{
		{"a reply with a cookie is kept", []step{{0, a, true}}, []string{"192.0.2.1:53"}},
		{"a reply without one is not", []step{{0, a, false}}, nil},
		{"a reply without one unlearns nothing", []step{{0, a, true}, {time.Minute, a, false}}, []string{"192.0.2.1:53"}},
		{"an hour without a cookie lapses", []step{{0, a, true}, {59 * time.Minute, a, false}, {time.Minute, a, false}}, nil},
		{"a cookie renews the hour", []step{{0, a, true}, {59 * time.Minute, a, true}, {59 * time.Minute, b, false}}, []string{"192.0.2.1:53"}},
		{"full of live entries: a newcomer is not kept and evicts nothing",
			[]step{{0, a, true}, {0, b, true}, {time.Minute, c, true}}, []string{"192.0.2.1:53", "192.0.2.2:53"}},
		{"full: a lapsed entry makes room for a newcomer",
			[]step{{0, a, true}, {10 * time.Minute, b, true}, {55 * time.Minute, c, true}}, []string{"192.0.2.2:53", "192.0.2.3:53"}},
		{"full: the entry renewed last is kept, the one to lapse first goes",
			[]step{{0, a, true}, {10 * time.Minute, b, true}, {10 * time.Minute, a, true}, {55 * time.Minute, c, true}}, []string{"192.0.2.1:53", "192.0.2.3:53"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			j := newCookieJar(func() time.Time { return now }, 2)
			for _, s := range tt.steps {
				now = now.Add(s.after)
				m := new(dns.Msg)
				m.SetEdns0(1232, false)
				if s.cookie {
					cc := hex.EncodeToString(j.clientCookie(s.server))
					m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cc + "5c5c5c5c5c5c5c5c"}}
				}
				j.learn(s.server, m)
			}
			var got []string
			for _, s := range []netip.AddrPort{a, b, c} {
				if j.sendsCookies(s) {
					got = append(got, s.String())
					if want := hex.EncodeToString(j.clientCookie(s)) + "5c5c5c5c5c5c5c5c"; j.option(s).Cookie != want {
						t.Errorf("option for %v = %s, want %s", s, j.option(s).Cookie, want)
					}
				} else if want := hex.EncodeToString(j.clientCookie(s)); j.option(s).Cookie != want {
					t.Errorf("option for %v = %s, want the client cookie alone %s", s, j.option(s).Cookie, want)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("servers known to send cookies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClientCookie: the client cookie is 8 bytes, the same for a server
// every time, different between servers (ports included) and between
// jars (each has its own secret).
func TestClientCookie(t *testing.T) {
	now := func() time.Time { return time.Time{} }
	j1, j2 := newCookieJar(now, 1), newCookieJar(now, 1)
	s1, s2 := netip.MustParseAddrPort("192.0.2.1:53"), netip.MustParseAddrPort("192.0.2.1:5353")
	if c := j1.clientCookie(s1); len(c) != clientCookieLen || !bytes.Equal(c, j1.clientCookie(s1)) {
		t.Errorf("client cookie %x: not 8 bytes or not stable", c)
	}
	if bytes.Equal(j1.clientCookie(s1), j1.clientCookie(s2)) {
		t.Error("two servers got the same client cookie")
	}
	if bytes.Equal(j1.clientCookie(s1), j2.clientCookie(s1)) {
		t.Error("two jars gave a server the same client cookie")
	}
}

// TestCookiesOutliveServerTable: contacting many more servers than the
// per-server table holds (what an attacker can make the resolver do)
// evicts a server's outstanding and 0x20 state, never what the jar knows
// of its cookie.
func TestCookiesOutliveServerTable(t *testing.T) {
	u, err := newUpstreams(Hardening{Cookies: true}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.close)
	victim := netip.MustParseAddrPort("192.0.2.53:53")
	u.server(victim)
	m := new(dns.Msg)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(u.jar.clientCookie(victim)) + "5c5c5c5c5c5c5c5c"}}
	u.jar.learn(victim, m)
	// Three times the table's size, from 10.0.0.0/8: enough to turn it
	// over whatever its eviction order.
	for i := range 3 * maxUpstreamEntries {
		u.server(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 53))
	}
	u.servers.CleanUp() // otter evicts in the background: finish it
	if n := u.servers.EstimatedSize(); n > maxUpstreamEntries {
		t.Errorf("server table holds %d entries, bound %d", n, maxUpstreamEntries)
	}
	if !u.jar.sendsCookies(victim) {
		t.Error("the victim server is no longer known to send cookies")
	}
	if got, want := u.jar.option(victim).Cookie, hex.EncodeToString(u.jar.clientCookie(victim))+"5c5c5c5c5c5c5c5c"; got != want {
		t.Errorf("cookie option %s, want %s", got, want)
	}
}
