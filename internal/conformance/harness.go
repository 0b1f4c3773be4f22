package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/replay"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/server"
)

// clientAddr is where the scenario's queries appear to come from: a
// loopback client, as Deckard's are.
var clientAddr = netip.MustParseAddrPort("127.0.0.1:53530")

// clock is the fake wall clock a scenario moves with TIME_PASSES.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Harness is one scenario run: resolver, handler, mock network, clock.
type Harness struct {
	nw    *replay.Network
	clock *clock
	r     *resolver.Resolver
	h     *server.Handler
}

// ErrNotApplicable marks scenarios that test another resolver's features.
var ErrNotApplicable = errors.New("not applicable")

// NewHarness builds a resolver configured from the scenario's CONFIG
// section, with the given QNAME minimisation mode.
func NewHarness(sc *replay.Scenario, qmin bool, logf func(format string, args ...any)) (*Harness, error) {
	cfg := sc.Config
	if len(cfg.Features) > 0 || len(cfg.FeatureList) > 0 {
		return nil, fmt.Errorf("%w: needs Knot Resolver's module configuration (features/feature-list)", ErrNotApplicable)
	}
	start := cfg.Now
	if start.IsZero() {
		start = time.Now()
	}
	c := &clock{t: start}
	nw := replay.NewNetwork(sc)
	var x resolver.Exchanger = nw
	if logf != nil {
		x = resolver.ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
			m, err := nw.Exchange(ctx, q, network, server)
			reply := "error: " + fmt.Sprint(err)
			if err == nil {
				reply = strings.Join(strings.Fields(m.String()), " ")
			}
			logf("step %d: %s %s %s -> %s", nw.Step(), server, network, replay.DescribeQuery(q), reply)
			return m, err
		})
	}
	rc := resolver.Config{
		Exchanger:                x,
		DisableIPv4:              !cfg.DoIP4,
		DisableIPv6:              !cfg.DoIP6,
		AllowLoopback:            !cfg.DoNotQueryLocalhost,
		PermissiveGlue:           !cfg.HardenGlue,
		DisableQNAMEMinimisation: !qmin,
		Now:                      c.Now,
		// The scripted servers answer at once or never (do_not_answer
		// times out immediately), so the real-time bounds only matter
		// for a runaway; Deckard waits 5 s per query.
		QueryTimeout:   time.Second,
		RequestTimeout: 4 * time.Second,
		// Signature times are checked exactly, as Knot Resolver (whose
		// suite this is) does: no Unbound-style clock-skew allowance.
		Validation: dnssec.Limits{SigSkewMax: -1},
	}
	if len(cfg.TrustAnchors) > 0 {
		a, err := dnssec.NewAnchors(cfg.TrustAnchors...)
		if err != nil {
			return nil, fmt.Errorf("trust-anchor: %w", err)
		}
		rc.TrustAnchors = a
	}
	if len(cfg.DomainInsecure) > 0 {
		n, err := dnssec.NewNegativeAnchors(cfg.DomainInsecure...)
		if err != nil {
			return nil, fmt.Errorf("domain-insecure: %w", err)
		}
		rc.NegativeAnchors = n
	}
	if cfg.StubAddr.IsValid() {
		rc.Hints = resolver.StubHints(cfg.StubName, cfg.StubAddr)
	}
	if cfg.ForwardAddr.IsValid() {
		rc.Forward = []resolver.ZoneConfig{{Zone: ".", Servers: []netip.AddrPort{netip.AddrPortFrom(cfg.ForwardAddr, 53)}}}
	}
	r, err := resolver.New(rc)
	if err != nil {
		return nil, err
	}
	h, err := server.NewHandler(server.HandlerConfig{
		Settings: server.Settings{Resolver: r},
		Now:      c.Now,
		// Deckard's client advertises 4096 bytes and expects the whole
		// answer over UDP; the default 1232 would truncate large signed
		// answers (Deckard's resolver templates raise the size too).
		UDPSize: 4096,
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	return &Harness{nw: nw, clock: c, r: r, h: h}, nil
}

// Close releases the resolver and handler.
func (hs *Harness) Close() {
	hs.h.Close()
	hs.r.Close()
}

// Run plays the scenario.
func (hs *Harness) Run(ctx context.Context) replay.Report {
	return replay.Run(ctx, hs.nw, hs)
}

// Query implements replay.Target: the query goes through the server's
// UDP query path.
func (hs *Harness) Query(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	wire, err := q.Pack()
	if err != nil {
		return nil, err
	}
	resp, ok := hs.h.Handle(ctx, wire, clientAddr, server.TransportUDP)
	if !ok {
		return nil, replay.ErrNoReply
	}
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		return nil, fmt.Errorf("unpacking the reply: %w", err)
	}
	return m, nil
}

// QueryRaw implements replay.Target.
func (hs *Harness) QueryRaw(ctx context.Context, b []byte) error {
	hs.h.Handle(ctx, b, clientAddr, server.TransportUDP)
	return nil
}

// Advance implements replay.Target.
func (hs *Harness) Advance(d time.Duration) { hs.clock.Advance(d) }
