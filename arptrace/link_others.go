//go:build !linux

package arptrace

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

func openLink(context.Context, Interface, bool, bool, func() time.Time) (link, error) {
	return nil, ErrNotSupported
}

// Route is only implemented on Linux; elsewhere it returns ErrNotSupported.
func Route(_ context.Context, dst netip.Addr) (RouteInfo, error) {
	return RouteInfo{}, fmt.Errorf("%w: route to %v", ErrNotSupported, dst)
}

// Neighbours is only implemented on Linux; elsewhere it returns ErrNotSupported.
func Neighbours(_ context.Context, ifaceName string) ([]Neighbour, error) {
	return nil, fmt.Errorf("%w: neighbours of %q", ErrNotSupported, ifaceName)
}

// Neighbours6 is only implemented on Linux; elsewhere it returns ErrNotSupported.
func Neighbours6(_ context.Context, ifaceName string) ([]Neighbour, error) {
	return nil, fmt.Errorf("%w: neighbours of %q", ErrNotSupported, ifaceName)
}
