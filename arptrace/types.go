package arptrace

import (
	"net/netip"
	"strings"
)

// RouteInfo is what the kernel would do to send a packet to an address.
type RouteInfo struct {
	Destination netip.Addr `json:"destination"`
	Interface   string     `json:"interface"`
	Index       int        `json:"index"`
	Source      netip.Addr `json:"source,omitzero"`  // preferred source, zero if none
	Gateway     netip.Addr `json:"gateway,omitzero"` // zero when on-link
	OnLink      bool       `json:"on_link"`          // no gateway: ARP for the destination itself
	NextHop     netip.Addr `json:"next_hop"`         // Gateway if set, else Destination
	Type        string     `json:"type,omitempty"`   // unicast, local, broadcast, ...
}

// NUD state bits of a neighbour entry (linux/neighbour.h).
const (
	nudIncomplete = 0x01
	nudReachable  = 0x02
	nudStale      = 0x04
	nudDelay      = 0x08
	nudProbe      = 0x10
	nudFailed     = 0x20
	nudNoARP      = 0x40
	nudPermanent  = 0x80
)

// NUDStateName names a neighbour state bitmask the way `ip neigh` does,
// e.g. "REACHABLE", or "STALE" ; several bits are joined with "|" and 0 is
// "NONE".
func NUDStateName(state uint16) string {
	names := []struct {
		bit  uint16
		name string
	}{
		{nudIncomplete, "INCOMPLETE"}, {nudReachable, "REACHABLE"}, {nudStale, "STALE"},
		{nudDelay, "DELAY"}, {nudProbe, "PROBE"}, {nudFailed, "FAILED"},
		{nudNoARP, "NOARP"}, {nudPermanent, "PERMANENT"},
	}
	var out []string
	for _, n := range names {
		if state&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if len(out) == 0 {
		return "NONE"
	}
	return strings.Join(out, "|")
}

// Neighbour is one IPv4 entry of the kernel neighbour (ARP) table.
type Neighbour struct {
	IP        netip.Addr `json:"ip"`
	MAC       MAC        `json:"mac,omitzero"` // zero while INCOMPLETE or FAILED
	HasMAC    bool       `json:"has_mac"`
	Interface string     `json:"interface"`
	Index     int        `json:"index"`
	State     string     `json:"state"` // REACHABLE, STALE, ...
	StateBits uint16     `json:"state_bits"`
	Router    bool       `json:"router,omitempty"`
	// Ages from the kernel's cache info (clock_t, 1/100 s); nil if the
	// kernel sent none.
	Ages *NeighbourAges `json:"ages,omitempty"`
}

// NeighbourAges are how long ago a neighbour entry was last confirmed
// reachable, used, and changed state.
type NeighbourAges struct {
	Confirmed Millis `json:"confirmed_ms"`
	Used      Millis `json:"used_ms"`
	Updated   Millis `json:"updated_ms"`
}

// Visible reports whether `ip neigh` shows n without "nud all": it hides
// NOARP entries (such as 0.0.0.0 dev lo) and those in state NONE.
func (n Neighbour) Visible() bool {
	return n.StateBits != 0 && n.StateBits&nudNoARP == 0
}

// Interface describes the link a probe uses.
type Interface struct {
	Name  string         `json:"name"`
	Index int            `json:"index"`
	MAC   MAC            `json:"mac"`
	Addrs []netip.Prefix `json:"addrs,omitempty"` // IPv4 only
}
