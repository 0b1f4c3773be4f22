package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/addrwalk/addrwalk/arptrace"
)

// maxRouteLookups bounds the route lookups one choice makes: each is a
// netlink round trip, and a name with more addresses than this is tried
// on its first ones only (getaddrinfo's callers try a handful too).
const maxRouteLookups = 16

// errNoUsableAddress: no address of the name has a route.
var errNoUsableAddress = errors.New("no route to any address of the name")

// chooseAddress picks the address `path` follows, as getaddrinfo sorts
// destinations (RFC 6724 section 6): rule 1, avoid unusable destinations
// (no route); then the default policy table's precedence, IPv6 (::/0,
// 40) before IPv4 (::ffff:0:0/96, 35); otherwise the order given. It
// says why it chose and why it passed each address over. forced means
// the user asked for one family (--family).
func chooseAddress(ctx context.Context, addrs []netip.Addr, forced bool, route func(context.Context, netip.Addr) (arptrace.RouteInfo, error)) (*PathChoice, arptrace.RouteInfo, error) {
	order := slices.Clone(addrs)
	slices.SortStableFunc(order, func(a, b netip.Addr) int {
		switch {
		case a.Is6() && !b.Is6():
			return -1
		case !a.Is6() && b.Is6():
			return 1
		}
		return 0
	})
	var v4, v6 int
	for _, a := range addrs {
		if a.Is6() {
			v6++
		} else {
			v4++
		}
	}
	ch := &PathChoice{}
	for i, a := range order {
		if i == maxRouteLookups {
			break
		}
		r, err := route(ctx, a)
		if err != nil {
			if errors.Is(err, arptrace.ErrNotSupported) || ctx.Err() != nil {
				return ch, arptrace.RouteInfo{}, fmt.Errorf("route to %v: %w", a, err)
			}
			ch.Rejected = append(ch.Rejected, PathRejected{Address: a, Reason: "no route: " + err.Error()})
			continue
		}
		ch.Address, ch.Family = a, family(a)
		ch.Reason = choiceReason(a, v4, v6, forced, len(ch.Rejected))
		return ch, r, nil
	}
	return ch, arptrace.RouteInfo{}, fmt.Errorf("%w (%s)", errNoUsableAddress, joinAddrs(addrs))
}

func family(a netip.Addr) string {
	if a.Is6() {
		return "IPv6"
	}
	return "IPv4"
}

// choiceReason says in words why a was chosen among v4 IPv4 and v6 IPv6
// addresses, after passing over skipped unroutable ones.
func choiceReason(a netip.Addr, v4, v6 int, forced bool, skipped int) string {
	var why string
	switch {
	case forced:
		why = fmt.Sprintf("only %s was asked for (--family)", family(a))
	case v4 > 0 && v6 > 0 && a.Is6():
		why = "the name has IPv6 and IPv4 addresses: IPv6 is preferred (RFC 6724 default policy, as getaddrinfo) and has a route"
	case v4 > 0 && v6 > 0:
		why = "the name has IPv6 and IPv4 addresses: IPv6 would be preferred (RFC 6724), but no IPv6 address has a route, so IPv4"
	default:
		why = fmt.Sprintf("the name has only %s addresses", family(a))
	}
	n := v4
	if a.Is6() {
		n = v6
	}
	switch {
	case n > 1 && skipped == 0:
		why += fmt.Sprintf("; the first of %d, in the order given", n)
	case skipped > 0:
		why += fmt.Sprintf("; %d address(es) before it had no route", skipped)
	}
	return why
}
