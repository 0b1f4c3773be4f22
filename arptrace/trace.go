package arptrace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Config configures a Tracer. The zero value is ready to use: the kernel's
// route picks the interface, time.Now is the clock, logs are discarded.
type Config struct {
	// Interface forces the interface (like arping -I); empty means the one
	// the kernel's route to the address uses.
	Interface string
	// Now is the clock for timestamps and round-trip times.
	Now func() time.Time
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// Tracer traces how an IPv4 address is resolved to a MAC address. It is
// safe for concurrent use; every Trace opens its own socket.
type Tracer struct {
	iface string
	now   func() time.Time
	log   *slog.Logger
}

// NewTracer returns a Tracer for cfg.
func NewTracer(cfg Config) *Tracer {
	t := &Tracer{iface: cfg.Interface, now: cfg.Now, log: cfg.Logger}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	return t
}

// Defaults and bounds of TraceOptions.
const (
	DefaultCount    = 3
	DefaultTimeout  = time.Second
	DefaultInterval = time.Second
	// DefaultDuplicateWindow is how long a probe keeps listening after its
	// first reply, to catch a second host answering for the same IP. On a
	// LAN replies come within a millisecond or two; 100 ms leaves slack for
	// a loaded host without slowing a trace noticeably.
	DefaultDuplicateWindow = 100 * time.Millisecond
	// MaxCount bounds probes per trace: at the default 1 s interval that is
	// more than a day, far beyond any diagnostic use.
	MaxCount = 100000
	// maxRepliesPerProbe bounds replies kept per probe: a storm of forged
	// replies must not grow memory without limit.
	maxRepliesPerProbe = 64
)

// Mode is what a trace sends.
type Mode string

// Trace modes.
const (
	ModeRequest  Mode = "request"  // RFC 826 who-has
	ModeDAD      Mode = "dad"      // RFC 5227 probe from 0.0.0.0
	ModeAnnounce Mode = "announce" // RFC 5227 announcement / gratuitous ARP
)

// TraceOptions are arping-like options. The zero value sends DefaultCount
// broadcast requests one DefaultInterval apart, each waiting DefaultTimeout.
type TraceOptions struct {
	Count    int           // probes to send (arping -c); 0 means DefaultCount
	Timeout  time.Duration // wait per probe (arping -W)
	Interval time.Duration // between probes (arping -i)
	Deadline time.Duration // stop the whole trace after this (arping -w); 0 none
	// Direct probes the address itself even when the route says it is off
	// link (by default the gateway is traced instead).
	Direct bool
	// NoCache skips the neighbour cache lookups before and after.
	NoCache bool
	// Unicast sends re-probes to the MAC already known (from the cache or
	// a first reply) instead of broadcasting, as arping does after a reply.
	Unicast bool
	// DAD sends RFC 5227 probes (sender IP 0.0.0.0): a reply means the
	// address is in use.
	DAD bool
	// Announce sends gratuitous ARP announcements (sender IP = target IP).
	Announce bool
	// DuplicateWindow: see DefaultDuplicateWindow; negative means 0.
	DuplicateWindow time.Duration
	// StopOnReply ends the trace after the first probe that got a reply.
	StopOnReply bool
}

func (o TraceOptions) withDefaults() TraceOptions {
	if o.Count <= 0 {
		o.Count = DefaultCount
	}
	o.Count = min(o.Count, MaxCount)
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	o.DuplicateWindow = max(o.DuplicateWindow, 0)
	return o
}

// CacheLookup is the kernel neighbour table's answer for one IP.
type CacheLookup struct {
	Found bool       `json:"found"`
	Entry *Neighbour `json:"entry,omitempty"`
	Error string     `json:"error,omitempty"`
}

// Reply is one frame received for a probe.
type Reply struct {
	Frame     Frame         `json:"frame"`
	At        time.Time     `json:"at"`
	RTT       time.Duration `json:"rtt_ns"`
	RTTMicros float64       `json:"rtt_us"`
	// Conflict is set when this reply's MAC differs from an earlier
	// reply's MAC for the same IP.
	Conflict bool `json:"conflict,omitempty"`
}

// Probe is one request sent and what came back for it.
type Probe struct {
	Seq     int       `json:"seq"`
	Sent    Frame     `json:"sent"`
	SentAt  time.Time `json:"sent_at"`
	Unicast bool      `json:"unicast,omitempty"`
	Replies []Reply   `json:"replies"`
}

// Summary closes a trace like arping's last lines.
type Summary struct {
	Sent      int           `json:"sent"`
	Received  int           `json:"received"` // probes that got at least one reply
	Replies   int           `json:"replies"`  // every reply, duplicates included
	MinRTT    time.Duration `json:"rtt_min_ns"`
	AvgRTT    time.Duration `json:"rtt_avg_ns"`
	MaxRTT    time.Duration `json:"rtt_max_ns"`
	MACs      []MAC         `json:"macs"`     // distinct MACs that replied, first first
	Conflict  bool          `json:"conflict"` // more than one MAC replied
	InUse     bool          `json:"in_use"`   // DAD: someone answers for the address
	Cancelled bool          `json:"cancelled,omitempty"`
}

// Trace is everything one Trace call saw, step by step.
type Trace struct {
	Target     netip.Addr   `json:"target"`
	Probed     netip.Addr   `json:"probed"` // Target, or its gateway when off-link
	Mode       Mode         `json:"mode"`
	Route      *RouteInfo   `json:"route,omitempty"`
	RouteError string       `json:"route_error,omitempty"`
	ViaGateway bool         `json:"via_gateway"` // Probed is the gateway, not Target
	Interface  Interface    `json:"interface"`
	Source     netip.Addr   `json:"source"` // sender IP in our requests
	Before     *CacheLookup `json:"before,omitempty"`
	Probes     []Probe      `json:"probes"`
	After      *CacheLookup `json:"after,omitempty"`
	AfterNote  string       `json:"after_note,omitempty"` // why the table did (not) change
	Summary    Summary      `json:"summary"`
	Notes      []string     `json:"notes,omitempty"`
}

// Trace runs the four steps for ip: route, neighbour cache, ARP on the
// wire, neighbour cache again. No reply is not an error: look at
// Summary.Received. Errors are for setup (bad address, interface,
// permission) and are returned with the partial Trace when one exists.
func (t *Tracer) Trace(ctx context.Context, ip netip.Addr, opts TraceOptions) (*Trace, error) {
	if !ip.Is4() || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return nil, fmt.Errorf("%w: %v is not a unicast IPv4 address", ErrInvalidAddress, ip)
	}
	opts = opts.withDefaults()
	tr := &Trace{Target: ip, Probed: ip, Mode: ModeRequest}
	switch {
	case opts.DAD:
		tr.Mode = ModeDAD
	case opts.Announce:
		tr.Mode = ModeAnnounce
	}

	// Step 1: route.
	ri, rerr := Route(ctx, ip)
	if errors.Is(rerr, ErrNotSupported) {
		return nil, rerr
	}
	if rerr == nil {
		tr.Route = &ri
		if !ri.OnLink && !opts.Direct && tr.Mode == ModeRequest {
			tr.Probed, tr.ViaGateway = ri.Gateway, true
			tr.Notes = append(tr.Notes, fmt.Sprintf("%v is off-link: tracing gateway %v instead", ip, ri.Gateway))
		}
		if ri.Type == "local" {
			tr.Notes = append(tr.Notes, fmt.Sprintf("%v is an address of this host", ip))
		}
	} else {
		tr.RouteError = rerr.Error()
	}
	name := t.iface
	if name == "" {
		if rerr != nil {
			return tr, fmt.Errorf("arptrace: no interface given and %w", rerr)
		}
		name = ri.Interface
		if ri.Type == "local" {
			// Our own address routes via lo; announce it where it lives.
			if n, ok := interfaceWithAddr(ip); ok {
				name = n
			}
		}
	}
	ifi, err := lookupInterface(name)
	if err != nil {
		return tr, err
	}
	tr.Interface = ifi
	tr.Source = ifi.sourceFor(tr.Probed)
	if rerr == nil && ri.Index == ifi.Index && ri.Source.IsValid() && !tr.ViaGateway {
		tr.Source = ri.Source
	}
	if len(ifi.Addrs) == 0 {
		tr.Notes = append(tr.Notes, fmt.Sprintf("%s has no IPv4 address: requests are sent from 0.0.0.0", ifi.Name))
	}
	switch tr.Mode {
	case ModeDAD:
		tr.Source = netip.IPv4Unspecified()
	case ModeAnnounce:
		tr.Source = tr.Probed
	}

	// Step 2: cache before.
	var known MAC
	if !opts.NoCache {
		tr.Before = t.lookup(ctx, ifi.Name, tr.Probed)
		if tr.Before.Entry != nil && tr.Before.Entry.HasMAC {
			known = tr.Before.Entry.MAC
		}
	}

	// Step 3: the wire.
	l, err := openLink(ctx, ifi, false, false, t.now)
	if err != nil {
		return tr, err
	}
	err = t.probe(ctx, l, tr, opts, known)
	if cerr := l.close(); err == nil && cerr != nil {
		err = fmt.Errorf("arptrace: close: %w", cerr)
	}
	if err != nil {
		return tr, err
	}

	// Step 4: cache after (with a fresh context if ours ended, so an
	// interrupted trace still shows it).
	if !opts.NoCache {
		actx := ctx
		if ctx.Err() != nil {
			var cancel context.CancelFunc
			actx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
		}
		tr.After = t.lookup(actx, ifi.Name, tr.Probed)
		if tr.Summary.Received > 0 && tr.After.Error == "" && !tr.After.Found {
			tr.AfterNote = "the kernel did not cache these replies: it learns only from answers to its own " +
				"requests and from requests addressed to it (net.ipv4.conf.*.arp_accept=0)"
		}
	}
	return tr, nil
}

func (t *Tracer) lookup(ctx context.Context, iface string, ip netip.Addr) *CacheLookup {
	n, ok, err := LookupNeighbour(ctx, iface, ip)
	if err != nil {
		return &CacheLookup{Error: err.Error()}
	}
	if !ok {
		return &CacheLookup{}
	}
	return &CacheLookup{Found: true, Entry: &n}
}

// matches reports whether f answers a probe for ip in mode m.
func matches(f Frame, ip netip.Addr, m Mode) bool {
	if f.SenderIP != ip {
		return false
	}
	switch m {
	case ModeDAD, ModeAnnounce:
		// Any ARP claiming the address from another station defends it.
		return true
	default:
		return f.Op == 2
	}
}

func (t *Tracer) probe(ctx context.Context, l link, tr *Trace, opts TraceOptions, known MAC) error {
	start := time.Now()
	var overall time.Time
	if opts.Deadline > 0 {
		overall = start.Add(opts.Deadline)
	}
	s := &tr.Summary
	var rttSum time.Duration
	for seq := 1; seq <= opts.Count; seq++ {
		if ctx.Err() != nil || (!overall.IsZero() && !time.Now().Before(overall)) {
			break
		}
		dst := Broadcast
		if opts.Unicast && !known.IsZero() {
			dst = known
		}
		f := whoHas(dst, tr.Interface.MAC, tr.Source, tr.Probed)
		p := Probe{Seq: seq, Sent: f, Unicast: dst != Broadcast}
		sendReal := time.Now()
		p.SentAt = t.now()
		if err := l.send(f); err != nil {
			return err
		}
		s.Sent++
		t.log.Debug("arptrace: sent", "seq", seq, "dst", dst, "target", tr.Probed)
		end := sendReal.Add(opts.Timeout)
		if seq < opts.Count {
			end = sendReal.Add(max(opts.Interval, opts.Timeout))
		}
		if !overall.IsZero() && overall.Before(end) {
			end = overall
		}
		replyEnd := time.Time{}
		for len(p.Replies) < maxRepliesPerProbe {
			wait := end
			if !replyEnd.IsZero() && replyEnd.Before(wait) {
				wait = replyEnd
			}
			if !time.Now().Before(wait) {
				break
			}
			rf, at, err := l.recv(ctx, wait)
			if err != nil {
				if isTimeout(err) {
					break
				}
				if ctx.Err() != nil {
					s.Cancelled = true
					break
				}
				return err
			}
			if !matches(rf, tr.Probed, tr.Mode) {
				continue
			}
			rtt := at.Sub(p.SentAt)
			r := Reply{Frame: rf, At: at, RTT: rtt, RTTMicros: float64(rtt.Nanoseconds()) / 1e3}
			if len(s.MACs) > 0 && !containsMAC(s.MACs, rf.SenderMAC) {
				r.Conflict = true
			}
			if !containsMAC(s.MACs, rf.SenderMAC) {
				s.MACs = append(s.MACs, rf.SenderMAC)
			}
			if len(p.Replies) == 0 {
				s.Received++
				rttSum += rtt
				if s.MinRTT == 0 || rtt < s.MinRTT {
					s.MinRTT = rtt
				}
				s.MaxRTT = max(s.MaxRTT, rtt)
				replyEnd = time.Now().Add(opts.DuplicateWindow)
				if known.IsZero() {
					known = rf.SenderMAC
				}
			}
			s.Replies++
			p.Replies = append(p.Replies, r)
		}
		tr.Probes = append(tr.Probes, p)
		if s.Cancelled || (opts.StopOnReply && len(p.Replies) > 0) {
			break
		}
		if seq < opts.Count && len(p.Replies) > 0 {
			// Replied early: wait out the interval before the next probe.
			if err := sleepUntil(ctx, sendReal.Add(opts.Interval), overall); err != nil {
				s.Cancelled = true
				break
			}
		}
	}
	if s.Received > 0 {
		s.AvgRTT = rttSum / time.Duration(s.Received)
	}
	s.Conflict = len(s.MACs) > 1
	s.InUse = tr.Mode == ModeDAD && s.Replies > 0
	if ctx.Err() != nil {
		s.Cancelled = true
	}
	return nil
}

func containsMAC(ms []MAC, m MAC) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// sleepUntil waits until t (or limit, if earlier and non-zero) or ctx ends.
func sleepUntil(ctx context.Context, t, limit time.Time) error {
	if !limit.IsZero() && limit.Before(t) {
		t = limit
	}
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
