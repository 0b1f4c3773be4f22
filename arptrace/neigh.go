package arptrace

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
)

func sortNeighbours(ns []Neighbour) {
	slices.SortFunc(ns, func(a, b Neighbour) int {
		if c := cmp.Compare(a.Interface, b.Interface); c != 0 {
			return c
		}
		return a.IP.Compare(b.IP)
	})
}

// LookupNeighbour returns the kernel's entry for ip on ifaceName, if any.
func LookupNeighbour(ctx context.Context, ifaceName string, ip netip.Addr) (Neighbour, bool, error) {
	ns, err := Neighbours(ctx, ifaceName)
	if err != nil {
		return Neighbour{}, false, err
	}
	for _, n := range ns {
		if n.IP == ip {
			return n, true, nil
		}
	}
	return Neighbour{}, false, nil
}
