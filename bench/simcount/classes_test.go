package main

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

func TestClasses(t *testing.T) {
	q := func(server, name string, qtype uint16, transport string) resolvertest.Query {
		return resolvertest.Query{ServerIP: netip.MustParseAddr(server), Name: name, Type: qtype, Transport: transport}
	}
	tests := []struct {
		name    string
		queries []resolvertest.Query
		want    string
	}{
		{"empty", nil,
			"total=0 type-A=0 type-AAAA=0 type-NS=0 type-DS=0 type-DNSKEY=0 type-other=0 tier-root=0 tier-tld=0 tier-auth=0 tcp=0 reask=0 dup=0"},
		{"tiers and types", []resolvertest.Query{
			q("127.10.0.1", "org.", dns.TypeNS, "udp"),
			q("127.10.1.3", "example.org.", dns.TypeDS, "udp"),
			q("127.10.2.1", "www.example.org.", dns.TypeA, "udp"),
			q("127.10.2.1", "example.org.", dns.TypeDNSKEY, "tcp"),
			q("127.10.2.1", "example.org.", dns.TypeMX, "udp"),
		}, "total=5 type-A=1 type-AAAA=0 type-NS=1 type-DS=1 type-DNSKEY=1 type-other=1 tier-root=1 tier-tld=1 tier-auth=3 tcp=1 reask=0 dup=0"},
		{"re-asks ignore case, not server or type; dups ignore the server", []resolvertest.Query{
			q("127.10.2.1", "www.example.org.", dns.TypeA, "udp"),
			q("127.10.2.1", "WwW.example.ORG.", dns.TypeA, "udp"),
			q("127.10.2.2", "www.example.org.", dns.TypeA, "udp"),
			q("127.10.2.1", "www.example.org.", dns.TypeAAAA, "udp"),
		}, "total=4 type-A=3 type-AAAA=1 type-NS=0 type-DS=0 type-DNSKEY=0 type-other=0 tier-root=0 tier-tld=0 tier-auth=4 tcp=0 reask=1 dup=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClasses()
			// A reset between two runs forgets the first: the second run's
			// questions are not re-asks.
			for _, q := range tt.queries {
				c.add(q)
			}
			c.reset()
			for _, q := range tt.queries {
				c.add(q)
			}
			var b strings.Builder
			c.write(&b)
			if diff := cmp.Diff(tt.want, strings.TrimSpace(b.String())); diff != "" {
				t.Errorf("classes (-want +got):\n%s", diff)
			}
			var log strings.Builder
			c.writeLog(&log)
			var wantLog strings.Builder
			for _, q := range tt.queries {
				fmt.Fprintf(&wantLog, "%s %s %s %s\n", q.ServerIP, strings.ToLower(q.Name), dns.TypeToString[q.Type], q.Transport)
			}
			if diff := cmp.Diff(wantLog.String(), log.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}
