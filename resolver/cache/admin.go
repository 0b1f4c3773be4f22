package cache

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/dnsname"
)

// Administrative removals, for an operator's control channel (as
// unbound-control's flush commands). Each walks the keys once: the cache
// is bounded by its byte budget, so a walk is bounded too, and it is an
// operator's action, not the query path.

// Selector chooses which entries a flush removes.
type Selector struct {
	// Name, when set, keeps only entries owned by this name, or, with
	// Below, at or below it.
	Name  string
	Below bool
	// Type, when not 0, keeps only entries of this type (an NXDOMAIN,
	// which answers every type, matches any Type).
	Type uint16
	// Negative keeps only NXDOMAIN and NODATA entries.
	Negative bool
	// Bogus keeps only data whose validation failed, and remembered
	// failures (RFC 9520), which include bogus zone keys.
	Bogus bool
}

// Flush removes every entry sel selects and returns how many it removed.
// The zero Selector removes everything.
func (c *Cache) Flush(sel Selector) int {
	name := ""
	if sel.Name != "" {
		name = canonicalName(dns.Fqdn(sel.Name))
	}
	var drop []key
	for k, e := range c.store.All() {
		if sel.matches(k, e, name) {
			drop = append(drop, k)
		}
	}
	n := 0
	for _, k := range drop {
		if _, ok := c.store.Invalidate(k); ok {
			n++
		}
	}
	if sel.Type == 0 && !sel.Bogus {
		// Validated NSEC records would synthesise the flushed negative
		// answers again (RFC 8198): they go with them.
		n += c.nsec.flush(name)
	}
	return n
}

// matches reports whether sel selects the entry e under k; name is
// sel.Name canonicalised.
func (sel Selector) matches(k key, e *entry, name string) bool {
	if name != "" {
		if sel.Below {
			if !dnsname.IsSubDomain(name, k.name) {
				return false
			}
		} else if k.name != name {
			return false
		}
	}
	if sel.Type != 0 && k.kind != kindNXDomain && k.qtype != sel.Type {
		return false
	}
	if sel.Negative && k.kind != kindNoData && k.kind != kindNXDomain {
		return false
	}
	if sel.Bogus && k.kind != kindFailure && e.sec != SecurityBogus {
		return false
	}
	return true
}

// Delegation is the closest enclosing zone cut the cache knows for a name:
// the NS set and the addresses of its servers that are cached.
type Delegation struct {
	Zone  string
	NS    []string
	Addrs map[string][]string // server name -> addresses (A and AAAA) cached
	TTL   uint32
}

// ClosestDelegation walks up from name to the root and returns the first
// fresh NS set cached, with the cached addresses of its servers. It counts
// no hits or misses: it is for display.
func (c *Cache) ClosestDelegation(name string, qclass uint16) (Delegation, bool) {
	name = canonicalName(dns.Fqdn(name))
	now := c.tick(c.now())
	for {
		k := key{name: name, qtype: dns.TypeNS, class: qclass, kind: kindRRset}
		e, ok := c.store.GetIfPresent(k)
		if ok && e.fresh(now) {
			ttl := ttlSeconds(e.left(now))
			d := Delegation{Zone: name, Addrs: map[string][]string{}, TTL: ttl}
			nss, _, _, _, _ := e.records(k, ttl) // for display: a set that does not decode shows no servers
			for _, rr := range nss {
				ns, ok := rr.(*dns.NS)
				if !ok {
					continue
				}
				host := canonicalName(ns.Ns)
				d.NS = append(d.NS, host)
				for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
					ak := key{name: host, qtype: t, class: qclass, kind: kindRRset}
					a, ok := c.store.GetIfPresent(ak)
					if !ok || !a.fresh(now) {
						continue
					}
					addrs, _, _, _, _ := a.records(ak, 0)
					for _, rr := range addrs {
						switch v := rr.(type) {
						case *dns.A:
							d.Addrs[host] = append(d.Addrs[host], v.A.String())
						case *dns.AAAA:
							d.Addrs[host] = append(d.Addrs[host], v.AAAA.String())
						}
					}
				}
			}
			return d, true
		}
		if name == "." {
			return Delegation{}, false
		}
		i := strings.IndexByte(name, '.')
		name = name[i+1:]
		if name == "" {
			name = "."
		}
	}
}

// Forget removes what is known about addr (every zone), or everything when
// addr is not valid, and returns how many records it removed.
func (in *Infra) Forget(addr netip.Addr) int {
	addr = addr.Unmap()
	var drop []infraKey
	for k := range in.store.Keys() {
		if !addr.IsValid() || k.addr == addr {
			drop = append(drop, k)
		}
	}
	n := 0
	for _, k := range drop {
		if _, ok := in.store.Invalidate(k); ok {
			n++
		}
	}
	return n
}
