package resolver_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// TestConfiguredZones checks stub zones (iterate from given servers) and
// forward zones (send the whole question with RD=1).
func TestConfiguredZones(t *testing.T) {
	lab := startLab(t)
	ns1 := lab.Server("ns1.example.org.").AddrPort()
	tests := []struct {
		name   string
		mod    func(*resolver.Config)
		wantRD bool
	}{
		{"stub zone", func(c *resolver.Config) {
			c.Stub = []resolver.ZoneConfig{{Zone: "example.org", Servers: []netip.AddrPort{ns1}}}
		}, false},
		{"forward zone", func(c *resolver.Config) {
			c.Forward = []resolver.ZoneConfig{{Zone: "example.org.", Servers: []netip.AddrPort{ns1}}}
		}, true},
		{"forward everything (the root)", func(c *resolver.Config) {
			c.Forward = []resolver.ZoneConfig{{Zone: ".", Servers: []netip.AddrPort{ns1}}}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab.ResetQueries()
			r := newResolver(t, lab, func(c *resolver.Config) {
				tt.mod(c)
				c.AllowLoopback = false // configured servers are allowed anyway
			})
			res, err := r.Resolve(context.Background(), "www.example.org.", dns.TypeA)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff([]string{"www.example.org. A 192.0.2.10"}, answerStrings(res.Answer)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			type q struct {
				Server string
				Name   string
				RD     bool
			}
			var got []q
			for _, x := range lab.Queries() {
				got = append(got, q{x.Server, x.Name, x.RD})
			}
			want := []q{{"ns1.example.org.", "www.example.org.", tt.wantRD}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("upstream queries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:53")
	tests := []struct {
		name string
		cfg  resolver.Config
	}{
		{"no address family", resolver.Config{DisableIPv4: true, DisableIPv6: true}},
		{"zone without servers", resolver.Config{Stub: []resolver.ZoneConfig{{Zone: "example.org."}}}},
		{"zone twice", resolver.Config{Stub: []resolver.ZoneConfig{{Zone: "example.org.", Servers: []netip.AddrPort{ap}}},
			Forward: []resolver.ZoneConfig{{Zone: "EXAMPLE.org", Servers: []netip.AddrPort{ap}}}}},
		{"empty hints", resolver.Config{Hints: &resolver.Hints{Zone: "."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := resolver.New(tt.cfg); err == nil {
				t.Errorf("New succeeded, want an error")
			}
		})
	}
}
