package arptrace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/addrwalk/addrwalk/internal/rawlink"
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
	DefaultInterval = time.Second
	// Unlimited as TraceOptions.Count sends until the deadline, a reply
	// that ends the trace, or cancellation, as arping without -c does;
	// MaxCount still bounds it.
	Unlimited = -1
	// MaxCount bounds probes per trace: at the default 1 s interval that is
	// more than a day, far beyond any diagnostic use.
	MaxCount = 100000
	// MinInterval is the shortest interval between probes. arping takes
	// whole seconds (and -i 0 there disarms its timer, so it never stops);
	// a millisecond keeps even a long trace from flooding the link.
	MinInterval = time.Millisecond
	// maxRepliesPerProbe bounds replies kept per probe: a storm of forged
	// replies must not grow memory without limit (they are still counted).
	maxRepliesPerProbe = 64
)

// Mode is what a trace sends.
type Mode string

// Trace modes.
const (
	ModeRequest  Mode = "request"  // RFC 826 who-has (arping)
	ModeDAD      Mode = "dad"      // RFC 5227 probe from 0.0.0.0 (arping -D)
	ModeAnnounce Mode = "announce" // gratuitous request, sender IP = target IP (arping -U)
	ModeAnswer   Mode = "answer"   // gratuitous reply (arping -A)
)

// TraceObserver is told about a trace as it happens, so that a command
// line can stream it; every method runs on the tracing goroutine.
type TraceObserver interface {
	// Ready: route, interface, source and cache lookup are known; nothing
	// has been sent yet.
	Ready(tr *Trace)
	// Sent: a probe went out.
	Sent(tr *Trace, p Probe)
	// Received: a frame answering the trace came in (r is also appended
	// to the last probe sent, when there is room).
	Received(tr *Trace, p Probe, r Reply)
}

// TraceOptions are arping's options. The zero value sends DefaultCount
// broadcast requests one DefaultInterval apart.
type TraceOptions struct {
	// Count is how many frames to send (arping -c); 0 means DefaultCount,
	// Unlimited means until Deadline, StopOnReply or cancellation. As in
	// arping the trace ends one Interval after the last frame.
	Count int
	// Interval between frames (arping -i); 0 means DefaultInterval.
	Interval time.Duration
	// Deadline ends the whole trace after this long (arping -w); 0 means
	// none. With a Count, the trace also ends once Count replies came.
	Deadline time.Duration
	// Direct probes the address itself even when the route says it is off
	// link (by default the gateway is traced instead).
	Direct bool
	// NoCache skips the neighbour cache lookups before and after.
	NoCache bool
	// BroadcastOnly keeps broadcasting after a reply (arping -b); by
	// default later requests go by unicast to the MAC that answered.
	BroadcastOnly bool
	// Mode: ModeRequest when empty.
	Mode Mode
	// Source is the sender IP (arping -s); zero means: 0.0.0.0 for DAD,
	// the target for announcements, else the route's source.
	Source netip.Addr
	// StopOnReply ends the trace at the first reply (arping -f; always on
	// for DAD, where one reply settles it).
	StopOnReply bool
	// Observer, if set, sees the trace as it happens.
	Observer TraceObserver
}

func (o TraceOptions) withDefaults() TraceOptions {
	switch {
	case o.Count == 0:
		o.Count = DefaultCount
	case o.Count < 0 || o.Count > MaxCount:
		o.Count = MaxCount
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	o.Interval = max(o.Interval, MinInterval)
	if o.Mode == "" {
		o.Mode = ModeRequest
	}
	if o.Mode == ModeDAD {
		o.StopOnReply = true
	}
	return o
}

// CacheLookup is the kernel neighbour table's answer for one IP.
type CacheLookup struct {
	Found bool       `json:"found"`
	Entry *Neighbour `json:"entry,omitempty"`
	Error string     `json:"error,omitempty"`
}

// Reply is one frame received that answers the trace.
type Reply struct {
	Frame Frame     `json:"frame"`
	At    time.Time `json:"at"`
	// Offset is the time since the trace's first frame went out.
	Offset Millis `json:"offset_ms"`
	// RTT is the time since the last frame sent, as arping measures it.
	RTT Millis `json:"rtt_ms"`
	// Unicast: the frame was addressed to our MAC (arping's "Unicast"),
	// not broadcast.
	Unicast bool `json:"unicast"`
	// Conflict is set when this reply's MAC differs from an earlier
	// reply's MAC for the same IP.
	Conflict bool `json:"conflict,omitempty"`
}

// Probe is one frame sent and what came back before the next one.
type Probe struct {
	Seq    int       `json:"seq"`
	Sent   Frame     `json:"sent"`
	SentAt time.Time `json:"sent_at"`
	// Offset is the time since the trace's first frame went out.
	Offset  Millis  `json:"offset_ms"`
	Unicast bool    `json:"unicast,omitempty"` // sent to a known MAC, not broadcast
	Replies []Reply `json:"replies,omitempty"`
}

// Summary closes a trace like arping's last lines.
type Summary struct {
	Sent       int `json:"sent"`
	Broadcasts int `json:"broadcasts"` // frames sent to ff:ff:ff:ff:ff:ff
	// Received counts every frame that answered, as arping's "responses".
	Received int `json:"received"`
	// Answered counts probes that got at least one reply.
	Answered int `json:"answered"`
	// Requests and BroadcastReplies are arping's "(N request(s), M
	// broadcast(s))": answers that were ARP requests, or not unicast to us.
	Requests         int    `json:"requests,omitempty"`
	BroadcastReplies int    `json:"broadcast_replies,omitempty"`
	MinRTT           Millis `json:"rtt_min_ms,omitempty"`
	AvgRTT           Millis `json:"rtt_avg_ms,omitempty"`
	MaxRTT           Millis `json:"rtt_max_ms,omitempty"`
	MACs             []MAC  `json:"macs,omitempty"` // distinct MACs that replied, first first
	Conflict         bool   `json:"conflict"`       // more than one MAC replied
	InUse            bool   `json:"in_use"`         // DAD: someone answers for the address
	Elapsed          Millis `json:"elapsed_ms"`
	Cancelled        bool   `json:"cancelled,omitempty"`
}

// Trace is everything one Trace call saw, step by step.
type Trace struct {
	Target netip.Addr `json:"target"`
	// Host is the name the caller resolved to Target, if any.
	Host       string       `json:"host,omitempty"`
	Probed     netip.Addr   `json:"probed"` // Target, or its gateway when off-link
	Mode       Mode         `json:"mode"`
	Route      *RouteInfo   `json:"route,omitempty"`
	RouteError string       `json:"route_error,omitempty"`
	ViaGateway bool         `json:"via_gateway"` // Probed is the gateway, not Target
	Interface  Interface    `json:"interface"`
	Source     netip.Addr   `json:"source"` // sender IP in our frames
	Before     *CacheLookup `json:"before,omitempty"`
	Start      time.Time    `json:"start"` // when the first frame went out
	Probes     []Probe      `json:"probes,omitempty"`
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
		return nil, InvalidAddressf("arptrace", "%v is not a unicast IPv4 address", ip)
	}
	if opts.Source.IsValid() && !opts.Source.Is4() {
		return nil, InvalidAddressf("arptrace", "source %v is not an IPv4 address", opts.Source)
	}
	opts = opts.withDefaults()
	tr := &Trace{Target: ip, Probed: ip, Mode: opts.Mode}

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
	switch {
	case opts.Source.IsValid():
		tr.Source = opts.Source
	case tr.Mode == ModeDAD:
		tr.Source = netip.IPv4Unspecified()
	case tr.Mode == ModeAnnounce, tr.Mode == ModeAnswer:
		tr.Source = tr.Probed
	}

	// Step 2: cache before.
	if !opts.NoCache {
		tr.Before = t.lookup(ctx, ifi.Name, tr.Probed)
	}
	if opts.Observer != nil {
		opts.Observer.Ready(tr)
	}

	// Step 3: the wire.
	l, err := openLink(ctx, ifi, false, false, t.now)
	if err != nil {
		return tr, err
	}
	if err := rawlink.CloseAfter(t.probe(ctx, l, tr, opts), l.close, "arptrace"); err != nil {
		return tr, err
	}

	// Step 4: cache after (with a fresh context if ours ended, so an
	// interrupted trace still shows it).
	if !opts.NoCache {
		rawlink.AfterProbe(ctx, func(ctx context.Context) { tr.After = t.lookup(ctx, ifi.Name, tr.Probed) })
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

// frameFor builds what mode m sends: a who-has (request, DAD, -U) or a
// gratuitous is-at (-A, whose target MAC is our own, as arping's).
func frameFor(m Mode, dst, own MAC, src, target netip.Addr) Frame {
	if m == ModeAnswer {
		f := Frame{EthDst: dst, EthSrc: own, Op: 2, SenderMAC: own, SenderIP: src, TargetMAC: own, TargetIP: target}
		f.Kind = classify(f)
		return f
	}
	return whoHas(dst, own, src, target)
}

// answers reports whether f answers a trace for ip sent from (own, src),
// with arping's rules: outside DAD the sender must be ip and the target
// us (our IP and our MAC); in DAD any frame from another station whose
// sender is ip (and, if we probe from an address, whose target it is).
func answers(f Frame, m Mode, ip, src netip.Addr, own MAC) bool {
	if f.SenderIP != ip {
		return false
	}
	if m == ModeDAD {
		return f.SenderMAC != own && (src.IsUnspecified() || f.TargetIP == src)
	}
	return f.TargetIP == src && f.TargetMAC == own
}

// probe sends frames on arping's schedule: the first at once, then one
// per interval tick; the tick after the Count-th frame ends the trace, as
// does the deadline (a tick that falls on it is handled first, as in
// arping), the first reply with StopOnReply, or Count replies when a
// deadline is set.
func (t *Tracer) probe(ctx context.Context, l link, tr *Trace, opts TraceOptions) error {
	s := &tr.Summary
	own := tr.Interface.MAC
	dst := Broadcast
	startReal := time.Now()
	var deadline time.Time
	if opts.Deadline > 0 {
		deadline = startReal.Add(opts.Deadline)
	}
	var rttSum time.Duration
	defer func() {
		if s.Answered > 0 {
			s.AvgRTT = Millis(rttSum / time.Duration(s.Answered))
		}
		s.Conflict = len(s.MACs) > 1
		s.InUse = tr.Mode == ModeDAD && s.Received > 0
		s.Elapsed = Millis(time.Since(startReal))
		if ctx.Err() != nil {
			s.Cancelled = true
		}
	}()
	var lastSent time.Time // real clock, for RTTs
	send := func() error {
		f := frameFor(tr.Mode, dst, own, tr.Source, tr.Probed)
		p := Probe{Seq: s.Sent + 1, Sent: f, Unicast: dst != Broadcast}
		lastSent = time.Now()
		p.SentAt = t.now()
		if s.Sent == 0 {
			tr.Start = p.SentAt
		}
		p.Offset = Millis(lastSent.Sub(startReal))
		if err := l.send(f); err != nil {
			return err
		}
		s.Sent++
		if !p.Unicast {
			s.Broadcasts++
		}
		tr.Probes = append(tr.Probes, p)
		t.log.Debug("arptrace: sent", "seq", p.Seq, "dst", dst, "target", tr.Probed)
		if opts.Observer != nil {
			opts.Observer.Sent(tr, p)
		}
		return nil
	}
	if err := send(); err != nil {
		return err
	}
	tick := 1
	for {
		nextTick := startReal.Add(time.Duration(tick) * opts.Interval)
		wait := nextTick
		if !deadline.IsZero() && deadline.Before(wait) {
			wait = deadline
		}
		rf, at, err := l.recv(ctx, wait)
		switch {
		case err == nil:
		case isTimeout(err):
			if !time.Now().Before(nextTick) {
				// The interval tick (handled before a deadline falling on it).
				if tick >= opts.Count {
					return nil
				}
				tick++
				if err := send(); err != nil {
					return err
				}
			}
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return nil
			}
			continue
		case ctx.Err() != nil:
			return nil
		default:
			return err
		}
		if !answers(rf, tr.Mode, tr.Probed, tr.Source, own) {
			continue
		}
		p := &tr.Probes[len(tr.Probes)-1]
		rtt := at.Sub(p.SentAt) // on the injected clock
		if rtt < 0 {
			rtt = time.Since(lastSent) // a clock that went backwards
		}
		r := Reply{Frame: rf, At: at, Offset: Millis(at.Sub(tr.Start)), RTT: Millis(rtt), Unicast: rf.EthDst == own}
		if len(s.MACs) > 0 && !containsMAC(s.MACs, rf.SenderMAC) {
			r.Conflict = true
		}
		if !containsMAC(s.MACs, rf.SenderMAC) {
			s.MACs = append(s.MACs, rf.SenderMAC)
		}
		if len(p.Replies) == 0 {
			s.Answered++
			rttSum += rtt
			if s.MinRTT == 0 || Millis(rtt) < s.MinRTT {
				s.MinRTT = Millis(rtt)
			}
			s.MaxRTT = max(s.MaxRTT, Millis(rtt))
		}
		s.Received++
		if !r.Unicast {
			s.BroadcastReplies++
		}
		if rf.Op == 1 {
			s.Requests++
		}
		if len(p.Replies) < maxRepliesPerProbe {
			p.Replies = append(p.Replies, r)
		}
		if opts.Observer != nil {
			opts.Observer.Received(tr, *p, r)
		}
		if (!deadline.IsZero() && opts.Count > 0 && s.Received == opts.Count) || opts.StopOnReply {
			return nil
		}
		if !opts.BroadcastOnly {
			dst = rf.SenderMAC
		}
	}
}

func containsMAC(ms []MAC, m MAC) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}
