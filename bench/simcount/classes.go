package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// classes counts the queries the simulated servers receive by kind, so a
// benchmark can say where one resolver sends more than another: by type
// (A, AAAA, NS, DS, DNSKEY, other), by the tier of the server asked
// (root, TLD, the zones below), over TCP, and re-asks (the same question
// to the same server again since the last reset: retries and waste).
type classes struct {
	mu     sync.Mutex // guards the following
	total  int
	byKind map[string]int
	seen   map[string]struct{}
}

// maxSeen bounds the re-ask table: a cold run of the benchmark's few
// hundred names asks a few thousand questions; beyond this many distinct
// ones, re-asks are no longer told apart (counted under "reask-unknown").
const maxSeen = 1 << 20

func newClasses() *classes {
	return &classes{byKind: make(map[string]int), seen: make(map[string]struct{})}
}

// tier names the level of the hierarchy a sim server address serves (see
// internal/sim/servers.go: 127.10.0.x roots, 127.10.1.x TLDs).
func tier(a netip.Addr) string {
	b := a.As4()
	switch {
	case b[0] == 127 && b[1] == 10 && b[2] == 0:
		return "root"
	case b[0] == 127 && b[1] == 10 && b[2] == 1:
		return "tld"
	default:
		return "auth"
	}
}

func qtypeClass(t uint16) string {
	switch t {
	case dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeDS, dns.TypeDNSKEY:
		return dns.TypeToString[t]
	default:
		return "other"
	}
}

func (c *classes) add(q resolvertest.Query) {
	key := q.ServerIP.String() + " " + strings.ToLower(q.Name) + " " + dns.TypeToString[q.Type]
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	c.byKind["type-"+qtypeClass(q.Type)]++
	c.byKind["tier-"+tier(q.ServerIP)]++
	if q.Transport == "tcp" {
		c.byKind["tcp"]++
	}
	switch _, ok := c.seen[key]; {
	case ok:
		c.byKind["reask"]++
	case len(c.seen) >= maxSeen:
		c.byKind["reask-unknown"]++
	default:
		c.seen[key] = struct{}{}
	}
}

func (c *classes) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

func (c *classes) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = 0
	clear(c.byKind)
	clear(c.seen)
}

// classKinds returns the order /classes prints the kinds in (zeros
// included, so a script can read columns by position).
func classKinds() []string {
	return []string{"type-A", "type-AAAA", "type-NS", "type-DS", "type-DNSKEY", "type-other",
		"tier-root", "tier-tld", "tier-auth", "tcp", "reask"}
}

// write prints "total=N type-A=N ..." on one line.
func (c *classes) write(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(w, "total=%d", c.total)
	for _, k := range classKinds() {
		fmt.Fprintf(w, " %s=%d", k, c.byKind[k])
	}
	fmt.Fprintln(w)
}
