//go:build linux

package resolver_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/forge"
	"github.com/addrwalk/addrwalk/resolver"
)

// Forged-reply flood bounds: the flood stops at whichever comes first.
// 2 s per case keeps the four cases under 10 s; 400,000 packets is more
// than a loaded 2-core machine sends in that time, so time is the bound.
const (
	forgeDuration = 2 * time.Second
	forgeMaxSent  = 400_000
	// forgeAuthDelay is how long the authoritative server takes to
	// answer: the window in which a forgery can win the race.
	forgeAuthDelay = 20 * time.Millisecond
	// forgePorts is the narrowed source-port range of the weakened cases:
	// 4 bits instead of 16, so forgeries do reach the query's socket.
	forgePorts = 16
)

// TestForgedReplyFlood is a blind (Kaminsky-style) forgery flood: while
// the resolver resolves random names under example.org., a raw socket
// sends replies from the zone's server address and port to the
// resolver's address with guessed ports and IDs, each carrying a poisoned
// answer and an NS + glue redirect. Nothing may be poisoned. The weakened
// cases narrow the source ports to 16 so that forgeries do reach the
// query's socket and 0x20 and cookies are what stops them.
func TestForgedReplyFlood(t *testing.T) {
	tests := []struct {
		name   string
		narrow bool
		h      resolver.Hardening
	}{
		{"defaults, full port range", false, resolver.Hardening{}},
		{"16 ports, 0x20", true, resolver.Hardening{CaseRandomisation: true}},
		// Once poisoned 1 name in 222 in CI: a timeout made the resolver
		// forget the server's cookie, then a cookieless forgery was taken.
		{"16 ports, cookies", true, resolver.Hardening{Cookies: true}},
		{"16 ports, 0x20 and cookies", true, resolver.Hardening{CaseRandomisation: true, Cookies: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := forge.Open()
			if err != nil {
				if os.Getuid() != 0 && os.Getenv("CI") == "" {
					t.Skip(err)
				}
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			evil, _ := netip.AddrFromSlice(evilAddr.To4())
			srv := startAuth(t, func(w dns.ResponseWriter, q *dns.Msg) {
				time.Sleep(forgeAuthDelay) // simulated network latency: the race window
				w.WriteMsg(withCookie(answerA(q), q, "5e5e5e5e5e5e5e5e"))
			})
			self := netip.AddrFrom4([4]byte{127, byte(1 + rand.IntN(250)), byte(rand.IntN(256)), byte(1 + rand.IntN(250))})
			base := uint16(20000 + rand.IntN(40000))
			var exclude []resolver.PortRange
			if tt.narrow {
				exclude = []resolver.PortRange{{Lo: 1024, Hi: base - 1}, {Lo: base + forgePorts, Hi: 65535}}
			}
			sp, err := resolver.NewSourcePorts(exclude)
			if err != nil {
				t.Fatal(err)
			}
			var unwanted atomic.Int64
			x := &resolver.NetExchanger{Ports: sp, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: self.AsSlice()}},
				OnUnwanted: func(netip.AddrPort) { unwanted.Add(1) }}
			r := stubResolver(t, resolver.Config{Exchanger: x, Hardening: tt.h}, srv.addr)

			// The resolver has talked to the server before the attack (it
			// knows its cookie, if any): a first contact under a flood is
			// trust on first use for cookies, as in every resolver.
			first := "warm-up.example.org."
			if _, err := r.Resolve(t.Context(), first, dns.TypeA); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
			var current atomic.Pointer[string]
			current.Store(&first)
			stop := make(chan struct{})
			var asked []string
			answered := 0 // of asked, how many got an answer during the flood
			var wg sync.WaitGroup
			wg.Go(func() { // the attacker's own client: random names under the victim zone
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("r%d-%x.example.org.", i, rand.Uint32())
					current.Store(&name)
					asked = append(asked, name)
					if _, err := r.Resolve(t.Context(), name, dns.TypeA); err == nil {
						answered++
					}
				}
			})
			sent, deadline := 0, time.Now().Add(forgeDuration)
			built := ""
			for ; sent < forgeMaxSent && time.Now().Before(deadline); sent++ {
				if name := *current.Load(); name != built {
					payload, err := forge.Reply(name, "example.org.", evil)
					if err != nil {
						t.Fatal(err)
					}
					f.Build(srv.addr, netip.AddrPortFrom(self, 0), payload)
					built = name
				}
				port := uint16(1024 + rand.IntN(65536-1024))
				if tt.narrow {
					port = base + uint16(rand.IntN(forgePorts))
				}
				if err := f.Send(self, port, uint16(rand.Uint32())); err != nil && !errors.Is(err, syscall.ENOBUFS) {
					t.Fatalf("raw send: %v", err)
				}
			}
			close(stop)
			wg.Wait()

			poisoned := 0
			for _, name := range append(asked, first, "ns.example.org.") {
				res, err := r.Query(t.Context(), resolver.Request{Name: name, Type: dns.TypeA, CacheOnly: true})
				if err != nil {
					continue
				}
				for _, rr := range res.Answer {
					if a, ok := rr.(*dns.A); ok && a.A.Equal(evilAddr) {
						poisoned++
						t.Errorf("poisoned: %s", strings.ReplaceAll(rr.String(), "\t", " "))
					}
				}
			}
			t.Logf("%s: %d forged replies sent (%.0f/s), %d reached a query's socket and were ignored, %d names asked, %d answered, %d poisoned",
				tt.name, sent, float64(sent)/forgeDuration.Seconds(), unwanted.Load(), len(asked), answered, poisoned)
			if len(asked) < 10 {
				t.Errorf("only %d names resolved during the flood", len(asked))
			}
		})
	}
}
