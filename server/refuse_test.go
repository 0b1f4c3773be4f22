package server_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

func TestRefusalDoesNotAmplify(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil) // default ACL: loopback only
	cookie := func(m *dns.Msg) *dns.Msg {
		m = withEDNS(m, 1232, true)
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		return m
	}
	long := strings.Repeat("a.", 100) + "example.org."
	badQuestion := pack(t, question("www.example.org.", dns.TypeA))[:14]
	badQuestion[5] = 1
	tests := []struct {
		name string
		req  []byte
	}{
		{"plain", pack(t, question("www.example.org.", dns.TypeA))},
		{"EDNS", pack(t, withEDNS(question("www.example.org.", dns.TypeA), 1232, false))},
		{"EDNS with DO and a cookie", pack(t, cookie(question("www.example.org.", dns.TypeA)))},
		{"ANY", pack(t, withEDNS(question("example.org.", dns.TypeANY), 4096, true))},
		{"long name", pack(t, question(long, dns.TypeTXT))},
		{"cut-off question", badQuestion},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A client of its own network: each has its own refusal budget.
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, byte(i), 1}), 5353)
			resp, ok := h.Handle(t.Context(), tt.req, client, server.TransportUDP)
			if !ok {
				t.Fatal("dropped; want a REFUSED")
			}
			if len(resp) > len(tt.req) {
				t.Errorf("reply %d bytes > query %d bytes: an amplifier", len(resp), len(tt.req))
			}
			if got := int(resp[3] & 0xf); got != dns.RcodeRefused {
				t.Errorf("rcode %s, want REFUSED", dns.RcodeToString[got])
			}
		})
	}
}

func TestRefusalRateLimit(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Settings.ACL = server.ACL{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	})
	req := pack(t, question("www.example.org.", dns.TypeA))
	count := func(client netip.AddrPort, n int) (answered int) {
		for range n {
			if _, ok := h.Handle(t.Context(), req, client, server.TransportUDP); ok {
				answered++
			}
		}
		return answered
	}
	// A spoofed flood "from" one victim network: a burst, then nearly
	// nothing (the bucket refills at 10/s; the loop takes milliseconds).
	if got := count(netip.MustParseAddrPort("198.51.100.7:53"), 200); got < 10 || got > 40 {
		t.Errorf("%d of 200 refusals sent to one network; want the burst (20) and little more", got)
	}
	if got := count(netip.MustParseAddrPort("203.0.113.7:53"), 5); got != 5 {
		t.Errorf("another network: %d of 5 refusals sent, want 5", got)
	}
	if got := count(netip.MustParseAddrPort("127.0.0.1:53"), 50); got != 50 {
		t.Errorf("allowed client: %d of 50 answered", got)
	}
}
