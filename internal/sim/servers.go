package sim

import (
	"net/netip"
	"time"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// server is one name server of the simulation.
type server struct {
	name    string
	addr    string
	latency time.Duration // simulated one-way processing and network delay
	zones   []string
	faults  resolvertest.Faults // beyond latency; see the zone files' comments
}

// servers returns the simulation's name servers. Latencies follow the
// shape of the real internet: roots 5-15 ms (anycast, near), TLDs 10-30 ms,
// leaf servers 5-80 ms.
func servers() []server {
	ms := time.Millisecond
	return []server{
		// The root servers also serve arpa., as on the real internet.
		{name: "a.root-servers.lab.", addr: "127.10.0.1", latency: 5 * ms, zones: []string{".", "arpa."}},
		{name: "b.root-servers.lab.", addr: "127.10.0.2", latency: 9 * ms, zones: []string{".", "arpa."}},
		{name: "c.root-servers.lab.", addr: "127.10.0.3", latency: 14 * ms, zones: []string{".", "arpa."}},

		{name: "a.gtld-servers.lab.", addr: "127.10.1.1", latency: 12 * ms, zones: []string{"com.", "net."}},
		{name: "b.gtld-servers.lab.", addr: "127.10.1.2", latency: 24 * ms, zones: []string{"com.", "net."}},
		{name: "a0.org-servers.lab.", addr: "127.10.1.3", latency: 15 * ms, zones: []string{"org."}},
		{name: "b0.org-servers.lab.", addr: "127.10.1.4", latency: 28 * ms, zones: []string{"org."}},
		{name: "ns1.nic.test.", addr: "127.10.1.5", latency: 10 * ms, zones: []string{"test."}},
		{name: "ns2.nic.test.", addr: "127.10.1.6", latency: 21 * ms, zones: []string{"test."}},
		{name: "ns1.nic.lab.", addr: "127.10.1.7", latency: 18 * ms, zones: []string{"lab."}},
		{name: "ns2.nic.lab.", addr: "127.10.1.8", latency: 30 * ms, zones: []string{"lab."}},

		{name: "ns1.example.org.", addr: "127.10.2.1", latency: 20 * ms, zones: []string{"example.org.", "dnssec-test.org."}},
		{name: "ns2.example.org.", addr: "127.10.2.2", latency: 35 * ms, zones: []string{"example.org.", "dnssec-test.org."}},
		{name: "ns1.example.com.", addr: "127.10.2.3", latency: 15 * ms, zones: []string{"example.com."}},
		{name: "ns2.example.com.", addr: "127.10.2.4", latency: 45 * ms, zones: []string{"example.com."}},
		// example.org's servers also host dnssec-test.org. (as its ns1/ns2),
		// example.net's its children (as its ns3/ns4); see signing.go.
		{name: "ns1.example.net.", addr: "127.10.2.5", latency: 25 * ms, zones: append([]string{"example.net.", "2.0.192.in-addr.arpa."}, dnssecChildren()...)},
		{name: "ns2.example.net.", addr: "127.10.2.6", latency: 60 * ms, zones: append([]string{"example.net.", "2.0.192.in-addr.arpa."}, dnssecChildren()...)},
		{name: "ns1.dnshost.net.", addr: "127.10.2.7", latency: 30 * ms, zones: []string{"dnshost.net.", "quiet-harbor.org.", "paper-lantern.com."}},
		{name: "ns2.dnshost.net.", addr: "127.10.2.8", latency: 50 * ms, zones: []string{"dnshost.net.", "quiet-harbor.org.", "paper-lantern.com."}},
		// ns1.tideline.com. is dead.
		{name: "ns1.tideline.com.", addr: "127.10.2.9", latency: 10 * ms, zones: []string{"tideline.com."},
			faults: resolvertest.Faults{Drop: true}},
		{name: "ns2.tideline.com.", addr: "127.10.2.10", latency: 40 * ms, zones: []string{"tideline.com."}},
		// ns1.lamplight.net. hosts no zone at all: it answers REFUSED.
		{name: "ns1.lamplight.net.", addr: "127.10.2.11", latency: 8 * ms},
		{name: "ns2.lamplight.net.", addr: "127.10.2.12", latency: 55 * ms, zones: []string{"lamplight.net."}},
		// ns1.driftwood.org. answers with an upward referral to the root.
		{name: "ns1.driftwood.org.", addr: "127.10.2.13", latency: 12 * ms, zones: []string{"driftwood.org."},
			faults: resolvertest.Faults{Lame: resolvertest.LameUpward}},
		{name: "ns2.driftwood.org.", addr: "127.10.2.14", latency: 80 * ms, zones: []string{"driftwood.org."}},

		// The five shops of the bulk benchmark.
		{name: "ns1.acme.test.", addr: "127.10.3.1", latency: 5 * ms, zones: []string{"acme.test."}},
		{name: "ns2.acme.test.", addr: "127.10.3.2", latency: 22 * ms, zones: []string{"acme.test."}},
		{name: "ns1.bluebird.test.", addr: "127.10.3.3", latency: 17 * ms, zones: []string{"bluebird.test."}},
		{name: "ns2.bluebird.test.", addr: "127.10.3.4", latency: 33 * ms, zones: []string{"bluebird.test."}},
		{name: "ns1.cobalt.test.", addr: "127.10.3.5", latency: 26 * ms, zones: []string{"cobalt.test."}},
		{name: "ns2.cobalt.test.", addr: "127.10.3.6", latency: 48 * ms, zones: []string{"cobalt.test."}},
		{name: "ns1.dunmore.test.", addr: "127.10.3.7", latency: 38 * ms, zones: []string{"dunmore.test."}},
		{name: "ns2.dunmore.test.", addr: "127.10.3.8", latency: 70 * ms, zones: []string{"dunmore.test."}},
		{name: "ns1.evergreen.test.", addr: "127.10.3.9", latency: 11 * ms, zones: []string{"evergreen.test."}},
		{name: "ns2.evergreen.test.", addr: "127.10.3.10", latency: 29 * ms, zones: []string{"evergreen.test."}},
	}
}

// aliases maps name server names that are not server names to the
// server they designate: dnssec-test.org. and its children use
// in-bailiwick names (with glue) for example.org's and example.net's
// servers, so that resolving them needs no glueless sub-resolution.
func aliases() map[string]string {
	return map[string]string{
		"ns1.dnssec-test.org.": "ns1.example.org.",
		"ns2.dnssec-test.org.": "ns2.example.org.",
		"ns3.dnssec-test.org.": "ns1.example.net.",
		"ns4.dnssec-test.org.": "ns2.example.net.",
	}
}

// addr parses a server address from the table above.
func (s server) netipAddr() netip.Addr { return netip.MustParseAddr(s.addr) }
