package arptrace

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Bounds of a scan's target list.
const (
	// MaxScanHosts is the largest list scanned without force: a /20. A
	// bigger range on a LAN is almost always a typo (a /8 would take hours
	// at the default rate and flood the segment with broadcasts).
	MaxScanHosts = 4096
	// MaxForcedScanHosts bounds even a forced scan: a /16.
	MaxForcedScanHosts = 1 << 16
)

// ScanTargets lists every address of p, network and broadcast addresses
// included, as arp-scan does for CIDR targets.
func ScanTargets(p netip.Prefix, force bool) ([]netip.Addr, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return nil, InvalidAddressf("arptrace", "%v is not an IPv4 prefix", p)
	}
	p = p.Masked()
	if err := checkScanSize(uint64(1)<<(32-p.Bits()), p.String(), force); err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, 1<<(32-p.Bits()))
	for a := p.Addr(); p.Contains(a); a = a.Next() {
		out = append(out, a)
	}
	return out, nil
}

func checkScanSize(n uint64, what string, force bool) error {
	limit := uint64(MaxScanHosts)
	hint := " (--force allows up to 65536)"
	if force {
		limit, hint = MaxForcedScanHosts, ""
	}
	if n > limit {
		return fmt.Errorf("%w: %s has %d addresses, more than %d%s", ErrTooLarge, what, n, limit, hint)
	}
	return nil
}

// Resolver looks host names up; *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ParseScanTargets turns arp-scan's target syntax into addresses, in the
// order given: CIDR (192.0.2.0/24, network and broadcast included), a
// range (192.0.2.1-192.0.2.10), network:mask (192.0.2.0:255.255.255.0),
// a single address, or (unless r is nil, arp-scan's --numeric) a host
// name resolved by r. The whole list is bounded by MaxScanHosts, or
// MaxForcedScanHosts with force.
func ParseScanTargets(ctx context.Context, args []string, r Resolver, force bool) ([]netip.Addr, error) {
	var out []netip.Addr
	add := func(as []netip.Addr) error {
		if err := checkScanSize(uint64(len(out)+len(as)), "the target list", force); err != nil {
			return err
		}
		out = append(out, as...)
		return nil
	}
	for _, arg := range args {
		as, err := parseScanTarget(ctx, arg, r, force)
		if err != nil {
			return nil, err
		}
		if err := add(as); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, InvalidAddressf("arptrace", "no targets")
	}
	return out, nil
}

func parseScanTarget(ctx context.Context, arg string, r Resolver, force bool) ([]netip.Addr, error) {
	if p, err := netip.ParsePrefix(arg); err == nil {
		return ScanTargets(p, force)
	}
	if lo, hi, ok := strings.Cut(arg, "-"); ok {
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil || !a.Is4() || !b.Is4() || b.Less(a) {
			return nil, InvalidAddressf("arptrace", "%q is not a range like 192.0.2.1-192.0.2.10", arg)
		}
		av, bv := a.As4(), b.As4()
		n := uint64(be32(bv)-be32(av)) + 1
		if err := checkScanSize(n, arg, force); err != nil {
			return nil, err
		}
		out := make([]netip.Addr, 0, n)
		for x := a; ; x = x.Next() {
			out = append(out, x)
			if x == b {
				break
			}
		}
		return out, nil
	}
	if ns, ms, ok := strings.Cut(arg, ":"); ok {
		a, err1 := netip.ParseAddr(ns)
		m, err2 := netip.ParseAddr(ms)
		if err1 == nil && err2 == nil && a.Is4() && m.Is4() {
			ones, bits := net.IPMask(m.AsSlice()).Size()
			if bits == 0 {
				return nil, InvalidAddressf("arptrace", "%q: %v is not a contiguous netmask", arg, m)
			}
			return ScanTargets(netip.PrefixFrom(a, ones), force)
		}
	}
	if a, err := netip.ParseAddr(arg); err == nil {
		if !a.Is4() {
			return nil, InvalidAddressf("arptrace", "%s is not IPv4 (use 'addrwalk ndp scan' for IPv6)", arg)
		}
		return []netip.Addr{a}, nil
	}
	if r == nil || NotAHostName(arg) {
		hint := ""
		if r == nil {
			hint = "; host names are not looked up with --numeric"
		}
		return nil, InvalidAddressf("arptrace", "%q is not an IPv4 address, prefix or range (like 192.0.2.1, 192.0.2.0/24 or 192.0.2.1-192.0.2.10%s)", arg, hint)
	}
	as, err := r.LookupNetIP(ctx, "ip4", arg)
	if err != nil {
		return nil, InvalidAddressf("arptrace", "%w", HostLookupError(arg, err))
	}
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		out = append(out, a.Unmap())
	}
	return out[:min(len(out), 1)], nil // arp-scan scans the first address of a name
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
