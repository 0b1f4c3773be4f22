package server

import (
	"fmt"
	"net/netip"
)

// ACL decides which clients may query. A client matching a Deny prefix is
// refused; otherwise one matching an Allow prefix or loopback is served;
// everyone else is refused. Allow adds to loopback rather than replacing
// it (as Unbound keeps its localhost default when access-control adds
// networks): loopback is refused only when denied. The zero ACL allows
// only loopback clients, so the server is never an open resolver by
// accident.
type ACL struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
}

// DefaultAllow is the allow list of an ACL with none: loopback only.
func DefaultAllow() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// compiledACL is an ACL ready for the query path.
type compiledACL struct {
	allow, deny []netip.Prefix
}

func compileACL(a ACL) (compiledACL, error) {
	c := compiledACL{}
	for _, list := range []struct {
		in  []netip.Prefix
		out *[]netip.Prefix
	}{{a.Allow, &c.allow}, {a.Deny, &c.deny}} {
		for _, p := range list.in {
			if !p.IsValid() {
				return c, fmt.Errorf("server: invalid prefix %v in access list", p)
			}
			*list.out = append(*list.out, p.Masked())
		}
	}
	c.allow = append(c.allow, DefaultAllow()...)
	return c, nil
}

// allowed reports whether addr may query.
func (c *compiledACL) allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range c.deny {
		if p.Contains(addr) {
			return false
		}
	}
	for _, p := range c.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
