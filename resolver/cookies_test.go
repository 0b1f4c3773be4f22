package resolver

import (
	"errors"
	"testing"

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
