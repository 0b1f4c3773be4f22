package ndptrace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/ndp"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/rawlink"
)

// Defaults and bounds, after ndisc6's.
const (
	DefaultAttempts = 3           // ndisc6 -r
	DefaultWait     = time.Second // ndisc6 -w 1000 (ms)
	// MaxAttempts bounds solicitations per trace; ndisc6 has no bound,
	// but a neighbour silent after a hundred is not there.
	MaxAttempts = 100
	// maxReplies bounds advertisements kept per solicitation.
	maxReplies = 64
)

// Options configure Solicit. The zero value sends up to DefaultAttempts
// solicitations, each waiting DefaultWait, and stops at the first answer.
type Options struct {
	Interface string        // required for link-local targets; default: the route's
	Attempts  int           // solicitations to send (ndisc6 -r)
	Wait      time.Duration // for an answer to each (ndisc6 -w)
	// Multiple keeps listening for more answers after the first, until
	// the attempt's wait ends (ndisc6 -m).
	Multiple bool
	// DAD sends RFC 4862 probes from :: instead (any answer: in use).
	DAD bool
	// Source is the IPv6 source; zero: the route's, else the interface's
	// link-local address.
	Source  netip.Addr
	NoCache bool
}

// Reply is one Neighbor Advertisement for the target.
type Reply struct {
	Frame  Frame           `json:"frame"`
	RTT    arptrace.Millis `json:"rtt_ms"`
	Offset arptrace.Millis `json:"offset_ms"`
}

// Probe is one Neighbor Solicitation and the advertisements it got.
type Probe struct {
	Seq     int             `json:"seq"`
	Sent    Frame           `json:"sent"`
	Offset  arptrace.Millis `json:"offset_ms"`
	Replies []Reply         `json:"replies,omitempty"`
}

// Summary closes a trace.
type Summary struct {
	Sent     int             `json:"sent"`
	Received int             `json:"received"`
	MACs     []arptrace.MAC  `json:"macs,omitempty"`
	InUse    bool            `json:"in_use"` // DAD: someone advertised the address
	MinRTT   arptrace.Millis `json:"rtt_min_ms,omitempty"`
	MaxRTT   arptrace.Millis `json:"rtt_max_ms,omitempty"`
	Elapsed  arptrace.Millis `json:"elapsed_ms"`
}

// Trace is what one Solicit call saw, step by step.
type Trace struct {
	Target        netip.Addr            `json:"target"`
	Host          string                `json:"host,omitempty"`
	Mode          string                `json:"mode"` // "solicit" or "dad"
	Route         *arptrace.RouteInfo   `json:"route,omitempty"`
	RouteError    string                `json:"route_error,omitempty"`
	Interface     string                `json:"interface"`
	Index         int                   `json:"index"`
	MAC           arptrace.MAC          `json:"mac"`
	Source        netip.Addr            `json:"source"`
	SolicitedNode netip.Addr            `json:"solicited_node"`
	Before        *arptrace.CacheLookup `json:"before,omitempty"`
	Probes        []Probe               `json:"probes,omitempty"`
	After         *arptrace.CacheLookup `json:"after,omitempty"`
	AfterNote     string                `json:"after_note,omitempty"` // why the table did not change
	Summary       Summary               `json:"summary"`
	Notes         []string              `json:"notes,omitempty"`
}

// link is the raw socket seam (link_linux.go).
type link interface {
	send(b []byte, dst arptrace.MAC) error
	// recv returns the next frame accept takes, or an error wrapping
	// os.ErrDeadlineExceeded at deadline, or ctx's error.
	recv(ctx context.Context, deadline time.Time, accept func([]byte) bool) ([]byte, time.Time, error)
	close() error
}

// Solicit resolves ip over Neighbor Discovery: route, neighbour cache, NS to
// the solicited-node multicast address and the NA that answers, cache
// again. No answer is not an error (Summary.Received is 0).
func Solicit(ctx context.Context, ip netip.Addr, opts Options) (*Trace, error) {
	if !ip.Is6() || ip.Is4In6() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback() {
		return nil, arptrace.InvalidAddressf("ndptrace", "%v is not a unicast IPv6 address", ip)
	}
	ip = ip.WithZone("")
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	opts.Attempts = min(opts.Attempts, MaxAttempts)
	if opts.Wait <= 0 {
		opts.Wait = DefaultWait
	}
	snm, err := ndp.SolicitedNodeMulticast(ip)
	if err != nil {
		return nil, fmt.Errorf("ndptrace: %w", err)
	}
	tr := &Trace{Target: ip, Mode: "solicit", SolicitedNode: snm}
	if opts.DAD {
		tr.Mode = "dad"
	}
	name := opts.Interface
	if !ip.IsLinkLocalUnicast() {
		ri, rerr := arptrace.Route(ctx, ip)
		if errors.Is(rerr, arptrace.ErrNotSupported) {
			return nil, rerr
		}
		if rerr == nil {
			tr.Route = &ri
			if !ri.OnLink {
				tr.Notes = append(tr.Notes, fmt.Sprintf("%v is off-link (via %v): soliciting it directly, as ndisc6 does; trace the gateway for the next hop's MAC", ip, ri.Gateway))
			}
			if name == "" {
				name = ri.Interface
			}
		} else {
			tr.RouteError = rerr.Error()
		}
	} else {
		tr.Notes = append(tr.Notes, fmt.Sprintf("%v is link-local: on-link on the interface given, no route lookup", ip))
	}
	if name == "" {
		return tr, fmt.Errorf("%w: no interface given and no route to %v", arptrace.ErrInterface, ip)
	}
	ifi, src, err := lookupInterface(name, ip)
	if err != nil {
		return tr, err
	}
	tr.Interface, tr.Index, tr.MAC = ifi.Name, ifi.Index, ifi.MAC
	switch {
	case opts.DAD:
		src = netip.IPv6Unspecified()
	case opts.Source.IsValid():
		src = opts.Source
	case tr.Route != nil && tr.Route.Source.IsValid() && tr.Route.Source.Is6():
		src = tr.Route.Source
	}
	if !src.IsValid() {
		return tr, fmt.Errorf("%w %s: no IPv6 address to solicit from (use -D for DAD from ::)", arptrace.ErrInterface, name)
	}
	tr.Source = src

	if !opts.NoCache {
		tr.Before = lookup(ctx, name, ip)
	}
	l, err := openLink(ctx, ifi, icmpNA)
	if err != nil {
		return tr, err
	}
	if err := rawlink.CloseAfter(probe(ctx, l, tr, opts), l.close, "ndptrace"); err != nil {
		return tr, err
	}
	if !opts.NoCache {
		rawlink.AfterProbe(ctx, func(ctx context.Context) { tr.After = lookup(ctx, name, ip) })
		if tr.Summary.Received > 0 && tr.After.Error == "" && !tr.After.Found && !opts.DAD {
			tr.AfterNote = "the kernel did not cache this advertisement: it did not send the solicitation, and " +
				"an NA for an address it has no entry for is discarded (RFC 4861 7.2.5)"
		}
	}
	return tr, nil
}

func lookup(ctx context.Context, iface string, ip netip.Addr) *arptrace.CacheLookup {
	ns, err := arptrace.Neighbours6(ctx, iface)
	if err != nil {
		return &arptrace.CacheLookup{Error: err.Error()}
	}
	for _, n := range ns {
		if n.IP.WithZone("") == ip {
			return &arptrace.CacheLookup{Found: true, Entry: &n}
		}
	}
	return &arptrace.CacheLookup{}
}

// lookupInterface checks name can carry ND (Ethernet, up, not loopback)
// and picks a source: an address in the target's /64, else link-local.
func lookupInterface(name string, target netip.Addr) (arptrace.Interface, netip.Addr, error) {
	nifi, err := arptrace.InterfaceByName(name)
	if err != nil {
		return arptrace.Interface{}, netip.Addr{}, err
	}
	mac, ok := arptrace.MACFrom(nifi.HardwareAddr)
	switch {
	case nifi.Flags&net.FlagLoopback != 0:
		return arptrace.Interface{}, netip.Addr{}, fmt.Errorf("%w %s: loopback has no link layer, ND is never used there", arptrace.ErrInterface, name)
	case !ok:
		return arptrace.Interface{}, netip.Addr{}, fmt.Errorf("%w %s: not an Ethernet interface", arptrace.ErrInterface, name)
	case nifi.Flags&net.FlagUp == 0:
		return arptrace.Interface{}, netip.Addr{}, fmt.Errorf("%w %s: it is down ('ip link set %s up' brings it up)", arptrace.ErrInterface, name, name)
	}
	addrs, err := nifi.Addrs()
	if err != nil {
		return arptrace.Interface{}, netip.Addr{}, fmt.Errorf("ndptrace: addresses of %s: %w", name, err)
	}
	var src, ll netip.Addr
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		x, ok := netip.AddrFromSlice(n.IP)
		if !ok || !x.Is6() || x.Is4In6() {
			continue
		}
		ones, _ := n.Mask.Size()
		switch {
		case x.IsLinkLocalUnicast():
			ll = x
		case netip.PrefixFrom(x, ones).Contains(target) && !src.IsValid():
			src = x
		}
	}
	if !src.IsValid() || target.IsLinkLocalUnicast() {
		src = ll
	}
	return arptrace.Interface{Name: nifi.Name, Index: nifi.Index, MAC: mac}, src, nil
}

// probe sends up to Attempts solicitations, each waiting Wait for an
// advertisement of the target; it stops at the first answer unless
// Multiple, and at once in DAD when the address is found in use.
func probe(ctx context.Context, l link, tr *Trace, opts Options) error {
	s := &tr.Summary
	start := time.Now()
	defer func() { s.Elapsed = arptrace.Millis(time.Since(start)) }()
	ns := Frame{EthDst: MulticastMAC(tr.SolicitedNode), EthSrc: tr.MAC, Src: tr.Source, Dst: tr.SolicitedNode,
		Type: "NS", Target: tr.Target}
	if !opts.DAD {
		ns.LLAddr = tr.MAC // RFC 4861 7.2.2; RFC 4862 5.4.2: never from ::
	}
	b, err := EncodeNS(ns)
	if err != nil {
		return err
	}
	for seq := 1; seq <= opts.Attempts && ctx.Err() == nil; seq++ {
		sentAt := time.Now()
		if err := l.send(b, ns.EthDst); err != nil {
			return err
		}
		s.Sent++
		p := Probe{Seq: seq, Sent: ns, Offset: arptrace.Millis(sentAt.Sub(start))}
		end := sentAt.Add(opts.Wait)
		for len(p.Replies) < maxReplies {
			var f Frame
			_, at, err := l.recv(ctx, end, func(b []byte) bool {
				var derr error
				f, derr = DecodeNA(b)
				return derr == nil
			})
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil {
					break
				}
				return err
			}
			if f.Target != tr.Target {
				continue
			}
			rtt := arptrace.Millis(at.Sub(sentAt))
			p.Replies = append(p.Replies, Reply{Frame: f, RTT: rtt, Offset: arptrace.Millis(at.Sub(start))})
			s.Received++
			mac := f.LLAddr
			if mac.IsZero() {
				mac = f.EthSrc
			}
			if !containsMAC(s.MACs, mac) {
				s.MACs = append(s.MACs, mac)
			}
			if s.MinRTT == 0 || rtt < s.MinRTT {
				s.MinRTT = rtt
			}
			s.MaxRTT = max(s.MaxRTT, rtt)
			if !opts.Multiple {
				break
			}
		}
		tr.Probes = append(tr.Probes, p)
		if s.Received > 0 {
			break
		}
	}
	s.InUse = opts.DAD && s.Received > 0
	return nil
}

func containsMAC(ms []arptrace.MAC, m arptrace.MAC) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}
