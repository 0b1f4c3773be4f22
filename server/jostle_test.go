package server_test

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// TestJostle: with every slot held by slow resolutions, a new question
// takes the slot of the oldest one past the jostle timeout that started
// while the server was half full; that one is answered SERVFAIL
// ("jostled") at once, the newcomer is resolved, and the resolution in
// the protected half runs to completion.
func TestJostle(t *testing.T) {
	lab := startLab(t)
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(3 * time.Second))
	// The handler's clock is moved past the jostle timeout by hand.
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.MaxInflight = 2
		c.JostleTimeout = server.DefaultJostleTimeout
		c.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	type reply struct {
		name string
		m    *dns.Msg
	}
	replies := make(chan reply, 2)
	for _, name := range []string{"a.slow.org.", "b.slow.org."} {
		go func() {
			out, _ := h.Handle(t.Context(), pack(t, withEDNS(question(name, dns.TypeA), 1232, false)), netip.MustParseAddrPort(loopClient), server.TransportUDP)
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				m = nil
			}
			replies <- reply{name, m}
		}()
		for n := ""; !strings.EqualFold(n, name); { // its resolution holds a slot
			n = <-lab.arrived
		}
	}
	clock.Add(int64(server.DefaultJostleTimeout))
	r := handle(t, h, loopClient, pack(t, withEDNS(question("www.example.org.", dns.TypeA), 1232, false)))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		t.Errorf("newcomer: rcode %s, %d answers (EDE %v); want an answer", dns.RcodeToString[r.Rcode], len(r.Answer), ede(r))
	}
	jostled := <-replies // b's, already answered: a's takes 3 s more
	var got []string
	if jostled.m != nil {
		got = []string{jostled.name, dns.RcodeToString[jostled.m.Rcode]}
		if e := ede(jostled.m); e != nil && strings.Contains(e.ExtraText, "jostled") {
			got = append(got, "jostled")
		}
	}
	if diff := cmp.Diff([]string{"b.slow.org.", "SERVFAIL", "jostled"}, got); diff != "" {
		t.Errorf("first reply (-want +got):\n%s", diff)
	}
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(0))
	if a := <-replies; a.m == nil || a.m.Rcode != dns.RcodeSuccess {
		t.Errorf("protected resolution %s: %v, want an answer", a.name, a.m)
	}
}
