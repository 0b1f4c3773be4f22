package cli

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzParseQuestion: a name and a type typed by a person are accepted as
// a valid, fully qualified domain name and a resolvable type, or refused
// with a usage error; never a panic. Accepted names parse again to
// themselves.
func FuzzParseQuestion(f *testing.F) {
	for _, s := range [][2]string{{"www.example.org", "A"}, {"_sip._tcp.example.org", "SRV"}, {"bücher.example", "AAAA"},
		{".", "NS"}, {"a..b", "TYPE65535"}, {"x.example", "AXFR"}, {"\u3002", "TYPE0"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, typ string) {
		n, qt, err := parseQuestion(name, typ)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "name ") && !strings.HasPrefix(err.Error(), "type ") {
				t.Fatalf("error does not say what was wrong: %v", err)
			}
			return
		}
		if _, ok := dns.IsDomainName(n); !ok || !dns.IsFqdn(n) {
			t.Fatalf("accepted %q as %q, not a fully qualified domain name", name, n)
		}
		if buf := make([]byte, 256); func() bool { _, err := dns.PackDomainName(n, buf, 0, nil, false); return err != nil }() {
			t.Fatalf("accepted %q as %q, which does not pack", name, n)
		}
		if again, err := parseName(n); err != nil || again != n {
			t.Fatalf("%q parses to %q, which parses to %q (%v)", name, n, again, err)
		}
		if qt == 0 {
			t.Fatalf("type %q accepted as 0", typ)
		}
	})
}
