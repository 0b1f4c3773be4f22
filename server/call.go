package server

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// Transport is how a query reached the server.
type Transport uint8

// Transports. Stream transports (all but UDP) carry replies of any size;
// UDP replies are bounded by the client's EDNS payload size.
const (
	TransportUDP   Transport = iota + 1 // RFC 1035 §4.2.1
	TransportTCP                        // RFC 1035 §4.2.2, RFC 7766
	TransportTLS                        // DNS over TLS, RFC 7858
	TransportHTTPS                      // DNS over HTTPS, RFC 8484
)

// The encrypted transports are named as DNS operators call them (the
// metrics labels of issue #17: udp, tcp, dot, doh).
var transportNames = [...]string{"", "udp", "tcp", "dot", "doh"}

// String returns the lower-case name used in metrics and logs.
func (t Transport) String() string {
	if int(t) < len(transportNames) && t != 0 {
		return transportNames[t]
	}
	return fmt.Sprintf("transport%d", uint8(t))
}

// stream reports whether replies need no truncation to a datagram size.
func (t Transport) stream() bool { return t != TransportUDP }

// call is one query on its way through the handler: the parsed query, the
// settings it runs under, who sent it, over what, and when it arrived.
// A listener (or Handle) fills one per query; every step of the query
// path takes it, so none needs a list of five parameters.
type call struct {
	q         query
	st        *state
	client    netip.AddrPort
	transport Transport
	start     time.Time
}

// Where a reply came from, for the query log.
const (
	sourceServer = "server" // the edge itself: an error or a refusal
	sourceLocal  = "local"  // local data
	sourceCache  = "cache"  // the packet cache
	// the resolver's cache alone, when every resolution slot is taken
	sourceCacheOverload = "cache-overload"
	sourceResolver      = "resolver" // a resolution
)

// Reasons for replies the edge makes itself, for the query log. Resolver
// failures carry resolver.Error.Reason.
const (
	reasonACL       = "acl"       // REFUSED: client not in the allow list
	reasonRateLimit = "ratelimit" // REFUSED over TCP (UDP drops)
	// TC=1 to every Slip-th limited UDP query (rrl.go)
	reasonRateLimitSlip = "ratelimit_slip"
	reasonOpcode        = "opcode"        // NOTIMP: not a QUERY
	reasonMalformed     = "malformed"     // FORMERR: unparsable question or OPT
	reasonEDNSVersion   = "edns_version"  // BADVERS (RFC 6891 §6.1.3)
	reasonClass         = "class"         // REFUSED: a class other than IN
	reasonMetaType      = "meta_type"     // a type resolver.RuleForType refuses (FORMERR, NOTIMP)
	reasonZoneTransfer  = "zone_transfer" // REFUSED: AXFR/IXFR, which RuleForType refuses too
	reasonOverload      = "overload"      // SERVFAIL: no slot to resolve in
	reasonJostled       = "jostled"       // SERVFAIL: the slot went to a newer query
	// SERVFAIL: a miss that waited too long in the UDP listener's queue
	// (udpqueue.go)
	reasonBacklog = "backlog"
)

// logQuery writes one query-log line when the log is on. reason says why
// a reply is an error (empty for answers).
func (h *Handler) logQuery(c *call, rcode int, source, reason string) {
	if !c.st.s.QueryLog {
		return
	}
	name, _, _ := dns.UnpackDomainName(c.q.qname, 0)
	attrs := []any{"client", c.client, "transport", c.transport.String(), "name", name,
		"type", typeString(c.q.qtype), "do", c.q.do, "rd", c.q.rd(), "rcode", rcodeString(rcode),
		"source", source, "duration", h.now().Sub(c.start)}
	if reason != "" {
		attrs = append(attrs, "reason", reason)
	}
	h.log.Info("query", attrs...)
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

func rcodeString(rc int) string {
	if rc == rcodeBadVers {
		// 16 is BADSIG in TSIG's table (RFC 8945) too, which is what
		// miekg/dns names it; in a reply's header and OPT it is BADVERS.
		return "BADVERS"
	}
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}
