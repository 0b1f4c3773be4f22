package resolver_test

import (
	"context"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// BenchmarkColdResolve measures a resolution with nothing learned yet:
// every iteration is a new resolver walking from the root. It reports the
// upstream queries per resolution beside time and allocations.
func BenchmarkColdResolve(b *testing.B) {
	for _, name := range []string{"www.example.org.", "www.glueless.org.", "alias.example.org."} {
		b.Run(name, func(b *testing.B) {
			lab := startLab(b)
			b.ReportAllocs()
			queries := 0
			for b.Loop() {
				r := newResolver(b, lab, func(c *resolver.Config) { c.Exchanger = &resolver.NetExchanger{} })
				res, err := r.Resolve(context.Background(), name, dns.TypeA)
				if err != nil {
					b.Fatal(err)
				}
				queries += res.Upstream
			}
			b.ReportMetric(float64(queries)/float64(b.N), "upstream/op")
		})
	}
}
