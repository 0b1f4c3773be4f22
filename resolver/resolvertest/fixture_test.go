package resolvertest

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Addresses of the fixture's servers.
var (
	rootAddr = netip.MustParseAddr("127.53.0.1")
	orgAddr  = netip.MustParseAddr("127.53.0.2")
	exAddr   = netip.MustParseAddr("127.53.0.3")
	subAddr  = netip.MustParseAddr("127.53.0.4")
	multiAdr = netip.MustParseAddr("127.53.0.5")
	lameAddr = netip.MustParseAddr("127.53.0.6")
)

const rootZone = `
$ORIGIN .
$TTL 86400
@                    SOA a.root-servers.lab. hostmaster.lab. 1 1800 900 604800 3600
@                    NS  a.root-servers.lab.
a.root-servers.lab.  A   127.53.0.1
org.                 NS  ns.org.
ns.org.              A   127.53.0.2
org.                 DS  12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
`

const orgZone = `
$ORIGIN org.
$TTL 3600
@             SOA ns.org. hostmaster.org. 1 7200 900 1209600 300
@             NS  ns.org.
ns            A   127.53.0.2
example       NS  ns1.example
example       NS  ns2.example.net.
ns1.example   A   127.53.0.3
example       DS  23456 8 2 FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210
nods          NS  ns1.example
`

var exampleZone = `
$ORIGIN example.org.
$TTL 300
@        SOA   ns1 hostmaster 2026112601 7200 900 1209600 60
@        NS    ns1
ns1      A     127.53.0.3
www      A     192.0.2.10
www      AAAA  2001:db8::10
alias    CNAME www
chain    CNAME alias
ext      CNAME www.example.net.
loop1    CNAME loop2
loop2    CNAME loop1
a.b.c    TXT   "deep"
*.wild   A     192.0.2.20
*.wild2  TXT   "wild"
old      DNAME new
x.new    A     192.0.2.30
sub      NS    ns.sub
ns.sub   A     127.53.0.4
mail     MX    10 mx1
mx1      A     192.0.2.25
big      TXT   "` + strings.Repeat("a", 250) + `"
big      TXT   "` + strings.Repeat("b", 250) + `"
big      TXT   "` + strings.Repeat("c", 250) + `"
`

const subZone = `
$ORIGIN sub.example.org.
$TTL 300
@        SOA   ns hostmaster 1 7200 900 1209600 60
@        NS    ns
ns       A     127.53.0.4
host     A     192.0.2.40
`

// newFixture starts the fixture lab: a root, org., example.org. with a
// child sub.example.org., a server hosting both org. and example.org., and
// a server hosting nothing (REFUSED for everything).
func newFixture(t *testing.T) *Lab {
	t.Helper()
	return newFixtureWith(t, Config{})
}

// newFixtureWith starts the fixture lab with cfg.
func newFixtureWith(t *testing.T, cfg Config) *Lab {
	t.Helper()
	lab := New(cfg)
	for _, z := range []struct{ origin, text string }{
		{".", rootZone},
		{"org.", orgZone},
		{"example.org.", exampleZone},
		{"sub.example.org.", subZone},
	} {
		if err := lab.AddZone(z.origin, z.text); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		name  string
		addr  netip.Addr
		zones []string
	}{
		{"a.root-servers.lab.", rootAddr, []string{"."}},
		{"ns.org.", orgAddr, []string{"org."}},
		{"ns1.example.org.", exAddr, []string{"example.org."}},
		{"ns.sub.example.org.", subAddr, []string{"sub.example.org."}},
		{"multi.lab.", multiAdr, []string{"org.", "example.org.", "sub.example.org."}},
		{"lame.lab.", lameAddr, nil},
	} {
		if err := lab.AddServer(s.name, s.addr, s.zones...); err != nil {
			t.Fatal(err)
		}
	}
	return Start(t, lab)
}

// fixtureTimeout bounds each exchange in the tests; loopback replies take
// microseconds, so this only matters when a test is broken.
const fixtureTimeout = 2 * time.Second

// exchange sends q to server over network ("udp" or "tcp").
func exchange(t *testing.T, lab *Lab, server, network string, q *dns.Msg) *dns.Msg {
	t.Helper()
	s := lab.Server(server)
	if s == nil {
		t.Fatalf("no server %s", server)
	}
	c := &dns.Client{Net: network, Timeout: fixtureTimeout}
	r, _, err := c.Exchange(q, s.AddrPort().String())
	if err != nil {
		t.Fatalf("exchange %s with %s over %s: %v", q.Question[0].Name, server, network, err)
	}
	return r
}

// query builds a query for name/qtype with RD off, as an iterative
// resolver sends it.
func query(name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = false
	return q
}

// view is the comparable summary of a reply.
type view struct {
	Rcode  string
	AA, TC bool
	Answer []string
	Ns     []string
	Extra  []string
}

func viewOf(m *dns.Msg) view {
	v := view{Rcode: dns.RcodeToString[m.Rcode], AA: m.Authoritative, TC: m.Truncated}
	v.Answer = rrStrings(m.Answer)
	v.Ns = rrStrings(m.Ns)
	v.Extra = rrStrings(m.Extra)
	return v
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, rr.String())
	}
	return out
}

// rrs normalises zone-file lines to dns.RR.String form.
func rrs(t *testing.T, lines ...string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("bad test record %q: %v", l, err)
		}
		out = append(out, rr.String())
	}
	return out
}
