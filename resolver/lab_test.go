package resolver_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// testHierarchy is a small hierarchy written for these tests. Every
// server address is in 127.53.0.0/16; the lab serves them all on one free
// port. The glueless.org server answers at ns1.dnshost.net's address too,
// since the zone names that server.
var testHierarchy = resolvertest.Hierarchy{Zones: map[string]string{
	".": `
$TTL 86400
@ IN SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
a.root.lab. IN A 127.53.0.1
org. IN NS ns1.nic.org.
ns1.nic.org. IN A 127.53.1.1
net. IN NS ns1.nic.net.
ns1.nic.net. IN A 127.53.2.1
`,
	"org.": `
$TTL 86400
@ IN SOA ns1.nic.org. hostmaster.nic.org. 1 1800 900 604800 3600
@ IN NS ns1.nic.org.
ns1.nic IN A 127.53.1.1
example IN NS ns1.example
example IN NS ns2.example
ns1.example IN A 127.53.3.1
ns2.example IN A 127.53.3.2
glueless IN NS ns1.dnshost.net.
two IN NS ns1.two
two IN NS ns2.two
ns1.two IN A 127.53.7.1
ns2.two IN A 127.53.7.2
dead IN NS ns1.dead
dead IN NS ns2.dead
ns1.dead IN A 127.53.8.1
ns2.dead IN A 127.53.8.2
lame IN NS ns1.lame
lame IN NS ns2.lame
ns1.lame IN A 127.53.9.1
ns2.lame IN A 127.53.9.2
cyc1 IN NS ns.cyc2.net.
`,
	"net.": `
$TTL 86400
@ IN SOA ns1.nic.net. hostmaster.nic.net. 1 1800 900 604800 3600
@ IN NS ns1.nic.net.
ns1.nic IN A 127.53.2.1
dnshost IN NS ns1.dnshost
ns1.dnshost IN A 127.53.4.1
example IN NS ns1.example
ns1.example IN A 127.53.6.1
cyc2 IN NS ns.cyc1.org.
`,
	"example.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
@ IN NS ns2
ns1 IN A 127.53.3.1
ns2 IN A 127.53.3.2
www IN A 192.0.2.10
www IN AAAA 2001:db8::10
mail IN A 192.0.2.11
zero 0 IN A 192.0.2.12
short 60 IN A 192.0.2.13
alias IN CNAME web.example.net.
loop1 IN CNAME loop2.example.net.
c1 IN CNAME c2.example.net.
old IN DNAME example.net.
big IN TXT "` + strings.Repeat("x", 250) + `" "` + strings.Repeat("y", 250) + `" "` + strings.Repeat("z", 250) + `"
big IN TXT "` + strings.Repeat("a", 250) + `" "` + strings.Repeat("b", 250) + `" "` + strings.Repeat("c", 250) + `"
huge IN TXT "` + strings.Repeat("h", 250) + `" "` + strings.Repeat("u", 250) + `" "` + strings.Repeat("g", 250) + `" "` + strings.Repeat("e", 250) + `"
huge IN TXT "` + strings.Repeat("H", 250) + `" "` + strings.Repeat("U", 250) + `" "` + strings.Repeat("G", 250) + `" "` + strings.Repeat("E", 250) + `"
huge IN TXT "` + strings.Repeat("i", 250) + `" "` + strings.Repeat("j", 250) + `" "` + strings.Repeat("k", 250) + `" "` + strings.Repeat("l", 250) + `"
huge IN TXT "` + strings.Repeat("m", 250) + `" "` + strings.Repeat("n", 250) + `" "` + strings.Repeat("o", 250) + `" "` + strings.Repeat("p", 250) + `"
huge IN TXT "` + strings.Repeat("q", 250) + `" "` + strings.Repeat("r", 250) + `" "` + strings.Repeat("s", 250) + `" "` + strings.Repeat("t", 250) + `"
`,
	"example.net.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 127.53.6.1
web IN A 192.0.2.20
loop2 IN CNAME loop1.example.org.
c2 IN CNAME www.example.org.
www IN A 192.0.2.30
`,
	"dnshost.net.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
ns1 IN A 127.53.4.1
ns1.glueless IN A 127.53.5.1
`,
	"glueless.org.": `
$TTL 3600
@ IN SOA ns1.dnshost.net. hostmaster 1 1800 900 604800 300
@ IN NS ns1.dnshost.net.
www IN A 192.0.2.40
`,
	"two.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
@ IN NS ns2
ns1 IN A 127.53.7.1
ns2 IN A 127.53.7.2
www IN A 192.0.2.50
`,
	"dead.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
@ IN NS ns2
ns1 IN A 127.53.8.1
ns2 IN A 127.53.8.2
www IN A 192.0.2.60
`,
	"lame.org.": `
$TTL 3600
@ IN SOA ns1 hostmaster 1 1800 900 604800 300
@ IN NS ns1
@ IN NS ns2
ns1 IN A 127.53.9.1
ns2 IN A 127.53.9.2
www IN A 192.0.2.70
`,
}, Servers: []resolvertest.Host{
	{Name: "a.root.lab.", Addr: "127.53.0.1", Zones: []string{"."}},
	{Name: "ns1.nic.org.", Addr: "127.53.1.1", Zones: []string{"org."}},
	{Name: "ns1.nic.net.", Addr: "127.53.2.1", Zones: []string{"net."}},
	{Name: "ns1.example.org.", Addr: "127.53.3.1", Zones: []string{"example.org."}},
	{Name: "ns2.example.org.", Addr: "127.53.3.2", Zones: []string{"example.org."}},
	{Name: "ns1.dnshost.net.", Addr: "127.53.4.1", Zones: []string{"dnshost.net.", "glueless.org."}},
	{Name: "ns1.glueless.dnshost.net.", Addr: "127.53.5.1", Zones: []string{"glueless.org."}},
	{Name: "ns1.example.net.", Addr: "127.53.6.1", Zones: []string{"example.net."}},
	{Name: "ns1.two.org.", Addr: "127.53.7.1", Zones: []string{"two.org."}},
	{Name: "ns2.two.org.", Addr: "127.53.7.2", Zones: []string{"two.org."}},
	{Name: "ns1.dead.org.", Addr: "127.53.8.1", Zones: []string{"dead.org."}},
	{Name: "ns2.dead.org.", Addr: "127.53.8.2", Zones: []string{"dead.org."}},
	{Name: "ns1.lame.org.", Addr: "127.53.9.1", Zones: []string{"lame.org."}},
	{Name: "ns2.lame.org.", Addr: "127.53.9.2", Zones: []string{"lame.org."}},
}}

// startLab starts the test hierarchy, with its dead.org servers silent,
// one of two.org's servers silent and one of lame.org's lame.
func startLab(t testing.TB) *resolvertest.Lab {
	t.Helper()
	lab := testHierarchy.Start(t, resolvertest.Config{})
	for _, name := range []string{"ns1.dead.org.", "ns2.dead.org."} {
		lab.Server(name).SetFaults(resolvertest.Faults{Drop: true})
	}
	lab.Server("ns1.two.org.").SetFaults(resolvertest.Faults{Drop: true})
	lab.Server("ns1.lame.org.").SetFaults(resolvertest.Faults{Lame: resolvertest.LameNonAuth})
	return lab
}

// loopbackOnly wraps an Exchanger so a test fails loudly if the resolver
// ever tries to send outside 127.0.0.0/8 and ::1.
func loopbackOnly(t testing.TB, x resolver.Exchanger) resolver.Exchanger {
	return resolver.ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
		if !server.Addr().IsLoopback() {
			t.Errorf("resolver sent a query to non-loopback %s", server)
			return nil, fmt.Errorf("test: refusing to send to %s", server)
		}
		return x.Exchange(ctx, q, network, server)
	})
}

// newResolver returns a resolver pointed at the lab.
func newResolver(t testing.TB, lab *resolvertest.Lab, mod func(*resolver.Config)) *resolver.Resolver {
	t.Helper()
	return labresolver.New(t, lab, func(c *resolver.Config) {
		c.Exchanger = loopbackOnly(t, &resolver.NetExchanger{})
		c.QueryTimeout = 300 * time.Millisecond // the lab answers in microseconds
		if mod != nil {
			mod(c)
		}
	})
}
