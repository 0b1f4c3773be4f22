package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// ServerAddr is an upstream server of a forward or stub zone:
// "192.0.2.1", "[2001:db8::1]:5353" (port 53 by default), or, for a
// forward zone, "tls://192.0.2.1#dns.example.net" or
// "tls://[2001:db8::1]:853#dns.example.net": DNS over TLS (RFC 7858, port
// 853 by default) to a server whose certificate must be valid for the
// name after '#' (Unbound's forward-tls-upstream with its "addr#name").
type ServerAddr struct {
	Addr netip.AddrPort
	// TLSName is set for tls:// servers: the name their certificate is
	// verified against.
	TLSName string
}

// Default ports.
const (
	defaultDNSPort = 53
	defaultDoTPort = 853 // RFC 7858 §3.1
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *ServerAddr) UnmarshalText(t []byte) error {
	s := string(t)
	port := uint16(defaultDNSPort)
	var name string
	if rest, ok := strings.CutPrefix(s, "tls://"); ok {
		var hasName bool
		s, name, hasName = strings.Cut(rest, "#")
		if !hasName || name == "" {
			return fmt.Errorf("tls:// server %q needs #NAME, the name its certificate is verified against (tls://192.0.2.1#dns.example.net)", string(t))
		}
		if _, ok := dns.IsDomainName(name); !ok {
			return fmt.Errorf("tls:// server %q: %q is not a host name", string(t), name)
		}
		port = defaultDoTPort
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		*a = ServerAddr{Addr: ap, TLSName: name}
		return nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return fmt.Errorf("%q is not an address, address:port or tls://address#name", string(t))
	}
	*a = ServerAddr{Addr: netip.AddrPortFrom(ip, port), TLSName: name}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (a ServerAddr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// String returns the address as written in the configuration.
func (a ServerAddr) String() string {
	if a.TLSName != "" {
		return "tls://" + a.Addr.String() + "#" + a.TLSName
	}
	return a.Addr.String()
}

// AddrPort returns the address as a netip.AddrPort.
func (a ServerAddr) AddrPort() netip.AddrPort { return a.Addr }

// validateForwardTLS checks that tls:// servers are in forward zones only:
// a stub zone's servers are authoritative, and those speak DoT rarely.
func (c *Config) validateForwardTLS() error {
	for i, z := range c.Stub {
		for _, s := range z.Servers {
			if s.TLSName != "" {
				return invalid("stub-zone[%d] (%s): tls:// servers are for forward zones", i, z.Zone)
			}
		}
		if z.TLSCAFile != "" {
			return invalid("stub-zone[%d] (%s): tls-ca-file is for forward zones", i, z.Zone)
		}
	}
	return nil
}
