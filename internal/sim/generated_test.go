package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

func TestGeneratedNames(t *testing.T) {
	tests := []struct {
		name    string
		hosts   int
		want    int // names
		zones   int // distinct zones
		wantErr bool
	}{
		{"none", 0, 0, 0, false},
		{"one", 1, 1, 1, false},
		{"one full zone", genHostsPerZone, genHostsPerZone, 1, false},
		{"a zone more", genHostsPerZone + 1, genHostsPerZone + 1, 2, false},
		{"the benchmark's 2000", 2000, 2000, 400, false},
		{"the most", MaxGeneratedHosts, MaxGeneratedHosts, (MaxGeneratedHosts + genHostsPerZone - 1) / genHostsPerZone, false},
		{"negative", -1, 0, 0, true},
		{"too many", MaxGeneratedHosts + 1, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, err := GeneratedNames(tt.hosts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("GeneratedNames(%d) error = %v, want error %t", tt.hosts, err, tt.wantErr)
			}
			seen := map[string]bool{}
			zones := map[string]bool{}
			for _, n := range names {
				if seen[n] {
					t.Errorf("%s listed twice", n)
				}
				seen[n] = true
				_, zone, _ := strings.Cut(n, ".")
				zones[zone] = true
			}
			if diff := cmp.Diff([2]int{tt.want, tt.zones}, [2]int{len(names), len(zones)}); diff != "" {
				t.Errorf("names, zones (-want +got):\n%s", diff)
			}
		})
	}
	a, _ := GeneratedNames(100)
	b, _ := GeneratedNames(100)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two calls list different orders (-first +second):\n%s", diff)
	}
}

// TestGeneratedZonesResolve resolves, validating, one host of each of the
// first generated zones (one per TLD, signed and not) and checks the
// answer and its security.
func TestGeneratedZonesResolve(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	const hosts = 8 * genHostsPerZone // two zones under each TLD
	lab, err := New(Config{NoLatency: true, Hosts: hosts, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	r := labresolver.New(t, lab, func(c *resolver.Config) {
		c.TrustAnchors = labresolver.TrustAnchors(t, lab)
		c.Now = func() time.Time { return now.Add(time.Minute) }
	})
	want := map[string]string{}
	got := map[string]string{}
	for i := range hosts / genHostsPerZone {
		name := fmt.Sprintf("h%d.site%04d.%s", genHostsPerZone-1, i, genTLDs[i%len(genTLDs)])
		sec := dnssec.Insecure
		if i%2 == 0 {
			sec = dnssec.Secure
		}
		// Host h4 of zone i has the (5i+5)-th address of 198.19.0.0/16.
		want[name] = fmt.Sprintf("%s 3600 IN A 198.19.0.%d %v", name, genHostsPerZone*i+genHostsPerZone, sec)
		res, err := r.Query(t.Context(), resolver.Request{Name: name, Type: dns.TypeA, DO: true})
		if err != nil {
			got[name] = err.Error()
			continue
		}
		got[name] = strings.Join(rrStrings(onlyType(res.Answer, dns.TypeA)), ",") + " " + res.Security.String()
	}
	for k, v := range got {
		got[k] = strings.Join(strings.Fields(v), " ")
	}
	for k, v := range want {
		want[k] = strings.Join(strings.Fields(v), " ")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers and security (-want +got):\n%s", diff)
	}
}

func onlyType(rrs []dns.RR, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}
