package ndptrace

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/rawlink"
)

// IPv6 cannot be swept: a /64 has 2^64 addresses. Scan does what works
// instead: an ICMPv6 Echo Request to ff02::1, the all-nodes group (RFC
// 4291 2.7.1), which every IPv6 node on the link receives and (unless
// net.ipv6.icmp.echo_ignore_multicast is set) answers; each reply's
// Ethernet source is the node's MAC, learned in the ND exchange it runs
// to reach us. The kernel's neighbour cache is listed too: nodes that do
// not answer echoes but were seen.

// Scan defaults and bounds.
const (
	DefaultScanCount    = 2                      // echoes sent (arp-scan's default retry)
	DefaultScanInterval = 500 * time.Millisecond // between echoes
	DefaultScanWait     = time.Second            // for late replies after the last
	// MaxScanCount bounds echoes per scan: each reaches every node.
	MaxScanCount = 100
	// maxScanHosts bounds the distinct addresses kept: a link with more
	// IPv6 nodes than this is beyond what a listing helps with, and a
	// forged flood must not grow memory.
	maxScanHosts = 4096
)

// allNodes is ff02::1, the link-local all-nodes multicast group.
var allNodes = netip.MustParseAddr("ff02::1")

// ScanOptions configure Scan; the zero value (with Interface) sends
// DefaultScanCount echoes DefaultScanInterval apart and waits
// DefaultScanWait.
type ScanOptions struct {
	Interface string        // required: ff02::1 is per link
	Source    netip.Addr    // default: the interface's link-local address
	Count     int           // echoes to send
	Interval  time.Duration // between them
	Wait      time.Duration // after the last
	NoCache   bool          // skip the neighbour cache listing
	Vendor    func(arptrace.MAC) string
	// OnReply, if set, is called for every reply as it arrives,
	// duplicates included (Dup > 1), from the calling goroutine.
	OnReply func(ScanReply)
	// Ready, if set, is called once the interface is checked and the
	// socket open, before the first echo: a caller announces the scan
	// there, so a bad interface or a missing privilege fails first.
	Ready func()
}

// ScanReply is one echo reply.
type ScanReply struct {
	IP     netip.Addr      `json:"ip"`
	MAC    arptrace.MAC    `json:"mac"`
	Vendor string          `json:"vendor,omitempty"`
	Seq    int             `json:"seq"`
	RTT    arptrace.Millis `json:"rtt_ms"`
	Offset arptrace.Millis `json:"offset_ms"`
	// Dup counts replies from this address so far (arp-scan's DUP: n);
	// one per echo is normal, so Dup above the echo count means another
	// node answers for the address too.
	Dup      int  `json:"dup"`
	Conflict bool `json:"conflict,omitempty"` // a MAC other than the first's
}

// ScanHost is one address that answered.
type ScanHost struct {
	IP        netip.Addr      `json:"ip"`
	MAC       arptrace.MAC    `json:"mac"`
	Vendor    string          `json:"vendor,omitempty"`
	RTT       arptrace.Millis `json:"rtt_ms"`
	Replies   int             `json:"replies"`
	OtherMACs []arptrace.MAC  `json:"other_macs,omitempty"`
	Conflict  bool            `json:"conflict"`
	// Cache is the kernel's entry for the address after the scan (the
	// node's NS to us, with its source link-layer address, put it there).
	Cache *arptrace.Neighbour `json:"cache,omitempty"`
}

// ScanResult is a finished scan.
type ScanResult struct {
	Interface string          `json:"interface"`
	MAC       arptrace.MAC    `json:"mac"`
	Source    netip.Addr      `json:"source"`
	Group     netip.Addr      `json:"group"`
	Sent      int             `json:"sent"`
	Received  int             `json:"received"`
	Responded int             `json:"responded"`
	Elapsed   arptrace.Millis `json:"elapsed_ms"`
	Hosts     []ScanHost      `json:"hosts"`
	// CacheOnly are neighbour cache entries on the interface whose address
	// did not answer (silent nodes, routers' global addresses, stale).
	CacheOnly  []arptrace.Neighbour `json:"cache_only,omitempty"`
	CacheError string               `json:"cache_error,omitempty"`
	Cancelled  bool                 `json:"cancelled,omitempty"`
}

// Scan sends echoes to ff02::1 on opts.Interface and lists who answered,
// then the neighbour cache. Cancelling ctx ends it early with what it has
// (Cancelled set).
func Scan(ctx context.Context, opts ScanOptions) (*ScanResult, error) {
	if opts.Interface == "" {
		return nil, fmt.Errorf("%w: ndp scan needs an interface (-I): ff02::1 is per link", arptrace.ErrInterface)
	}
	if opts.Count <= 0 {
		opts.Count = DefaultScanCount
	}
	opts.Count = min(opts.Count, MaxScanCount)
	if opts.Interval <= 0 {
		opts.Interval = DefaultScanInterval
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultScanWait
	}
	ifi, ll, err := lookupInterface(opts.Interface, netip.MustParseAddr("fe80::1"))
	if err != nil {
		return nil, err
	}
	src := ll
	if opts.Source.IsValid() {
		if !hasAddr(opts.Interface, opts.Source) {
			return nil, fmt.Errorf("%w %s: %v is not one of its addresses (the nodes' replies would go nowhere)", arptrace.ErrInterface, opts.Interface, opts.Source)
		}
		src = opts.Source
	}
	if !src.IsValid() {
		return nil, fmt.Errorf("%w %s: no IPv6 link-local address", arptrace.ErrInterface, opts.Interface)
	}
	res := &ScanResult{Interface: ifi.Name, MAC: ifi.MAC, Source: src, Group: allNodes, Hosts: []ScanHost{}}
	l, err := openLink(ctx, ifi, icmpEchoReply)
	if err != nil {
		return nil, err
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	if err := rawlink.CloseAfter(scanLoop(ctx, l, res, opts), l.close, "ndptrace"); err != nil {
		return nil, err
	}
	if !opts.NoCache {
		rawlink.AfterProbe(ctx, func(ctx context.Context) { scanCache(ctx, res) })
	}
	return res, nil
}

// hasAddr reports whether a is one of iface's addresses.
func hasAddr(iface string, a netip.Addr) bool {
	nifi, err := net.InterfaceByName(iface)
	if err != nil {
		return false
	}
	addrs, err := nifi.Addrs()
	if err != nil {
		return false
	}
	for _, x := range addrs {
		if n, ok := x.(*net.IPNet); ok {
			if y, ok := netip.AddrFromSlice(n.IP); ok && y == a.WithZone("") {
				return true
			}
		}
	}
	return false
}

func scanLoop(ctx context.Context, l link, res *ScanResult, opts ScanOptions) error {
	var idb [2]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return fmt.Errorf("ndptrace: echo identifier: %w", err)
	}
	id := int(binary.BigEndian.Uint16(idb[:]))
	start := time.Now()
	defer func() { res.Elapsed = arptrace.Millis(time.Since(start)) }()
	index := map[netip.Addr]int{} // address → position in res.Hosts
	sentAt := make([]time.Time, opts.Count+1)
	// A payload as ping's: it lets a capture tell our echoes apart.
	payload := []byte("addrwalk ndp scan")
	for seq := 1; seq <= opts.Count; seq++ {
		if ctx.Err() != nil {
			res.Cancelled = true
			return nil
		}
		e := Echo{Frame: Frame{EthDst: MulticastMAC(allNodes), EthSrc: res.MAC, Src: res.Source, Dst: allNodes}, ID: id, Seq: seq}
		b, err := EncodeEchoRequest(e, payload)
		if err != nil {
			return err
		}
		sentAt[seq] = time.Now()
		if err := l.send(b, e.EthDst); err != nil {
			return err
		}
		res.Sent++
		end := sentAt[seq].Add(opts.Interval)
		if seq == opts.Count {
			end = sentAt[seq].Add(opts.Wait)
		}
		// Read until the next echo is due. Bounded by the deadline (and
		// each recv by its frame budget), however fast replies come.
		for {
			var r Echo
			_, at, err := l.recv(ctx, end, func(b []byte) bool {
				var derr error
				r, derr = DecodeEchoReply(b)
				return derr == nil && r.ID == id && r.Dst == res.Source && r.Seq >= 1 && r.Seq <= seq
			})
			if err != nil {
				if ctx.Err() != nil {
					res.Cancelled = true
					return nil
				}
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				return err
			}
			res.Received++
			record(res, index, opts, ScanReply{IP: r.Src, MAC: r.EthSrc, Seq: r.Seq,
				RTT: arptrace.Millis(at.Sub(sentAt[r.Seq])), Offset: arptrace.Millis(at.Sub(start))})
		}
	}
	return nil
}

// record adds a reply to its host (or a new one) and reports it.
func record(res *ScanResult, index map[netip.Addr]int, opts ScanOptions, r ScanReply) {
	i, ok := index[r.IP]
	if !ok {
		if len(res.Hosts) >= maxScanHosts {
			return
		}
		i = len(res.Hosts)
		index[r.IP] = i
		h := ScanHost{IP: r.IP, MAC: r.MAC, RTT: r.RTT}
		if opts.Vendor != nil {
			h.Vendor = opts.Vendor(r.MAC)
		}
		res.Hosts = append(res.Hosts, h)
		res.Responded++
	}
	h := &res.Hosts[i]
	h.Replies++
	if r.MAC != h.MAC {
		r.Conflict, h.Conflict = true, true
		if !containsMAC(h.OtherMACs, r.MAC) {
			h.OtherMACs = append(h.OtherMACs, r.MAC)
		}
	}
	r.Dup, r.Vendor = h.Replies, h.Vendor
	if r.Conflict && opts.Vendor != nil {
		r.Vendor = opts.Vendor(r.MAC)
	}
	if opts.OnReply != nil {
		opts.OnReply(r)
	}
}

// scanCache adds the kernel's neighbour entries on the interface: each
// host's own, and those that did not answer.
func scanCache(ctx context.Context, res *ScanResult) {
	ns, err := arptrace.Neighbours6(ctx, res.Interface)
	if err != nil {
		res.CacheError = err.Error()
		return
	}
	seen := map[netip.Addr]int{}
	for i, h := range res.Hosts {
		seen[h.IP.WithZone("")] = i
	}
	for _, n := range ns {
		if !n.Visible() {
			continue
		}
		if i, ok := seen[n.IP.WithZone("")]; ok {
			res.Hosts[i].Cache = &n
			continue
		}
		res.CacheOnly = append(res.CacheOnly, n)
	}
}
