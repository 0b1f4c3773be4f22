package arptrace

import (
	"context"
	"fmt"
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
	// scanFrameBits is what arp-scan charges a request against the
	// bandwidth: the 46-byte minimum payload plus 18 bytes of Ethernet
	// header and FCS, 64 bytes; at 256 kbit/s that is one per 2 ms.
	scanFrameBits      = (46 + 18) * 8
	DefaultScanTries   = 2
	DefaultScanTimeout = 500 * time.Millisecond
	DefaultScanBackoff = 1.5
	// MaxScanTries bounds attempts per host: each adds a pass, and a
	// host silent after ten broadcasts is not there.
	MaxScanTries = 10
	// minScanInterval bounds the packet rate at 100,000 per second; beyond
	// it the kernel's socket buffer drops frames anyway and the LAN suffers.
	minScanInterval = 10 * time.Microsecond
	// maxScanBackoff bounds the timeout multiplier: with ten tries a
	// factor of 10 already waits 10^9 times the first timeout.
	maxScanBackoff = 10
	// maxScanDups bounds the duplicate replies kept per host; more are
	// still counted and reported.
	maxScanDups = 16
)

// ScanOptions configures Scan. The zero value scans like arp-scan.
type ScanOptions struct {
	// Interval is the minimum time between two requests (arp-scan
	// --interval); if 0, Bandwidth decides.
	Interval time.Duration
	// Bandwidth in bits per second (arp-scan --bandwidth); 0 means
	// DefaultScanBandwidth.
	Bandwidth float64
	// Tries is the total number of attempts per host (arp-scan --retry);
	// later ones go only to hosts that did not answer. 0: DefaultScanTries.
	Tries int
	// Timeout is how long a host has to answer its first request; each
	// later attempt waits Backoff times longer (arp-scan --timeout,
	// --backoff). 0: DefaultScanTimeout, DefaultScanBackoff.
	Timeout time.Duration
	Backoff float64
	// Random sends to hosts in random order (Seed makes it repeatable).
	Random bool
	Seed   uint64
	// OUI names vendors; nil leaves them "(Unknown)".
	OUI *OUIDB
	// OnResponse, if set, is called for every reply as it arrives,
	// duplicates included (Dup > 1), from one goroutine.
	OnResponse func(ScanResponse)
	// Progress, if set, is called after each request sent.
	Progress func(sent, total, responded int)
}

// ScanResponse is one reply received during a scan.
type ScanResponse struct {
	IP     netip.Addr `json:"ip"`
	MAC    MAC        `json:"mac"`
	Vendor string     `json:"vendor"`
	RTT    Millis     `json:"rtt_ms"` // since the last request to this IP
	Offset Millis     `json:"offset_ms"`
	// Dup is how many replies this IP has sent so far: 1 for the first,
	// more for duplicates (arp-scan's "(DUP: n)").
	Dup int `json:"dup"`
	// Conflict: this reply's MAC differs from the first reply's.
	Conflict bool `json:"conflict,omitempty"`
}

// ScanHost is one responding address.
type ScanHost struct {
	IP        netip.Addr `json:"ip"`
	MAC       MAC        `json:"mac"`
	Vendor    string     `json:"vendor"`
	RTT       Millis     `json:"rtt_ms"`
	Replies   int        `json:"replies"`              // more than 1: duplicate replies
	OtherMACs []MAC      `json:"other_macs,omitempty"` // other MACs answering for IP
	Conflict  bool       `json:"conflict"`
}

// ScanResult is a finished scan.
type ScanResult struct {
	Interface   string     `json:"interface"`
	MAC         MAC        `json:"mac"`
	Source      netip.Addr `json:"source"`
	Scanned     int        `json:"scanned"`
	Sent        int        `json:"sent"`
	Received    int        `json:"received"` // replies from targets, duplicates included
	Dropped     int        `json:"dropped"`  // frames the kernel dropped on our socket
	Responded   int        `json:"responded"`
	Elapsed     Millis     `json:"elapsed_ms"`
	HostsPerSec float64    `json:"hosts_per_sec"`
	Interval    Millis     `json:"interval_ms"`
	Tries       int        `json:"tries"`
	Hosts       []ScanHost `json:"hosts"`
	Cancelled   bool       `json:"cancelled,omitempty"`
}

// scanTarget is arp-scan's host entry.
type scanTarget struct {
	ip       netip.Addr
	sent     int
	lastSend time.Time     // real clock
	timeout  time.Duration // grows by Backoff with each retry
	live     bool          // not answered and not given up; guarded by scanState.mu
}

// scanState is shared between the sender and the reader goroutine.
type scanState struct {
	mu       sync.Mutex
	byIP     map[netip.Addr]*scanTarget
	live     int
	hosts    map[netip.Addr]*ScanHost
	received int
	answered chan struct{} // signalled (non-blocking) on each new host
}

// ScanPlan is what Scan will do before it sends anything: the interface,
// the source and the pacing; CLI headers are printed from it.
type ScanPlan struct {
	Interface Interface
	Source    netip.Addr
	Interval  time.Duration
	Tries     int
	Timeout   time.Duration
	Backoff   float64
}

// PlanScan resolves the interface (t's Config.Interface, else the one
// routing to the first target) and the pacing of opts.
func (t *Tracer) PlanScan(ctx context.Context, targets []netip.Addr, opts ScanOptions) (ScanPlan, error) {
	if len(targets) == 0 {
		return ScanPlan{}, InvalidAddressf("arptrace", "no targets")
	}
	if opts.Tries < 0 || opts.Tries > MaxScanTries {
		return ScanPlan{}, fmt.Errorf("arptrace: scan tries %d not in 1..%d", opts.Tries, MaxScanTries)
	}
	pl := ScanPlan{Tries: opts.Tries, Timeout: opts.Timeout, Backoff: opts.Backoff, Interval: opts.Interval}
	if pl.Tries == 0 {
		pl.Tries = DefaultScanTries
	}
	if pl.Timeout <= 0 {
		pl.Timeout = DefaultScanTimeout
	}
	if pl.Backoff <= 0 {
		pl.Backoff = DefaultScanBackoff
	}
	pl.Backoff = min(pl.Backoff, maxScanBackoff)
	if pl.Interval <= 0 {
		bw := opts.Bandwidth
		if bw <= 0 {
			bw = DefaultScanBandwidth
		}
		pl.Interval = time.Duration(float64(scanFrameBits) / bw * float64(time.Second))
	}
	pl.Interval = max(pl.Interval, minScanInterval)
	name := t.iface
	if name == "" {
		ri, err := Route(ctx, targets[0])
		if err != nil {
			return ScanPlan{}, fmt.Errorf("arptrace: no interface given and %w", err)
		}
		name = ri.Interface
	}
	ifi, err := lookupInterface(name)
	if err != nil {
		return ScanPlan{}, err
	}
	pl.Interface = ifi
	pl.Source = ifi.sourceFor(targets[0])
	return pl, nil
}

// Scan sends who-has requests to targets with arp-scan's algorithm: the
// hosts form a ring walked by a cursor; a request goes out at most once
// per Interval, to the host under the cursor once its own timeout since
// its last request has passed; a host that answers leaves the ring, one
// that used all its Tries leaves when its last timeout passes; the scan
// ends when the ring is empty. Replies are reported as they come.
func (t *Tracer) Scan(ctx context.Context, targets []netip.Addr, opts ScanOptions) (*ScanResult, error) {
	pl, err := t.PlanScan(ctx, targets, opts)
	if err != nil {
		return nil, err
	}
	ifi, src := pl.Interface, pl.Source
	res := &ScanResult{Interface: ifi.Name, MAC: ifi.MAC, Source: src, Scanned: len(targets),
		Interval: Millis(pl.Interval), Tries: pl.Tries}

	ring := make([]*scanTarget, 0, len(targets))
	st := &scanState{byIP: make(map[netip.Addr]*scanTarget, len(targets)),
		hosts: make(map[netip.Addr]*ScanHost), answered: make(chan struct{}, 1)}
	for _, a := range targets {
		if st.byIP[a] != nil {
			continue // a target listed twice is scanned once
		}
		h := &scanTarget{ip: a, timeout: pl.Timeout, live: true}
		st.byIP[a] = h
		ring = append(ring, h)
	}
	st.live = len(ring)
	if opts.Random {
		rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
		rng.Shuffle(len(ring), func(i, j int) { ring[i], ring[j] = ring[j], ring[i] })
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l, err := openLink(sctx, ifi, false, false, t.now)
	if err != nil {
		return nil, err
	}
	startReal := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() { st.read(sctx, l, ifi.MAC, startReal, opts) })

	sendErr := t.scanLoop(ctx, l, st, ring, pl, res, opts)
	res.Elapsed = Millis(time.Since(startReal))
	cancel()
	wg.Wait()
	if n, err := l.dropped(); err == nil {
		res.Dropped = n
	}
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
	res.Received = st.received
	st.mu.Unlock()
	slices.SortFunc(res.Hosts, func(a, b ScanHost) int { return a.IP.Compare(b.IP) })
	res.Responded = len(res.Hosts)
	if s := time.Duration(res.Elapsed).Seconds(); s > 0 {
		res.HostsPerSec = float64(res.Scanned) / s
	}
	return res, nil
}

// scanLoop is arp-scan's main loop. It ends when no host is live, or ctx
// ends; every pass either sends, retires a host or waits, and each host
// is sent to at most Tries times, so it is bounded.
func (t *Tracer) scanLoop(ctx context.Context, l link, st *scanState, ring []*scanTarget, pl ScanPlan,
	res *ScanResult, opts ScanOptions) error {
	cursor := 0
	var lastPacket time.Time // when the last request was due (ideal schedule)
	idle := false            // waited for a host's timeout since then
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		st.mu.Lock()
		live := st.live
		// Advance the cursor to the next live host (answered ones left).
		for n := 0; live > 0 && !ring[cursor].live && n < len(ring); n++ {
			cursor = (cursor + 1) % len(ring)
		}
		st.mu.Unlock()
		if live == 0 || ctx.Err() != nil {
			return nil
		}
		h := ring[cursor]
		now := time.Now()
		var wait time.Duration
		switch {
		case now.Sub(lastPacket) < pl.Interval:
			wait = pl.Interval - now.Sub(lastPacket)
		case now.Sub(h.lastSend) < h.timeout:
			// Hosts after this one were sent to later: none is ready.
			wait = h.timeout - now.Sub(h.lastSend)
			idle = true
		case h.sent >= pl.Tries:
			st.mu.Lock()
			if h.live {
				h.live = false
				st.live--
			}
			st.mu.Unlock()
			continue
		default:
			if h.sent > 0 {
				h.timeout = time.Duration(float64(h.timeout) * pl.Backoff)
			}
			st.mu.Lock()
			h.lastSend = now
			h.sent++
			st.mu.Unlock()
			if err := l.send(whoHas(Broadcast, res.MAC, res.Source, h.ip)); err != nil {
				return err
			}
			// As arp-scan's cumulative error: pace against the ideal
			// schedule, so timer lateness does not slow the scan, unless
			// we were idle (waiting for a host's timeout) or stalled.
			if ideal := lastPacket.Add(pl.Interval); now.Sub(ideal) < pl.Interval && !idle {
				lastPacket = ideal
			} else {
				lastPacket = now
			}
			idle = false
			res.Sent++
			if opts.Progress != nil {
				opts.Progress(res.Sent, len(ring), st.count())
			}
			cursor = (cursor + 1) % len(ring)
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-st.answered:
			if !timer.Stop() {
				<-timer.C
			}
		}
	}
}

func (st *scanState) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.hosts)
}

// scanReadSlice is how long one read blocks; the reader exits when ctx
// ends (the link sets a past deadline then), this only keeps reads short.
const scanReadSlice = time.Second

func (st *scanState) read(ctx context.Context, l link, own MAC, start time.Time, opts ScanOptions) {
	// Bounded by ctx: Scan cancels it once the loop is over.
	for ctx.Err() == nil {
		f, _, err := l.recv(ctx, time.Now().Add(scanReadSlice))
		if err != nil {
			if isTimeout(err) {
				continue
			}
			return
		}
		now := time.Now()
		// arp-scan's filter: replies addressed to us.
		if f.Op != 2 || f.EthDst != own {
			continue
		}
		st.mu.Lock()
		tg := st.byIP[f.SenderIP]
		if tg == nil || tg.sent == 0 {
			st.mu.Unlock()
			continue
		}
		st.received++
		r := ScanResponse{IP: f.SenderIP, MAC: f.SenderMAC, Vendor: opts.OUI.Vendor(f.SenderMAC),
			RTT: Millis(now.Sub(tg.lastSend)), Offset: Millis(now.Sub(start)), Dup: 1}
		h := st.hosts[f.SenderIP]
		if h == nil {
			st.hosts[f.SenderIP] = &ScanHost{IP: f.SenderIP, MAC: f.SenderMAC, Vendor: r.Vendor, RTT: r.RTT, Replies: 1}
			if tg.live {
				tg.live = false
				st.live--
			}
			select {
			case st.answered <- struct{}{}:
			default:
			}
		} else {
			h.Replies++
			r.Dup = h.Replies
			if f.SenderMAC != h.MAC {
				h.Conflict, r.Conflict = true, true
				if !containsMAC(h.OtherMACs, f.SenderMAC) && len(h.OtherMACs) < maxScanDups {
					h.OtherMACs = append(h.OtherMACs, f.SenderMAC)
				}
			}
		}
		st.mu.Unlock()
		if opts.OnResponse != nil {
			opts.OnResponse(r)
		}
	}
}
