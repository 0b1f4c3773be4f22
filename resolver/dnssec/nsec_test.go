package dnssec

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// nsecZone is the NSEC chain of example.org:
//
//	example.org     SOA NS DNSKEY   apex
//	a               A
//	b.c             A               (c is an empty non-terminal)
//	d               NS              unsigned delegation
//	e               NS DS           signed delegation
//	*.w             TXT             wildcard (w is an empty non-terminal)
//	x               CNAME
//
// The last NSEC wraps around to the apex.
const nsecZone = `
@      300 IN NSEC a.example.org. NS SOA RRSIG NSEC DNSKEY
a      300 IN NSEC b.c.example.org. A RRSIG NSEC
b.c    300 IN NSEC d.example.org. A RRSIG NSEC
d      300 IN NSEC e.example.org. NS RRSIG NSEC
e      300 IN NSEC *.w.example.org. NS DS RRSIG NSEC
*.w    300 IN NSEC x.example.org. TXT RRSIG NSEC
x      300 IN NSEC example.org. CNAME RRSIG NSEC
`

// nsecs returns the NSEC RRs of nsecZone owned by the given names (relative
// to example.org, "@" for the apex).
func nsecs(t *testing.T, owners ...string) []*dns.NSEC {
	t.Helper()
	var out []*dns.NSEC
	for _, rr := range rrs(t, nsecZone) {
		n := rr.(*dns.NSEC)
		for _, o := range owners {
			name := "example.org."
			if o != "@" {
				name = o + ".example.org."
			}
			if equalNames(n.Hdr.Name, name) {
				out = append(out, n)
			}
		}
	}
	if len(out) != len(owners) {
		t.Fatalf("nsecs(%v): found %d", owners, len(out))
	}
	return out
}

func TestCompareNames(t *testing.T) {
	t.Parallel()
	// RFC 4034 §6.1 example, in canonical order.
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, compareNames)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("canonical order (-want +got):\n%s", diff)
	}
	if compareNames("EXAMPLE.org.", "example.ORG") != 0 {
		t.Error("names differing in case must compare equal")
	}
	// The fixture chain is in canonical order.
	var owners []string
	for _, rr := range rrs(t, nsecZone) {
		owners = append(owners, rr.Header().Name)
	}
	if !slices.IsSortedFunc(owners, compareNames) {
		t.Errorf("nsecZone not in canonical order: %v", owners)
	}
}

func TestNSECProofs(t *testing.T) {
	t.Parallel()
	const zone = "example.org."
	type proof func(set []*dns.NSEC) error
	nx := func(q string) proof { return func(s []*dns.NSEC) error { return ProveNXDOMAIN(q, zone, s) } }
	nodata := func(q string, qt uint16) proof {
		return func(s []*dns.NSEC) error { return ProveNODATA(q, qt, zone, s) }
	}
	wcNodata := func(q string, qt uint16) proof {
		return func(s []*dns.NSEC) error { return ProveWildcardNODATA(q, qt, zone, s) }
	}
	wcAnswer := func(q, wc string) proof {
		return func(s []*dns.NSEC) error { return ProveWildcardAnswer(q, wc, zone, s) }
	}
	insecureDeleg := func(child string) proof {
		return func(s []*dns.NSEC) error { return ProveInsecureDelegation(child, zone, s) }
	}
	tests := []struct {
		name  string
		proof proof
		set   []string
		want  error
	}{
		{"NXDOMAIN", nx("nx.example.org."), []string{"e", "@"}, nil},
		{"NXDOMAIN missing wildcard denial", nx("nx.example.org."), []string{"e"}, ErrNSECMissing},
		{"NXDOMAIN wrapping to the apex", nx("zz.example.org."), []string{"x", "@"}, nil},
		{"NXDOMAIN below a missing name", nx("a.b.example.org."), []string{"a", "@"}, nil},
		{"NXDOMAIN for an existing name", nx("a.example.org."), []string{"a", "@"}, ErrNSECMissing},
		{"NXDOMAIN for an empty non-terminal", nx("c.example.org."), []string{"a", "@"}, ErrNSECMissing},
		{"NXDOMAIN when the wildcard exists", nx("q.w.example.org."), []string{"*.w"}, ErrNSECMissing},
		{"NXDOMAIN below a delegation (ancestor NSEC)", nx("www.d.example.org."), []string{"d", "@"}, ErrNSECMissing},
		{"NXDOMAIN outside the zone", nx("example.net."), []string{"x", "@"}, ErrNSECMissing},
		{"NODATA", nodata("a.example.org.", dns.TypeAAAA), []string{"a"}, nil},
		{"NODATA type present", nodata("a.example.org.", dns.TypeA), []string{"a"}, ErrNSECMissing},
		{"NODATA but CNAME", nodata("x.example.org.", dns.TypeA), []string{"x"}, ErrNSECMissing},
		{"NODATA empty non-terminal", nodata("c.example.org.", dns.TypeA), []string{"a"}, nil},
		{"NODATA not an empty non-terminal", nodata("zz.example.org.", dns.TypeA), []string{"x"}, ErrNSECMissing},
		{"NODATA DS at unsigned delegation", nodata("d.example.org.", dns.TypeDS), []string{"d"}, nil},
		{"NODATA DS at signed delegation", nodata("e.example.org.", dns.TypeDS), []string{"e"}, ErrNSECMissing},
		{"NODATA A from the parent side of a delegation", nodata("d.example.org.", dns.TypeA), []string{"d"}, ErrNSECMissing},
		{"NODATA DS from the child apex", nodata("example.org.", dns.TypeDS), []string{"@"}, ErrNSECMissing},
		{"NODATA without NSEC", nodata("a.example.org.", dns.TypeAAAA), nil, ErrNSECMissing},
		{"wildcard NODATA", wcNodata("q.w.example.org.", dns.TypeA), []string{"*.w"}, nil},
		{"wildcard NODATA type present", wcNodata("q.w.example.org.", dns.TypeTXT), []string{"*.w"}, ErrNSECMissing},
		{"wildcard NODATA no wildcard", wcNodata("nx.example.org.", dns.TypeA), []string{"e", "@"}, ErrNSECMissing},
		{"wildcard answer", wcAnswer("q.w.example.org.", "*.w.example.org."), []string{"*.w"}, nil},
		{"wildcard answer deeper qname", wcAnswer("p.q.w.example.org.", "*.w.example.org."), []string{"*.w"}, nil},
		{"wildcard answer without proof", wcAnswer("q.w.example.org.", "*.w.example.org."), []string{"a"}, ErrWildcardProofMissing},
		{"wildcard answer from too high a wildcard", wcAnswer("q.w.example.org.", "*.example.org."), []string{"*.w"}, ErrWildcardProofMissing},
		{"wildcard answer for an existing name", wcAnswer("a.example.org.", "*.example.org."), []string{"a"}, ErrWildcardProofMissing},
		{"insecure delegation", insecureDeleg("d.example.org."), []string{"d"}, nil},
		{"insecure delegation with DS", insecureDeleg("e.example.org."), []string{"e"}, ErrNSECMissing},
		{"insecure delegation not a delegation", insecureDeleg("a.example.org."), []string{"a"}, ErrNSECMissing},
		{"insecure delegation from the child apex", insecureDeleg("example.org."), []string{"@"}, ErrNSECMissing},
		{"insecure delegation without NSEC", insecureDeleg("d.example.org."), []string{"e"}, ErrNSECMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.proof(nsecs(t, tc.set...))
			checkErr(t, err, tc.want, Bogus, dns.ExtendedErrorCodeNSECMissing)
		})
	}
}

// TestNSECSingleRecordZone: a zone whose only name is the apex has one
// NSEC pointing at itself, which covers every other name.
func TestNSECSingleRecordZone(t *testing.T) {
	t.Parallel()
	set := []*dns.NSEC{rrs(t, "@ 300 IN NSEC example.org. NS SOA RRSIG NSEC\n")[0].(*dns.NSEC)}
	if err := ProveNXDOMAIN("www.example.org.", "example.org.", set); err != nil {
		t.Errorf("ProveNXDOMAIN: %v", err)
	}
	if err := ProveNODATA("example.org.", dns.TypeA, "example.org.", set); err != nil {
		t.Errorf("ProveNODATA: %v", err)
	}
}

func TestNameHelpers(t *testing.T) {
	t.Parallel()
	type result struct{ Parent, Ancestor2, Common, Wildcard string }
	tests := []struct {
		name, a, b string
		want       result
	}{
		{"deep", "a.b.Example.org.", "x.example.ORG.", result{"b.Example.org.", "Example.org.", "example.ORG.", "*.a.b.Example.org."}},
		{"tld", "org.", "net.", result{".", "org.", ".", "*.org."}},
		{"root", ".", ".", result{".", ".", ".", "*."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := result{parentName(tc.a), ancestorWithLabels(tc.a, 2), commonAncestor(tc.b, tc.a), wildcardOf(tc.a)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestNoDelegationAt: which names of nsecZone the NSEC chain proves are
// no zone cut (QNAME minimisation need not ask them).
func TestNoDelegationAt(t *testing.T) {
	t.Parallel()
	all := nsecs(t, "@", "a", "b.c", "d", "e", "*.w", "x")
	tests := []struct {
		name  string
		nsecs []*dns.NSEC
		want  bool
	}{
		{"c.example.org.", all, true},                   // empty non-terminal, covered by a's NSEC
		{"w.example.org.", all, true},                   // empty non-terminal above the wildcard
		{"a.example.org.", all, true},                   // owns an NSEC without the NS bit
		{"d.example.org.", all, false},                  // unsigned delegation
		{"e.example.org.", all, false},                  // signed delegation
		{"y.d.example.org.", all, false},                // below a delegation: the parent cannot say
		{"nope.example.org.", all, true},                // does not exist
		{"example.org.", all, false},                    // the apex itself
		{"www.example.net.", all, false},                // another zone
		{"c.example.org.", nsecs(t, "b.c", "d"), false}, // no NSEC covers it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NoDelegationAt(tt.name, "example.org.", tt.nsecs); got != tt.want {
				t.Errorf("NoDelegationAt(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}
