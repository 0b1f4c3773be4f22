package arptrace

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Scan defaults (those of arp-scan) and bounds.
const (
	// DefaultScanBandwidth is arp-scan's default, 256 kbit/s.
	DefaultScanBandwidth = 256_000
	// scanFrameBits is what one request costs on the wire: 64-byte minimum
	// frame plus 8-byte preamble and 12-byte inter-frame gap.
	scanFrameBits      = (64 + 8 + 12) * 8
	DefaultScanTries   = 2
	DefaultScanTimeout = 500 * time.Millisecond
	DefaultScanBackoff = 1.5
	// MaxScanHosts is the largest range scanned without Force: a /20. A
	// bigger range on a LAN is almost always a typo (a /8 would take hours
	// at the default rate and flood the segment with broadcasts).
	MaxScanHosts = 4096
	// MaxForcedScanHosts bounds even a forced scan: a /16.
	MaxForcedScanHosts = 1 << 16
	// MaxScanTries bounds attempts per host: each adds a round, and a
	// host silent after ten broadcasts is not there.
	MaxScanTries = 10
	// maxScanRate bounds packets per second; beyond it the kernel's socket
	// buffer drops frames anyway and the LAN suffers.
	maxScanRate = 100_000
)

// ScanOptions configures Scan. The zero value scans like arp-scan.
type ScanOptions struct {
	// Rate in packets per second; if 0, Bandwidth decides.
	Rate float64
	// Bandwidth in bits per second; 0 means DefaultScanBandwidth.
	Bandwidth float64
	// Tries is the number of attempts per host (arp-scan --retry); later
	// tries go only to hosts that did not answer. 0 means DefaultScanTries.
	Tries int
	// Timeout is how long a host has to answer its first request; the
	// i-th retry waits Timeout*Backoff^i (arp-scan's --timeout, --backoff).
	Timeout time.Duration
	Backoff float64
	// Random sends to hosts in random order (Seed makes it repeatable).
	Random bool
	Seed   uint64
	// Force allows up to MaxForcedScanHosts addresses.
	Force bool
	// OUI names vendors; nil leaves Vendor "(unknown)".
	OUI *OUIDB
	// Progress, if set, is called after each request sent.
	Progress func(sent, total, responded int)
}

// ScanHost is one responding address.
type ScanHost struct {
	IP        netip.Addr    `json:"ip"`
	MAC       MAC           `json:"mac"`
	Vendor    string        `json:"vendor"`
	RTT       time.Duration `json:"rtt_ns"`
	RTTMicros float64       `json:"rtt_us"`
	Replies   int           `json:"replies"`              // more than 1: duplicate replies
	OtherMACs []MAC         `json:"other_macs,omitempty"` // other MACs answering for IP
	Conflict  bool          `json:"conflict"`
}

// ScanResult is a finished scan.
type ScanResult struct {
	Interface   string        `json:"interface"`
	MAC         MAC           `json:"mac"`
	Source      netip.Addr    `json:"source"`
	Prefix      netip.Prefix  `json:"prefix"`
	Scanned     int           `json:"scanned"`
	Sent        int           `json:"sent"`
	Responded   int           `json:"responded"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	HostsPerSec float64       `json:"hosts_per_sec"`
	Rate        float64       `json:"rate_pps"`
	Tries       int           `json:"tries"`
	Hosts       []ScanHost    `json:"hosts"`
	Cancelled   bool          `json:"cancelled,omitempty"`
}

// ScanTargets lists the addresses of p that a scan probes: all of them,
// except the network and broadcast addresses of prefixes up to /30.
func ScanTargets(p netip.Prefix, force bool) ([]netip.Addr, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return nil, fmt.Errorf("%w: %v is not an IPv4 prefix", ErrInvalidAddress, p)
	}
	p = p.Masked()
	size := uint64(1) << (32 - p.Bits())
	limit := uint64(MaxScanHosts)
	if force {
		limit = MaxForcedScanHosts
	}
	if size > limit {
		hint := " (use --force to allow up to /16)"
		if force {
			hint = ""
		}
		return nil, fmt.Errorf("%w: %v has %d addresses, more than %d%s", ErrTooLarge, p, size, limit, hint)
	}
	out := make([]netip.Addr, 0, size)
	for a := p.Addr(); p.Contains(a); a = a.Next() {
		out = append(out, a)
	}
	if p.Bits() <= 30 {
		out = out[1 : len(out)-1]
	}
	return out, nil
}

// scanState is shared between the sender and the reader goroutine.
type scanState struct {
	mu       sync.Mutex
	sentAt   map[netip.Addr]time.Time // last request time, nil entry: not a target
	hosts    map[netip.Addr]*ScanHost
	answered chan struct{} // signalled (non-blocking) on each new host
}

// Scan sends a who-has to every address of p on the interface (t's
// Config.Interface, else the one routing to p) and collects the replies.
func (t *Tracer) Scan(ctx context.Context, p netip.Prefix, opts ScanOptions) (*ScanResult, error) {
	targets, err := ScanTargets(p, opts.Force)
	if err != nil {
		return nil, err
	}
	if opts.Tries < 0 || opts.Tries > MaxScanTries {
		return nil, fmt.Errorf("arptrace: scan tries %d not in 1..%d", opts.Tries, MaxScanTries)
	}
	if opts.Tries == 0 {
		opts.Tries = DefaultScanTries
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultScanTimeout
	}
	if opts.Backoff < 1 {
		opts.Backoff = DefaultScanBackoff
	}
	rate := opts.Rate
	if rate <= 0 {
		bw := opts.Bandwidth
		if bw <= 0 {
			bw = DefaultScanBandwidth
		}
		rate = bw / scanFrameBits
	}
	rate = min(rate, maxScanRate)
	name := t.iface
	if name == "" {
		ri, err := Route(ctx, p.Masked().Addr().Next())
		if err != nil {
			return nil, fmt.Errorf("arptrace: no interface given and %w", err)
		}
		name = ri.Interface
	}
	ifi, err := lookupInterface(name)
	if err != nil {
		return nil, err
	}
	src := netip.IPv4Unspecified()
	for _, a := range ifi.Addrs {
		if a.Contains(p.Addr()) {
			src = a.Addr()
		}
	}
	if !src.IsValid() || src.IsUnspecified() {
		src = ifi.sourceFor(p.Addr())
	}
	res := &ScanResult{Interface: ifi.Name, MAC: ifi.MAC, Source: src, Prefix: p.Masked(), Scanned: len(targets),
		Rate: rate, Tries: opts.Tries}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l, err := openLink(sctx, ifi, false, false, t.now)
	if err != nil {
		return nil, err
	}
	st := &scanState{sentAt: make(map[netip.Addr]time.Time, len(targets)),
		hosts: make(map[netip.Addr]*ScanHost), answered: make(chan struct{}, 1)}
	for _, a := range targets {
		st.sentAt[a] = time.Time{}
	}
	var wg sync.WaitGroup
	wg.Go(func() { st.read(sctx, l, opts.OUI) })

	start := t.now()
	startReal := time.Now()
	gap := time.Duration(float64(time.Second) / rate)
	next := startReal
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	pending := targets
	var sendErr error
	// retryAt is when each host's timeout for its last request ends (real
	// time): as arp-scan does, a host is asked again only after its own
	// timeout, and the next round starts as soon as the first host's ends.
	retryAt := make(map[netip.Addr]time.Time, len(targets))
rounds:
	for round := 0; round < opts.Tries && len(pending) > 0; round++ {
		wait := time.Duration(float64(opts.Timeout) * math.Pow(opts.Backoff, float64(round)))
		order := slices.Clone(pending)
		if opts.Random {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		var first, last time.Time
		for _, ip := range order {
			if st.responded(ip) {
				continue
			}
			if ra := retryAt[ip]; ra.After(next) {
				next = ra
			}
			if err := sleepUntil(ctx, next, time.Time{}); err != nil {
				break rounds
			}
			next = next.Add(gap)
			if now := time.Now(); next.Before(now.Add(-gap)) {
				next = now // don't burst to catch up after a stall
			}
			st.mu.Lock()
			st.sentAt[ip] = t.now()
			st.mu.Unlock()
			if err := l.send(whoHas(Broadcast, ifi.MAC, src, ip)); err != nil {
				sendErr = err
				break rounds
			}
			last = time.Now().Add(wait)
			retryAt[ip] = last
			if first.IsZero() {
				first = last
			}
			res.Sent++
			if opts.Progress != nil {
				opts.Progress(res.Sent, len(targets), st.count())
			}
		}
		deadline := first // next round may begin when the first host's timeout ends
		if round == opts.Tries-1 {
			deadline = last // the last round waits out every timeout
		}
		if !st.waitAll(ctx, len(targets), deadline) {
			break
		}
		pending = pending[:0:0]
		for _, ip := range targets {
			if !st.responded(ip) {
				pending = append(pending, ip)
			}
		}
	}
	res.Elapsed = t.now().Sub(start)
	cancel()
	wg.Wait()
	if err := l.close(); err != nil && sendErr == nil {
		sendErr = fmt.Errorf("arptrace: close: %w", err)
	}
	if sendErr != nil {
		return nil, sendErr
	}
	res.Cancelled = ctx.Err() != nil
	st.mu.Lock()
	for _, h := range st.hosts {
		res.Hosts = append(res.Hosts, *h)
	}
	st.mu.Unlock()
	slices.SortFunc(res.Hosts, func(a, b ScanHost) int { return a.IP.Compare(b.IP) })
	res.Responded = len(res.Hosts)
	if s := res.Elapsed.Seconds(); s > 0 {
		res.HostsPerSec = float64(res.Scanned) / s
	}
	return res, nil
}

func (st *scanState) responded(ip netip.Addr) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hosts[ip] != nil
}

func (st *scanState) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.hosts)
}

// waitAll waits until every target answered (true, nothing left), the
// deadline (true) or ctx ends (false).
func (st *scanState) waitAll(ctx context.Context, total int, deadline time.Time) bool {
	tm := time.NewTimer(time.Until(deadline))
	defer tm.Stop()
	for st.count() < total {
		select {
		case <-ctx.Done():
			return false
		case <-tm.C:
			return true
		case <-st.answered:
		}
	}
	return true
}

// scanReadSlice is how long one read blocks; the reader exits when ctx
// ends (the link sets a past deadline then), this only keeps reads short.
const scanReadSlice = time.Second

func (st *scanState) read(ctx context.Context, l link, oui *OUIDB) {
	// Bounded by ctx: Scan cancels it once the last round's wait is over.
	for ctx.Err() == nil {
		f, at, err := l.recv(ctx, time.Now().Add(scanReadSlice))
		if err != nil {
			if isTimeout(err) {
				continue
			}
			return
		}
		if f.Op != 2 {
			continue
		}
		st.mu.Lock()
		sent, isTarget := st.sentAt[f.SenderIP]
		if !isTarget || sent.IsZero() {
			st.mu.Unlock()
			continue
		}
		h := st.hosts[f.SenderIP]
		switch {
		case h == nil:
			rtt := at.Sub(sent)
			st.hosts[f.SenderIP] = &ScanHost{IP: f.SenderIP, MAC: f.SenderMAC, Vendor: oui.Vendor(f.SenderMAC),
				RTT: rtt, RTTMicros: float64(rtt.Nanoseconds()) / 1e3, Replies: 1}
			select {
			case st.answered <- struct{}{}:
			default:
			}
		case f.SenderMAC != h.MAC:
			h.Replies++
			h.Conflict = true
			if !containsMAC(h.OtherMACs, f.SenderMAC) {
				h.OtherMACs = append(h.OtherMACs, f.SenderMAC)
			}
		default:
			h.Replies++
		}
		st.mu.Unlock()
	}
}
