package dnsname

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// subDomainCases are parent, child pairs; the answer expected is
// dns.IsSubDomain's with both names fully qualified (dns.Fqdn).
var subDomainCases = []struct {
	name, parent, child string
}{
	{"root of anything", ".", "www.example.org."},
	{"root of root", ".", "."},
	{"itself", "example.org.", "example.org."},
	{"itself, other case", "Example.ORG.", "example.org."},
	{"child", "example.org.", "www.example.org."},
	{"grandchild, other case", "example.org.", "a.WWW.Example.Org."},
	{"no final dots", "example.org", "www.example.org"},
	{"final dot on one", "example.org.", "www.example.org"},
	{"sibling with a common suffix", "example.org.", "badexample.org."},
	{"parent longer", "www.example.org.", "example.org."},
	{"unrelated", "example.org.", "example.net."},
	{"escaped dot before the suffix", "example.org.", `www\.example.org.`},
	{"escaped backslash before a real dot", "example.org.", `www\\.example.org.`},
	{"escaped dot in the parent", `b\.c.`, `a.b\.c.`},
	{"escaped dot only in the child", `b.c.`, `a\.b.c.`},
	{"decimal escape is not the letter", "a.org.", `\097.org.`},
	{"non-ASCII bytes differ", "\xc3\xa9.org.", "\xc3\xa8.org."},
	{"non-ASCII bytes equal", "\xc3\xa9.org.", "x.\xc3\xa9.org."},
	{"empty child", "example.org.", ""},
	{"empty parent", "", "example.org."},
	{"escaped final dot", `org\.`, `a.org\.`},
}

func TestIsSubDomain(t *testing.T) {
	for _, tt := range subDomainCases {
		t.Run(tt.name, func(t *testing.T) {
			want := dns.IsSubDomain(dns.Fqdn(tt.parent), dns.Fqdn(tt.child))
			if diff := cmp.Diff(want, IsSubDomain(tt.parent, tt.child)); diff != "" {
				t.Errorf("IsSubDomain(%q, %q) (-dns +ours):\n%s", tt.parent, tt.child, diff)
			}
		})
	}
}

func TestLastLabels(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
	}{
		{"one of three", "a.b.c.", 1},
		{"two of three", "a.b.c.", 2},
		{"all three", "a.b.c.", 3},
		{"more than there are", "a.b.c.", 5},
		{"no final dot", "a.b.c", 2},
		{"root", ".", 1},
		{"escaped dot", `a\.b.c.`, 2},
		{"escaped backslash", `a\\.b.c.`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			if idx := dns.Split(tt.in); tt.n < len(idx) {
				want = tt.in[idx[len(idx)-tt.n]:]
			}
			if diff := cmp.Diff(want, LastLabels(tt.in, tt.n)); diff != "" {
				t.Errorf("LastLabels(%q, %d) (-dns.Split +ours):\n%s", tt.in, tt.n, diff)
			}
		})
	}
}

// TestNoAllocs checks the point of the package: nothing is allocated.
func TestNoAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		_ = IsSubDomain("Example.org.", "a.b.example.ORG.")
		_ = LastLabels("a.b.example.org.", 2)
	}); n != 0 {
		t.Errorf("allocations per call: %v, want 0", n)
	}
}

// FuzzIsSubDomain compares IsSubDomain and LastLabels with miekg/dns on
// valid names.
func FuzzIsSubDomain(f *testing.F) {
	for _, tt := range subDomainCases {
		f.Add(tt.parent, tt.child, 2)
	}
	f.Fuzz(func(t *testing.T, parent, child string, n int) {
		if _, ok := dns.IsDomainName(parent); !ok {
			return
		}
		if _, ok := dns.IsDomainName(child); !ok {
			return
		}
		if got, want := IsSubDomain(parent, child), dns.IsSubDomain(dns.Fqdn(parent), dns.Fqdn(child)); got != want {
			t.Errorf("IsSubDomain(%q, %q) = %v, dns says %v", parent, child, got, want)
		}
		if n < 1 || n > 130 {
			return
		}
		want := child
		if idx := dns.Split(child); n < len(idx) {
			want = child[idx[len(idx)-n]:]
		}
		if got := LastLabels(child, n); got != want {
			t.Errorf("LastLabels(%q, %d) = %q, dns.Split gives %q", child, n, got, want)
		}
	})
}
