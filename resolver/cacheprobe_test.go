package resolver_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// TestMayAnswerFromCache: the probe says false exactly where a
// cache-only Query fails for want of data (a question never asked), true
// where the cache holds an answer, a CNAME or a negative answer; and a
// miss allocates nothing.
func TestMayAnswerFromCache(t *testing.T) {
	lab := startLab(t)
	r := newResolver(t, lab, nil)
	mustResolve(t, r, "www.example.org.", dns.TypeA)
	if _, err := r.Resolve(context.Background(), "nothere.example.org.", dns.TypeA); err != nil {
		t.Fatalf("NXDOMAIN: %v", err)
	}
	if _, err := r.Resolve(context.Background(), "alias.example.org.", dns.TypeA); err != nil {
		t.Fatalf("CNAME: %v", err)
	}
	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  bool
	}{
		{"a cached answer", "www.example.org.", dns.TypeA, true},
		{"in another letter case", "WWW.Example.ORG.", dns.TypeA, true},
		{"a cached NXDOMAIN", "nothere.example.org.", dns.TypeA, true},
		{"a cached CNAME", "alias.example.org.", dns.TypeA, true},
		{"a name never asked", "never.example.org.", dns.TypeA, false},
		{"a type never asked", "www.example.org.", dns.TypeTXT, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := resolver.Request{Name: tt.qname, Type: tt.qtype, Class: dns.ClassINET, CacheOnly: true}
			got := r.MayAnswerFromCache(req)
			_, err := r.Query(context.Background(), req)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("MayAnswerFromCache (-want +got):\n%s", diff)
			}
			if !got && err == nil {
				t.Errorf("a cache-only Query answered what the probe called a miss")
			}
		})
	}
	miss := resolver.Request{Name: "never.example.org.", Type: dns.TypeA, Class: dns.ClassINET, CacheOnly: true}
	if n := testing.AllocsPerRun(100, func() { r.MayAnswerFromCache(miss) }); n != 0 {
		t.Errorf("%.0f allocations per miss, want 0", n)
	}
}
