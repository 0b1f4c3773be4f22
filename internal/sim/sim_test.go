package sim

import (
	"context"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestDelegationsMatchServers checks the zone data against the server
// table: every NS name of every zone is a server of the simulation that
// hosts the zone (except the deliberately lame ones), every address given
// for a name server is loopback and equals that server's address, and
// every zone is hosted somewhere.
func TestDelegationsMatchServers(t *testing.T) {
	zones, err := Zones()
	if err != nil {
		t.Fatal(err)
	}
	type srv struct {
		addr  netip.Addr
		zones map[string]bool
	}
	byName := map[string]srv{}
	hosted := map[string]bool{}
	for _, s := range servers() {
		v := srv{addr: s.netipAddr(), zones: map[string]bool{}}
		for _, z := range s.zones {
			v.zones[z] = true
			hosted[z] = true
		}
		byName[s.name] = v
	}
	for alias, name := range aliases() {
		byName[alias] = byName[name]
	}
	// lame lists NS names that are meant not to serve the zone.
	lame := map[string]bool{"ns1.lamplight.net.": true}

	for origin, text := range zones {
		if !hosted[origin] {
			t.Errorf("zone %s is hosted by no server", origin)
		}
		zp := dns.NewZoneParser(strings.NewReader(text), origin, origin)
		nsTargets := map[string]string{} // NS name -> zone it serves
		var addrs []dns.RR
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			switch v := rr.(type) {
			case *dns.NS:
				nsTargets[dns.CanonicalName(v.Ns)] = dns.CanonicalName(v.Hdr.Name)
			case *dns.A, *dns.AAAA:
				addrs = append(addrs, rr)
			}
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("zone %s: %v", origin, err)
		}
		for ns, served := range nsTargets {
			s, ok := byName[ns]
			if !ok {
				t.Errorf("zone %s: NS %s for %s is not a server of the simulation", origin, ns, served)
				continue
			}
			if !s.zones[served] && !lame[ns] {
				t.Errorf("zone %s: NS %s does not host %s", origin, ns, served)
			}
		}
		for _, rr := range addrs {
			name := dns.CanonicalName(rr.Header().Name)
			s, isServer := byName[name]
			if !isServer {
				continue // a host, not a name server
			}
			var addr netip.Addr
			switch v := rr.(type) {
			case *dns.A:
				addr, _ = netip.AddrFromSlice(v.A.To4())
			case *dns.AAAA:
				addr, _ = netip.AddrFromSlice(v.AAAA)
			}
			if !addr.IsLoopback() || addr != s.addr {
				t.Errorf("zone %s: %s has address %v, its server listens on %v", origin, name, addr, s.addr)
			}
		}
	}
}

func TestBulkNames(t *testing.T) {
	names := BulkNames()
	if len(names) != 100 {
		t.Fatalf("%d bulk names, want 100", len(names))
	}
	lab := startSim(t)
	perZone := map[string]int{}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			t.Errorf("duplicate %s", name)
		}
		seen[name] = true
		labels := dns.SplitDomainName(name)
		if len(labels) != 3 || labels[2] != "test" {
			t.Errorf("%s is not a host of a zone under test.", name)
			continue
		}
		zone := labels[1] + ".test."
		perZone[zone]++
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		c := &dns.Client{Timeout: exchangeTimeout}
		r, _, err := c.Exchange(q, lab.Server("ns1."+zone).AddrPort().String())
		if err != nil {
			t.Fatal(err)
		}
		if !r.Authoritative || len(r.Answer) != 1 {
			t.Errorf("%s: AA=%v, %d answers", name, r.Authoritative, len(r.Answer))
		}
	}
	want := map[string]int{"acme.test.": 20, "bluebird.test.": 20, "cobalt.test.": 20, "dunmore.test.": 20, "evergreen.test.": 20}
	if diff := cmp.Diff(want, perZone); diff != "" {
		t.Errorf("names per zone (-want +got):\n%s", diff)
	}
}

func TestRootHints(t *testing.T) {
	lab, err := New(Config{NoLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(strings.NewReader(lab.RootHints()), ".", "hints")
	var ns, addrs []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch v := rr.(type) {
		case *dns.NS:
			ns = append(ns, v.Ns)
		case *dns.A:
			addrs = append(addrs, v.Hdr.Name+" "+v.A.String())
		default:
			t.Errorf("unexpected record %v", rr)
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(ns)
	want := []string{"a.root-servers.lab.", "b.root-servers.lab.", "c.root-servers.lab."}
	wantAddrs := []string{"a.root-servers.lab. 127.10.0.1", "b.root-servers.lab. 127.10.0.2", "c.root-servers.lab. 127.10.0.3"}
	if diff := cmp.Diff(want, ns); diff != "" {
		t.Errorf("root NS (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantAddrs, addrs); diff != "" {
		t.Errorf("root addresses (-want +got):\n%s", diff)
	}
}

func TestStartStop(t *testing.T) {
	lab, err := New(Config{NoLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if lab.Port() == 0 {
		t.Error("no port after Start")
	}
	if n := len(lab.Servers()); n != len(servers()) {
		t.Errorf("%d servers, want %d", n, len(servers()))
	}
	q := new(dns.Msg)
	q.SetQuestion(".", dns.TypeSOA)
	c := &dns.Client{Timeout: exchangeTimeout}
	if _, _, err := c.Exchange(q, lab.Server("a.root-servers.lab.").AddrPort().String()); err != nil {
		t.Fatal(err)
	}
	if err := lab.Close(); err != nil {
		t.Fatal(err)
	}
	c.Timeout = deadTimeout
	if _, _, err := c.Exchange(q, lab.Server("a.root-servers.lab.").AddrPort().String()); err == nil {
		t.Error("closed lab still answers")
	}
}

func TestLatencyConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want map[string]string // server -> latency
	}{
		{"default", Config{}, map[string]string{"a.root-servers.lab.": "5ms", "ns2.driftwood.org.": "80ms"}},
		{"scaled", Config{LatencyScale: 0.5}, map[string]string{"a.root-servers.lab.": "2.5ms", "ns2.driftwood.org.": "40ms"}},
		{"off", Config{NoLatency: true}, map[string]string{"a.root-servers.lab.": "0s", "ns2.driftwood.org.": "0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for name := range tt.want {
				got[name] = lab.Server(name).Faults().Latency.String()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("latency (-want +got):\n%s", diff)
			}
			if !lab.Server("ns1.tideline.com.").Faults().Drop {
				t.Error("ns1.tideline.com. is not dead")
			}
		})
	}
}
