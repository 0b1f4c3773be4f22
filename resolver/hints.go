package resolver

import (
	_ "embed"
	"fmt"
	"github.com/addrwalk/addrwalk/internal/zoneerr"
	"io"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// namedRoot is the IANA root hints file (named.root), embedded so the
// resolver needs no file on disk.
//
//go:embed named.root
var namedRoot string

// maxHintServers bounds the NS names read from a hints file: the real root
// has 13, and a hints file is trusted input, but a huge one is a mistake.
const maxHintServers = 64

// Hints is the set of servers a resolution starts from: the root zone's NS
// names and their addresses.
type Hints struct {
	Zone    string // always "." for root hints; a stub zone may use another
	Servers []HintServer
}

// HintServer is one NS name of the hints with its addresses.
type HintServer struct {
	Name  string
	Addrs []netip.Addr
}

// DefaultHints returns the built-in IANA root hints.
func DefaultHints() *Hints {
	h, err := ParseHints(strings.NewReader(namedRoot), "named.root")
	if err != nil {
		// The embedded file is part of the build; a parse error is a bug.
		panic(err)
	}
	return h
}

// ParseHints reads a hints file in named.root (zone file) format: NS
// records for the root and A/AAAA records for the NS names. Records for
// names that are not NS targets are ignored.
func ParseHints(r io.Reader, file string) (*Hints, error) {
	zp := dns.NewZoneParser(r, ".", file)
	var ns []string
	addrs := map[string][]netip.Addr{}
	zone := ""
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch v := rr.(type) {
		case *dns.NS:
			owner := dns.CanonicalName(v.Hdr.Name)
			if zone == "" {
				zone = owner
			} else if owner != zone {
				return nil, fmt.Errorf("resolver: hints %s: NS records for two zones (%s and %s)", file, zone, owner)
			}
			ns = append(ns, dns.CanonicalName(v.Ns))
		case *dns.A:
			a, _ := netip.AddrFromSlice(v.A.To4())
			n := dns.CanonicalName(v.Hdr.Name)
			addrs[n] = append(addrs[n], a)
		case *dns.AAAA:
			a, _ := netip.AddrFromSlice(v.AAAA.To16())
			n := dns.CanonicalName(v.Hdr.Name)
			addrs[n] = append(addrs[n], a)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("resolver: root hints: %w", zoneerr.Explain(err, file))
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("resolver: hints %s: no NS records", file)
	}
	if len(ns) > maxHintServers {
		return nil, fmt.Errorf("resolver: hints %s: %d NS records, more than %d", file, len(ns), maxHintServers)
	}
	h := &Hints{Zone: zone}
	seen := map[string]bool{}
	usable := 0
	for _, n := range ns {
		if seen[n] {
			continue
		}
		seen[n] = true
		h.Servers = append(h.Servers, HintServer{Name: n, Addrs: addrs[n]})
		usable += len(addrs[n])
	}
	if usable == 0 {
		return nil, fmt.Errorf("resolver: hints %s: no addresses for any NS name", file)
	}
	return h, nil
}

// StubHints returns hints for a single server, as the conformance
// scenarios' stub-addr gives: one NS name with one address.
func StubHints(name string, addr netip.Addr) *Hints {
	return &Hints{Zone: ".", Servers: []HintServer{{Name: dns.CanonicalName(name), Addrs: []netip.Addr{addr}}}}
}
