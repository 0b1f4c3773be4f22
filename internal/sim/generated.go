package sim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// Generated zones, for benchmarks that need more names than BulkNames
// (bench/peers.sh NAMES=2000, as the lab of 2000 names): small
// sites under com., net., org. and test., every other one signed, hosted
// by a few providers' server pairs, as a list of popular names is.
const (
	// genHostsPerZone is how many hosts a generated zone has: five, so
	// that 2000 names span 400 zones and a cold run costs about as many
	// zone cuts (referral, DS, DNSKEY) per name as a real list of popular
	// names does (about 1.4 upstream queries per name in the lab).
	genHostsPerZone = 5
	// genProviders is how many server pairs host the generated zones
	// (127.10.4.1 to 127.10.4.2*genProviders): a resolver learns their
	// RTTs once and reuses them across zones, as with real hosters.
	genProviders = 32
	// MaxGeneratedHosts bounds Config.Hosts: the host addresses come from
	// 198.19.0.0/16 (RFC 2544's benchmarking range), one each.
	MaxGeneratedHosts = 1 << 16
)

// genTLDs are the parents of the generated zones, in turn.
var genTLDs = [...]string{"com.", "net.", "org.", "test."}

// generated is the part of the simulation that Config.Hosts adds.
type generated struct {
	zones   map[string]string // origin -> zone text
	parents map[string]string // TLD -> delegation text to append
	signed  []string          // origins of the signed generated zones
	servers []server
	names   []string // the hosts, in a fixed shuffled order
}

// generate returns hosts generated host names in ceil(hosts/5) zones.
func generate(hosts int) (*generated, error) {
	if hosts < 0 || hosts > MaxGeneratedHosts {
		return nil, fmt.Errorf("sim: %d generated hosts: want 0 to %d", hosts, MaxGeneratedHosts)
	}
	g := &generated{zones: map[string]string{}, parents: map[string]string{}}
	if hosts == 0 {
		return g, nil
	}
	ms := time.Millisecond
	for p := range genProviders {
		// Leaf-server latencies of 5 to 80 ms, as the fixed zones', the
		// second server of a pair slower than the first.
		first := 5*ms + time.Duration((p*7)%40)*ms
		g.servers = append(g.servers,
			server{name: fmt.Sprintf("ns1.hosting%02d.lab.", p), addr: fmt.Sprintf("127.10.4.%d", 2*p+1), latency: first},
			server{name: fmt.Sprintf("ns2.hosting%02d.lab.", p), addr: fmt.Sprintf("127.10.4.%d", 2*p+2), latency: first + 15*ms + time.Duration((p*11)%25)*ms})
	}
	nzones := (hosts + genHostsPerZone - 1) / genHostsPerZone
	hostAddr := netip.MustParseAddr("198.19.0.0")
	var delegations [len(genTLDs)]strings.Builder
	for i := range nzones {
		tld := genTLDs[i%len(genTLDs)]
		origin := fmt.Sprintf("site%04d.%s", i, tld)
		ns1, ns2 := &g.servers[2*(i%genProviders)], &g.servers[2*(i%genProviders)+1]
		var b strings.Builder
		fmt.Fprintf(&b, "; %s: a generated site (sim.Config.Hosts).\n$ORIGIN %s\n$TTL 3600\n", origin, origin)
		b.WriteString("@ IN SOA ns1 hostmaster 2026112601 7200 3600 1209600 300\n@ IN NS ns1\n@ IN NS ns2\n")
		fmt.Fprintf(&b, "ns1 IN A %s\nns2 IN A %s\n", ns1.addr, ns2.addr)
		for h := 0; h < genHostsPerZone && i*genHostsPerZone+h < hosts; h++ {
			host := fmt.Sprintf("h%d", h)
			hostAddr = hostAddr.Next()
			fmt.Fprintf(&b, "%s IN A %s\n", host, hostAddr)
			g.names = append(g.names, host+"."+origin)
		}
		g.zones[origin] = b.String()
		ns1.zones = append(ns1.zones, origin)
		ns2.zones = append(ns2.zones, origin)
		d := &delegations[i%len(genTLDs)]
		fmt.Fprintf(d, "%s 86400 IN NS ns1.%s\n%s 86400 IN NS ns2.%s\n", origin, origin, origin, origin)
		fmt.Fprintf(d, "ns1.%s 86400 IN A %s\nns2.%s 86400 IN A %s\n", origin, ns1.addr, origin, ns2.addr)
		if i%2 == 0 {
			g.signed = append(g.signed, origin)
		}
	}
	for i, tld := range genTLDs {
		g.parents[tld] = "\n; Generated sites (sim.Config.Hosts).\n" + delegations[i].String()
	}
	// A fixed order, the sites mixed as in a list of popular names; the
	// same every run, so two runs ask the same questions in turn.
	rng := rand.New(rand.NewPCG(2026, 12))
	rng.Shuffle(len(g.names), func(a, b int) { g.names[a], g.names[b] = g.names[b], g.names[a] })
	return g, nil
}

// addTo adds the generated zones, delegations and servers to h.
func (g *generated) addTo(h *resolvertest.Hierarchy) {
	for tld, text := range g.parents {
		h.Zones[tld] += text
	}
	for origin, text := range g.zones {
		h.Zones[origin] = text
	}
	for _, origin := range g.signed {
		h.Signed[origin] = resolvertest.SignOptions{}
	}
}

// GeneratedNames returns the names Config.Hosts = hosts adds to the
// simulation, in the order a benchmark should ask them (a fixed
// shuffle), or an error if hosts is out of range.
func GeneratedNames(hosts int) ([]string, error) {
	g, err := generate(hosts)
	if err != nil {
		return nil, err
	}
	return g.names, nil
}
