package resolvertest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// defaultForgerAddr is the address ForgeSource replies come from when
// Config.ForgerAddr is not set: 127.255.255.254.
func defaultForgerAddr() netip.Addr { return netip.AddrFrom4([4]byte{127, 255, 255, 254}) }

// Config configures a Lab. The zero value is ready to use.
type Config struct {
	// Port every server listens on, UDP and TCP. Zero picks a high port
	// that is free on every server address.
	Port uint16
	// ForgerAddr is the loopback address forged replies (Faults.ForgeSource)
	// are sent from; the zero value means 127.255.255.254.
	ForgerAddr netip.Addr
	// OnQuery, if set, is called with every query a server receives, before
	// any fault applies, on the goroutine serving it: e.g. to trace the
	// traffic of `addrwalk sim`, or to learn that a query has arrived.
	OnQuery func(Query)
	// Logger receives debug messages about replies that could not be sent;
	// nil discards them.
	Logger *slog.Logger
	// Now is the clock signed zones (SignZone) are signed with at Start;
	// nil means time.Now.
	Now func() time.Time
}

// Lab is a set of authoritative servers on loopback addresses. Zones and
// servers are added before Start; faults may be changed at any time.
type Lab struct {
	cfg     Config
	log     *slog.Logger
	queries queryLog
	done    chan struct{} // closed by Close; aborts simulated latency

	closeOnce sync.Once
	closeErr  error // set once by Close

	mu      sync.Mutex // guards the following
	zones   map[string]*zone
	servers []*Server
	byName  map[string]*Server
	port    uint16
	state   labState
	running *listeners
	roots   []string // names of the servers hosting "."; set by Start, read by handlers
}

type labState int

const (
	stateNew labState = iota
	stateStarted
	stateClosed
)

// New returns an empty lab.
func New(cfg Config) *Lab {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !cfg.ForgerAddr.IsValid() {
		cfg.ForgerAddr = defaultForgerAddr()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Lab{
		cfg:    cfg,
		log:    log,
		done:   make(chan struct{}),
		zones:  map[string]*zone{},
		byName: map[string]*Server{},
	}
}

// AddZone parses text as the zone file of origin ($ORIGIN and $TTL are
// supported; relative names are relative to origin). The zone needs an SOA
// at its apex.
func (l *Lab) AddZone(origin, text string) error {
	z, err := parseZone(origin, text)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != stateNew {
		return errors.New("resolvertest: AddZone after Start")
	}
	if _, dup := l.zones[z.origin]; dup {
		return fmt.Errorf("resolvertest: zone %q added twice", z.origin)
	}
	l.zones[z.origin] = z
	return nil
}

// AddServer adds a server called name (typically the NS name that points
// to it) listening on addr, a loopback address, and hosting the named
// zones, which must have been added. Zones may be empty: such a server
// answers REFUSED to everything, which is what a lame server does.
func (l *Lab) AddServer(name string, addr netip.Addr, zones ...string) error {
	cname := dns.CanonicalName(name)
	if _, ok := dns.IsDomainName(cname); !ok || name == "" {
		return fmt.Errorf("resolvertest: server name %q is not a domain name", name)
	}
	addr = addr.Unmap()
	if !addr.IsLoopback() {
		return fmt.Errorf("resolvertest: server %s: address %v is not loopback", cname, addr)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != stateNew {
		return errors.New("resolvertest: AddServer after Start")
	}
	if _, dup := l.byName[cname]; dup {
		return fmt.Errorf("resolvertest: server %s added twice", cname)
	}
	if addr == l.cfg.ForgerAddr {
		return fmt.Errorf("resolvertest: server %s: address %v is the forger address", cname, addr)
	}
	for _, s := range l.servers {
		if s.addr == addr {
			return fmt.Errorf("resolvertest: server %s: address %v already used by %s", cname, addr, s.name)
		}
	}
	s := &Server{lab: l, name: cname, addr: addr, engine: &engine{}}
	for _, zn := range zones {
		z, ok := l.zones[dns.CanonicalName(zn)]
		if !ok {
			return fmt.Errorf("resolvertest: server %s: zone %q not added", cname, zn)
		}
		s.engine.zones = append(s.engine.zones, z)
	}
	l.servers = append(l.servers, s)
	l.byName[cname] = s
	return nil
}

// Start binds every listener (UDP and TCP on each server address, and the
// forger's UDP socket) and returns once all servers are serving. ctx bounds
// only the start; the lab runs until Close.
func (l *Lab) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != stateNew {
		return errors.New("resolvertest: Start called twice")
	}
	if len(l.servers) == 0 {
		return errors.New("resolvertest: no servers")
	}
	if err := checkLoopbackGlue(l.zones); err != nil {
		return err
	}
	if err := l.signZones(l.cfg.Now()); err != nil {
		return err
	}
	addrs := make([]netip.Addr, 0, len(l.servers))
	for _, s := range l.servers {
		addrs = append(addrs, s.addr)
	}
	l.roots = l.rootNames()
	ls, err := bindAll(ctx, l.cfg.ForgerAddr, addrs, l.cfg.Port)
	if err != nil {
		return err
	}
	if err := ls.serve(ctx, l.servers); err != nil {
		ls.shutdown()
		return err
	}
	l.running = ls
	l.port = ls.port
	l.state = stateStarted
	return nil
}

// Close stops every server and waits for them to stop; queries waiting
// out a simulated latency are dropped. It may be called more than once.
// The lab's lock is not held while servers stop, so callbacks (OnQuery,
// Mutate) still running may use the lab's accessors.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.state = stateClosed
		running := l.running
		l.running = nil
		l.mu.Unlock()
		close(l.done)
		if running != nil {
			l.closeErr = running.shutdown()
		}
	})
	return l.closeErr
}

// Port returns the port every server listens on; it is known after Start.
func (l *Lab) Port() uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.port
}

// ForgerAddr returns the address ForgeSource replies are sent from.
func (l *Lab) ForgerAddr() netip.Addr { return l.cfg.ForgerAddr }

// Server returns the server called name, or nil.
func (l *Lab) Server(name string) *Server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byName[dns.CanonicalName(name)]
}

// Servers returns every server, sorted by name.
func (l *Lab) Servers() []*Server {
	l.mu.Lock()
	out := append([]*Server(nil), l.servers...)
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Addrs maps each server name to the address and port it listens on.
func (l *Lab) Addrs() map[string]netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]netip.AddrPort, len(l.servers))
	for _, s := range l.servers {
		out[s.name] = netip.AddrPortFrom(s.addr, l.port)
	}
	return out
}

// RootHints returns a hints file in named.root format naming the servers
// that host the root zone, each with its address:
//
//	.                    3600000  NS  a.root-servers.lab.
//	a.root-servers.lab.  3600000  A   127.0.0.1
//
// The port is not part of the format; use Port.
func (l *Lab) RootHints() string {
	l.mu.Lock()
	roots := l.rootServers()
	l.mu.Unlock()
	var b strings.Builder
	b.WriteString("; root hints of a resolvertest lab\n")
	for _, s := range roots {
		fmt.Fprintf(&b, ".\t3600000\tIN\tNS\t%s\n", s.name)
	}
	for _, s := range roots {
		t := "A"
		if s.addr.Is6() {
			t = "AAAA"
		}
		fmt.Fprintf(&b, "%s\t3600000\tIN\t%s\t%s\n", s.name, t, s.addr)
	}
	return b.String()
}

// rootServers returns the servers hosting ".", sorted by name. The caller
// holds l.mu.
func (l *Lab) rootServers() []*Server {
	var out []*Server
	for _, s := range l.servers {
		for _, z := range s.engine.zones {
			if z.origin == "." {
				out = append(out, s)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Queries returns a copy of the queries received since the last
// ResetQueries, in arrival order.
func (l *Lab) Queries() []Query { return l.queries.snapshot() }

// ResetQueries forgets the queries received so far.
func (l *Lab) ResetQueries() { l.queries.reset() }

// checkLoopbackGlue enforces the lab's network rule: every address any zone
// gives for a name that some zone uses as an NS target is loopback, so a
// resolver following the lab's delegations never leaves the machine.
func checkLoopbackGlue(zones map[string]*zone) error {
	targets := map[string]bool{}
	for _, z := range zones {
		for _, node := range z.nodes {
			for _, rr := range node[dns.TypeNS] {
				targets[dns.CanonicalName(rr.(*dns.NS).Ns)] = true
			}
		}
	}
	for _, z := range zones {
		for name, node := range z.nodes {
			if !targets[name] {
				continue
			}
			for _, rr := range append(append([]dns.RR(nil), node[dns.TypeA]...), node[dns.TypeAAAA]...) {
				var ip netip.Addr
				switch v := rr.(type) {
				case *dns.A:
					ip, _ = netip.AddrFromSlice(v.A.To4())
				case *dns.AAAA:
					ip, _ = netip.AddrFromSlice(v.AAAA)
				}
				if !ip.Unmap().IsLoopback() {
					return fmt.Errorf("resolvertest: zone %q: name server %s has non-loopback address %v", z.origin, name, ip)
				}
			}
		}
	}
	return nil
}
