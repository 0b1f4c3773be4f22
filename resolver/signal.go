package resolver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// signalKeyTags tells the servers of zone which of its keys this resolver
// trusts, the way RFC 8145 §5 describes: a query for
// "_ta-<tag>[-<tag>...].<zone>" NULL, key tags in ascending order as four
// lower-case hex digits, sent once each time the anchored zone's keys are
// validated afresh (so at most once per DNSKEY TTL). Zone operators count
// these to see which keys resolvers hold before a rollover. It is off
// unless Config.KeyTagSignal is set: no unscripted traffic. The query runs
// in the background through the prefetch slots, and its answer (normally
// NXDOMAIN) is ignored.
func (r *Resolver) signalKeyTags(zone string, ds []*dns.DS, keys []*dns.DNSKEY) {
	if !r.cfg.KeyTagSignal {
		return
	}
	name := keyTagName(zone, ds, keys)
	if name == "" {
		return
	}
	r.life.background(func(ctx context.Context) {
		r.query(ctx, Request{Name: name, Type: dns.TypeNULL, Class: dns.ClassINET})
	})
}

// keyTagName is the RFC 8145 §5.1 query name for the anchors of zone, or
// "" when there are none.
func keyTagName(zone string, ds []*dns.DS, keys []*dns.DNSKEY) string {
	var tags []uint16
	for _, d := range ds {
		tags = append(tags, d.KeyTag)
	}
	for _, k := range keys {
		tags = append(tags, k.KeyTag())
	}
	if len(tags) == 0 {
		return ""
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	var b strings.Builder
	b.WriteString("_ta")
	for _, t := range tags {
		fmt.Fprintf(&b, "-%04x", t)
	}
	b.WriteByte('.')
	if zone = dns.CanonicalName(zone); zone != "." {
		b.WriteString(zone)
	}
	return b.String()
}
