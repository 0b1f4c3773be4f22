package server_test

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// exchangeFrom sends m over UDP from the local address src.
func exchangeFrom(t *testing.T, src netip.Addr, addr netip.AddrPort, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second,
		Dialer: &net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}}
	r, _, err := c.Exchange(m, addr.String())
	if err != nil {
		t.Fatalf("exchange %s from %v: %v", m.Question[0].Name, src, err)
	}
	return r
}

func TestOverloadSheddingSparesCachedNames(t *testing.T) {
	lab := startLab(t)
	// One resolution slot, and no packet cache: every answer below comes
	// from the resolver (its cache) or is shed.
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.MaxInflight = 1
		c.JostleTimeout = -1 // shedding, not jostling (TestJostle)
		c.PacketCacheEntries = -1
	})
	addr := startServer(t, h, func(c *server.Config) {
		c.MaxInflight = 1
		c.MaxPendingPerClient = 1
	}).Addrs()[0]
	flooder, other := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	if r := exchangeFrom(t, other, addr, question("www.example.org.", dns.TypeA)); len(r.Answer) != 1 {
		t.Fatalf("warming the cache: %v", r)
	}

	// The flooder's resolution holds the only slot (and its own share).
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(3 * time.Second))
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &dns.Client{Net: "udp", Timeout: 10 * time.Second,
			Dialer: &net.Dialer{LocalAddr: net.UDPAddrFromAddrPort(netip.AddrPortFrom(flooder, 0))}}
		_, _, _ = c.Exchange(question("a.slow.org.", dns.TypeA), addr.String())
	}()
	for n := ""; !strings.EqualFold(n, "a.slow.org."); {
		n = <-lab.arrived
	}

	tests := []struct {
		name      string
		src       netip.Addr
		q         string
		wantRcode int
		wantShed  bool
	}{
		// The flooder's own share is full: shed at the listener, yet a
		// cached name is answered from the cache.
		{"client share full, cached name", flooder, "www.example.org.", dns.RcodeSuccess, false},
		// Another client gets a waiting slot but no resolution slot.
		{"resolutions full, cached name", other, "www.example.org.", dns.RcodeSuccess, false},
		{"client share full, uncached name", flooder, "b.slow.org.", dns.RcodeServerFailure, true},
		{"resolutions full, uncached name", other, "b.slow.org.", dns.RcodeServerFailure, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchangeFrom(t, tt.src, addr, withEDNS(question(tt.q, dns.TypeA), 1232, false))
			if r.Rcode != tt.wantRcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.wantRcode])
			}
			e := ede(r)
			shed := e != nil && strings.Contains(e.ExtraText, "overloaded")
			if shed != tt.wantShed {
				t.Errorf("shed = %v (EDE %v), want %v", shed, e, tt.wantShed)
			}
		})
	}
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(0))
	<-done
}
