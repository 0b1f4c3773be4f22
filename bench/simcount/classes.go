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
// (root, TLD, the zones below), over TCP, re-asks (the same question
// to the same server again since the last reset: retries and waste) and
// dups (the same question asked before of any server: re-asks plus the
// same question sent to another server of the zone). It also keeps the
// queries in order (log) for a side-by-side diff of two resolvers.
type classes struct {
	mu     sync.Mutex // guards the following
	total  int
	byKind map[string]int
	seen   map[string]struct{}
	asked  map[string]struct{} // questions without the server
	log    []string
}

// maxSeen bounds the re-ask and dup tables and the log: a cold run of the
// benchmark's names asks a few thousand questions (10^5 names: a few
// hundred thousand); beyond this many distinct ones, re-asks are no
// longer told apart (counted under "reask-unknown"), nor dups, and the
// log stops growing.
const maxSeen = 1 << 20

func newClasses() *classes {
	return &classes{byKind: make(map[string]int), seen: make(map[string]struct{}), asked: make(map[string]struct{})}
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
	question := strings.ToLower(q.Name) + " " + dns.TypeToString[q.Type]
	key := q.ServerIP.String() + " " + question
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	if len(c.log) < maxSeen {
		c.log = append(c.log, key+" "+q.Transport)
	}
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
	switch _, ok := c.asked[question]; {
	case ok:
		c.byKind["dup"]++
	case len(c.asked) < maxSeen:
		c.asked[question] = struct{}{}
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
	clear(c.asked)
	c.log = c.log[:0]
}

// classKinds returns the order /classes prints the kinds in (zeros
// included, so a script can read columns by position).
func classKinds() []string {
	return []string{"type-A", "type-AAAA", "type-NS", "type-DS", "type-DNSKEY", "type-other",
		"tier-root", "tier-tld", "tier-auth", "tcp", "reask", "dup"}
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

// writeLog prints the queries since the last reset, one a line: server
// address, name in lower case, type, transport.
func (c *classes) writeLog(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.log {
		fmt.Fprintln(w, l)
	}
}
