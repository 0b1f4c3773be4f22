package cli

import (
	_ "embed"
	"net/netip"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/ndptrace"
	"github.com/addrwalk/addrwalk/resolver/report"
)

// PathDoc is what `path --json` prints: one document for the whole path,
// with the conventions of `resolve --json` (snake_case keys, durations in
// milliseconds as numbers, absent values left out, never null). Its
// schema is path.schema.json (PathSchema), which takes the DNS walks'
// definition from resolver/report/resolution.schema.json.
type PathDoc struct {
	Name  string     `json:"name"`
	Hosts *PathHosts `json:"hosts,omitempty"`
	// DNS holds the walks, A then AAAA, as resolve --json prints them;
	// absent when the hosts file answered.
	DNS       []*report.Resolution  `json:"dns,omitempty"`
	Chosen    *PathChoice           `json:"chosen,omitempty"`
	Route     *arptrace.RouteInfo   `json:"route,omitempty"`
	NextHop   netip.Addr            `json:"next_hop,omitzero"`
	Interface string                `json:"interface,omitempty"`
	Neighbour *arptrace.CacheLookup `json:"neighbour,omitempty"` // the next hop's entry before the exchange
	ARP       *arptrace.Trace       `json:"arp,omitempty"`       // IPv4 next hop
	ND        *ndptrace.Trace       `json:"nd,omitempty"`        // IPv6 next hop
	MAC       arptrace.MAC          `json:"mac,omitzero"`
	Error     string                `json:"error,omitempty"`
	Duration  arptrace.Millis       `json:"duration_ms"`
}

// PathHosts is the hosts file step.
type PathHosts struct {
	File    string           `json:"file"`
	Skipped bool             `json:"skipped,omitempty"` // --no-hosts
	Entries []PathHostsEntry `json:"entries,omitempty"`
	Error   string           `json:"error,omitempty"`
}

// PathHostsEntry is one address the hosts file gives the name.
type PathHostsEntry struct {
	Address netip.Addr `json:"address"`
	Line    int        `json:"line"`
}

// PathChoice is the address followed and why.
type PathChoice struct {
	Address  netip.Addr     `json:"address,omitzero"`
	Family   string         `json:"family,omitempty"` // IPv4 or IPv6
	Reason   string         `json:"reason,omitempty"`
	Rejected []PathRejected `json:"rejected,omitempty"`
}

// PathRejected is an address passed over, and why.
type PathRejected struct {
	Address netip.Addr `json:"address"`
	Reason  string     `json:"reason"`
}

// PathSchema is the JSON Schema (draft 2020-12) of PathDoc.
//
//go:embed path.schema.json
var PathSchema []byte

// PathSchemaID is PathSchema's $id.
const PathSchemaID = "https://addrwalk.example.org/schema/path.schema.json"
