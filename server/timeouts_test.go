package server

import (
	"testing"

	"github.com/addrwalk/addrwalk/resolver"
)

// TestResolveTimeoutOutlastsRequest keeps the two timeouts in their
// documented relation: the server's bound on a resolution's slot must not
// cut short a request the resolver would still finish (see
// DefaultResolveTimeout).
func TestResolveTimeoutOutlastsRequest(t *testing.T) {
	if DefaultResolveTimeout <= resolver.DefaultRequestTimeout {
		t.Errorf("DefaultResolveTimeout %v <= resolver.DefaultRequestTimeout %v: the server would end resolutions the resolver still runs",
			DefaultResolveTimeout, resolver.DefaultRequestTimeout)
	}
}
