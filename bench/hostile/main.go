// Command hostile runs hostile-network tests against any DNS resolver
// address, so the same test runs against addrwalk and Unbound one after the
// other, and prints one summary line per run. Traffic goes only to the
// target, which must be on loopback (or in a namespace the caller made).
// Every loop is bounded in count and in time.
//
//	hostile tcp       -target 127.0.0.1:53   idle, empty-frame and slowloris connections
//	hostile malformed -target 127.0.0.1:53   mutated UDP packets and TCP frames
//	hostile refuse    -target ... -src 127.0.0.2   size and rate of refusals
//	hostile flood     -target ... -zone example.org   random-subdomain flood
//	hostile blackhole -target ADDR -duration D      a silent server for a dead zone
//	hostile forge     -target ... -auth ADDR -zone victim.lab.   forged-reply flood (root)
//	hostile fill      -target ... -pid PID -names N   N distinct names; RSS per cached name
//
// With -assert the exit status says whether the goals held (0 crashes,
// legitimate answers, idle connections closed, no amplification).
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

// opts are the flags every test shares.
type opts struct {
	target   netip.AddrPort
	label    string
	name     string
	duration time.Duration
	assert   bool
	pid      int
	metrics  string // a /metrics URL to read SERVFAIL reasons from
	// legitRate: flood: the legitimate client's queries per second.
	legitRate int
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: hostile tcp|malformed|refuse|flood|blackhole|forge|fill [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	target := fs.String("target", "127.0.0.1:53", "resolver address (loopback or a namespace the caller made)")
	var o opts
	fs.StringVar(&o.label, "label", "resolver", "name printed in the summary line")
	fs.StringVar(&o.name, "name", "www.example.org.", "a name the resolver answers (the legitimate client asks it)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long the attack lasts (bounded: at most 10 minutes)")
	fs.BoolVar(&o.assert, "assert", false, "exit 1 when a goal fails")
	fs.IntVar(&o.pid, "pid", 0, "resolver process to sample RSS from (/proc/PID/status)")
	fs.StringVar(&o.metrics, "metrics", "", "addrwalk's metrics URL (http://ADDR/metrics): flood: SERVFAIL reasons during the flood; fill: each memory part")
	conns := fs.Int("conns", 300, "tcp: attacking connections (at most 20000)")
	idleMax := fs.Duration("idle-max", 15*time.Second, "tcp: goal: every attacking connection closed within this")
	packets := fs.Int("packets", 100000, "malformed: UDP packets (at most 10^7)")
	frames := fs.Int("frames", 2000, "malformed: TCP frames (at most 10^6)")
	src := fs.String("src", "127.0.0.2", "refuse: source address outside the resolver's allow list")
	n := fs.Int("n", 1000, "refuse: queries sent")
	zone := fs.String("zone", "example.org.", "flood: zone whose random subdomains are asked")
	rate := fs.Int("rate", 2000, "flood: random-subdomain queries per second (at most 200000)")
	fs.IntVar(&o.legitRate, "legit-rate", defaultLegitRate, "flood: the legitimate client's queries a second, in each phase (at most 2000)")
	quiet := fs.Bool("quiet", true, "flood: first ask the cached name for the same duration without the flood (the quiet p99)")
	after := fs.Duration("after", 0, "blackhole: count only the queries that arrive after this (the flood test's quiet phase; at most 10 minutes)")
	auth := fs.String("auth", "127.0.0.53:53", "forge: address the victim zone's server listens on and the forger spoofs")
	victim := fs.String("victim", "127.0.0.1", "forge: the resolver's upstream source address (forgeries go there)")
	delay := fs.Duration("delay", 20*time.Millisecond, "forge: the server's answer delay, the forger's window (at most 1s)")
	ports := fs.String("ports", "1024-65535", "forge: destination ports guessed, LO-HI")
	maxSent := fs.Int("max-sent", 10_000_000, "forge: forged packets at most (at most 10^8)")
	maxNames := fs.Int("max-names", 100_000, "forge: names the attacker's client asks at most")
	var fill fillConfig
	fs.IntVar(&fill.names, "names", 100_000, "fill: distinct names asked (at most 10^7)")
	fs.IntVar(&fill.window, "window", 32, "fill: queries outstanding at once (at most 1024)")
	fs.StringVar(&fill.pos, "pos-zone", "wild.insecure.dnssec-test.org.", "fill: zone with a wildcard: its names are answered")
	fs.StringVar(&fill.neg, "neg-zone", "example.org.", "fill: zone whose random names do not exist")
	fs.IntVar(&fill.steps, "steps", 10, "fill: RSS lines printed on the way (at most 1000)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(*target)
	if err != nil {
		return err
	}
	o.target = ap
	o.name = dns.Fqdn(o.name)
	o.duration = min(o.duration, 10*time.Minute)
	*after = min(*after, 10*time.Minute)
	// Twice the duration: a flood's quiet phase and the flood; after: the
	// blackhole's wait; 2 minutes for the rest (set-up, last replies).
	ctx, cancel := context.WithTimeout(ctx, 2*o.duration+*after+2*time.Minute)
	defer cancel()
	var ok bool
	switch args[0] {
	case "tcp":
		ok, err = tcpTest(ctx, o, min(*conns, 20000), *idleMax)
	case "malformed":
		ok, err = malformedTest(ctx, o, min(*packets, 10_000_000), min(*frames, 1_000_000))
	case "refuse":
		ok, err = refuseTest(ctx, o, netip.MustParseAddr(*src), min(*n, 1_000_000))
	case "flood":
		ok, err = floodTest(ctx, o, dns.Fqdn(*zone), min(*rate, 200000), *quiet)
	case "blackhole":
		ok, err = blackhole(ctx, o, *after)
	case "fill":
		fill.names, fill.window, fill.steps = min(fill.names, 10_000_000), min(max(fill.window, 1), 1024), min(fill.steps, 1000)
		fill.pos, fill.neg, fill.metrics = dns.Fqdn(fill.pos), dns.Fqdn(fill.neg), o.metrics
		ok, err = fillTest(ctx, o, fill)
	case "forge":
		var cfg forgeConfig
		if cfg, err = parseForge(*auth, *victim, *zone, *ports); err != nil {
			return err
		}
		cfg.delay, cfg.maxSent, cfg.maxNames = min(*delay, time.Second), min(*maxSent, 100_000_000), *maxNames
		ok, err = forgeTest(ctx, o, cfg)
	default:
		return fmt.Errorf("unknown test %q", args[0])
	}
	if err != nil {
		return err
	}
	if o.assert && !ok {
		return errors.New(args[0] + ": a goal failed (see the line above)")
	}
	return nil
}

// query packs a question with a random ID.
func query(name string, qtype uint16) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = uint16(rand.Uint32())
	b, _ := m.Pack()
	return b
}

// askUDP sends one query over UDP and reports the reply's rcode and the
// round-trip time, to the kernel's receive stamp of the reply where there
// is one (Linux); ok false on no (or no matching) reply within timeout.
func askUDP(target netip.AddrPort, name string, timeout time.Duration) (rcode int, rtt time.Duration, ok bool) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
	if err != nil {
		return 0, 0, false
	}
	defer c.Close()
	stampSocket(c)
	q := query(name, dns.TypeA)
	start := time.Now()
	_ = c.SetDeadline(start.Add(timeout))
	if _, err := c.Write(q); err != nil {
		return 0, 0, false
	}
	buf := make([]byte, 65535)
	for range 8 { // a few stray datagrams at most
		n, err := c.Read(buf)
		if err != nil {
			return 0, 0, false
		}
		if n >= 12 && binary.BigEndian.Uint16(buf) == binary.BigEndian.Uint16(q) {
			rtt = time.Since(start)
			if rx, ok := lastRx(c); ok && rx.After(start) {
				rtt = rx.Sub(start) // to the kernel's stamp: without this process's own wake-up
			}
			return int(buf[3] & 0xf), rtt, true
		}
	}
	return 0, 0, false
}

// askTCP opens a connection, sends one query and reads the reply.
func askTCP(target netip.AddrPort, name string, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", target.String(), timeout)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	q := query(name, dns.TypeA)
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)); err != nil {
		return false
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return false
	}
	r := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err = io.ReadFull(c, r)
	return err == nil && len(r) >= 12 && binary.BigEndian.Uint16(r) == binary.BigEndian.Uint16(q)
}

// legit asks name every interval over UDP and TCP until ctx ends.
type legitStats struct {
	udpOK, udpN, tcpOK, tcpN atomic.Int64
	// udpServFail and udpLost split the UDP failures: a SERVFAIL reply,
	// or no reply within the timeout (dropped, or answered too late).
	udpServFail, udpLost atomic.Int64
	mu                   sync.Mutex
	rtts                 []time.Duration
}

func (s *legitStats) run(ctx context.Context, target netip.AddrPort, names []string, interval time.Duration, tcp bool) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
		name := names[i%len(names)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.udpN.Add(1)
			switch rc, rtt, ok := askUDP(target, name, 2*time.Second); {
			case !ok:
				s.udpLost.Add(1)
			case rc == dns.RcodeServerFailure:
				s.udpServFail.Add(1)
			default:
				s.udpOK.Add(1)
				s.mu.Lock()
				s.rtts = append(s.rtts, rtt)
				s.mu.Unlock()
			}
			if tcp {
				s.tcpN.Add(1)
				if askTCP(target, name, 2*time.Second) {
					s.tcpOK.Add(1)
				}
			}
		}()
	}
}

func pct(ok, n int64) float64 {
	if n == 0 {
		return 100
	}
	return 100 * float64(ok) / float64(n)
}

// rssSampler records the peak resident set of pid.
type rssSampler struct{ peak atomic.Int64 }

func (r *rssSampler) run(ctx context.Context, pid int) {
	if pid == 0 {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if kb := rssKB(pid); kb > r.peak.Load() {
			r.peak.Store(kb)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rssKB reads VmRSS of pid, or -1 when the process is gone.
func rssKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}

// alive reports whether pid still runs (always true without a pid).
func alive(pid int) bool { return pid == 0 || rssKB(pid) >= 0 }
