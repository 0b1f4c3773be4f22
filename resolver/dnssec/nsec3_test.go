package dnssec

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// nsec3Name is a name of a test zone and its types.
type nsec3Name struct {
	name  string
	types []uint16
}

// nsec3Zone is example.org with the same names as nsecZone; c and w are
// empty non-terminals, which NSEC3 lists with an empty bitmap.
func nsec3Zone(withUnsignedDelegation bool) []nsec3Name {
	names := []nsec3Name{
		{"example.org.", []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeDNSKEY, dns.TypeNSEC3PARAM}},
		{"a.example.org.", []uint16{dns.TypeA, dns.TypeRRSIG}},
		{"c.example.org.", nil},
		{"b.c.example.org.", []uint16{dns.TypeA, dns.TypeRRSIG}},
		{"e.example.org.", []uint16{dns.TypeNS, dns.TypeDS, dns.TypeRRSIG}},
		{"w.example.org.", nil},
		{"*.w.example.org.", []uint16{dns.TypeTXT, dns.TypeRRSIG}},
		{"x.example.org.", []uint16{dns.TypeCNAME, dns.TypeRRSIG}},
	}
	if withUnsignedDelegation {
		names = append(names, nsec3Name{"d.example.org.", []uint16{dns.TypeNS}})
	}
	return names
}

// nsec3Chain hashes the names and links them into an NSEC3 chain.
type nsec3Chain []*dns.NSEC3

func buildNSEC3(t testing.TB, zone string, names []nsec3Name, iter uint16, salt string, optOut bool) nsec3Chain {
	t.Helper()
	type entry struct {
		hash  string
		types []uint16
	}
	var es []entry
	for _, n := range names {
		es = append(es, entry{dns.HashName(n.name, dns.SHA1, iter, salt), slices.Sorted(slices.Values(n.types))})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.hash, b.hash) })
	var flags uint8
	if optOut {
		flags = nsec3FlagOptOut
	}
	var chain nsec3Chain
	for i, e := range es {
		chain = append(chain, &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: strings.ToLower(e.hash) + "." + zone, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 300},
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: iter,
			SaltLength: uint8(len(salt) / 2),
			Salt:       salt,
			HashLength: 20,
			NextDomain: es[(i+1)%len(es)].hash,
			TypeBitMap: e.types,
		})
	}
	return chain
}

// without returns the chain minus the records that match or cover name.
func (c nsec3Chain) without(t testing.TB, zone string, name string) nsec3Chain {
	t.Helper()
	s, f := newNSEC3Set(zone, c)
	if f != nil {
		t.Fatal(f)
	}
	m, _ := s.match(name)
	cv, _ := s.cover(name)
	out := slices.DeleteFunc(slices.Clone(c), func(n *dns.NSEC3) bool { return n == m || n == cv })
	if len(out) == len(c) {
		t.Fatalf("nothing matches or covers %s", name)
	}
	return out
}

func TestNSEC3Hash(t *testing.T) {
	t.Parallel()
	// RFC 5155 Appendix A: salt aabbccdd, 12 iterations.
	tests := []struct{ name, want string }{
		{"example.", "0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM"},
		{"a.EXAMPLE.", "35MTHGPGCU1QG68FAB165KLNSNK3DPVL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, NSEC3Hash(tc.name, dns.SHA1, 12, "aabbccdd")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if NSEC3Hash("example.", 2, 0, "") != "" || NSEC3Hash("example.", dns.SHA1, MaxNSEC3Iterations+1, "") != "" {
		t.Error("unsupported parameters must give an empty hash")
	}
}

func TestNSEC3Proofs(t *testing.T) {
	t.Parallel()
	const zone = "example.org."
	params := []struct {
		name string
		iter uint16
		salt string
	}{
		{"no salt 0 iterations", 0, ""},
		{"salt 12 iterations", 12, "AABBCCDD"},
	}
	type proof func(set []*dns.NSEC3) error
	nx := func(q string) proof { return func(s []*dns.NSEC3) error { return ProveNSEC3NXDOMAIN(q, zone, s) } }
	nodata := func(q string, qt uint16) proof {
		return func(s []*dns.NSEC3) error { return ProveNSEC3NODATA(q, qt, zone, s) }
	}
	wcNodata := func(q string, qt uint16) proof {
		return func(s []*dns.NSEC3) error { return ProveNSEC3WildcardNODATA(q, qt, zone, s) }
	}
	wcAnswer := func(q, wc string) proof {
		return func(s []*dns.NSEC3) error { return ProveNSEC3WildcardAnswer(q, wc, zone, s) }
	}
	deleg := func(child string) proof {
		return func(s []*dns.NSEC3) error { return ProveNSEC3InsecureDelegation(child, zone, s) }
	}
	for _, p := range params {
		full := buildNSEC3(t, zone, nsec3Zone(true), p.iter, p.salt, false)
		optOut := buildNSEC3(t, zone, nsec3Zone(false), p.iter, p.salt, true)
		noOptOut := buildNSEC3(t, zone, nsec3Zone(false), p.iter, p.salt, false)
		tests := []struct {
			name       string
			bogus      bool // the proof must fail: Bogus, NSEC Missing
			proof      proof
			set        nsec3Chain
			want       error
			wantStatus Status
			wantEDE    uint16
		}{
			{name: "NXDOMAIN", proof: nx("nx.example.org."), set: full},
			{name: "NXDOMAIN deep", proof: nx("p.q.nx.example.org."), set: full},
			{name: "NXDOMAIN without next closer cover", bogus: true, proof: nx("nx.example.org."), set: full.without(t, zone, "nx.example.org.")},
			{name: "NXDOMAIN without wildcard cover", bogus: true, proof: nx("nx.example.org."), set: full.without(t, zone, "*.example.org.")},
			{name: "NXDOMAIN without closest encloser", bogus: true, proof: nx("nx.example.org."), set: full.without(t, zone, "example.org.")},
			{name: "NXDOMAIN for an existing name", bogus: true, proof: nx("a.example.org."), set: full},
			{name: "NXDOMAIN for an empty non-terminal", bogus: true, proof: nx("c.example.org."), set: full},
			{name: "NXDOMAIN when the wildcard exists", bogus: true, proof: nx("q.w.example.org."), set: full},
			{name: "NXDOMAIN below a delegation", bogus: true, proof: nx("www.d.example.org."), set: full},
			{name: "NODATA", proof: nodata("a.example.org.", dns.TypeAAAA), set: full},
			{name: "NODATA type present", bogus: true, proof: nodata("a.example.org.", dns.TypeA), set: full},
			{name: "NODATA but CNAME", bogus: true, proof: nodata("x.example.org.", dns.TypeA), set: full},
			{name: "NODATA empty non-terminal", proof: nodata("c.example.org.", dns.TypeA), set: full},
			{name: "NODATA nonexistent name", bogus: true, proof: nodata("nx.example.org.", dns.TypeA), set: full},
			{name: "NODATA DS unsigned delegation", proof: nodata("d.example.org.", dns.TypeDS), set: full},
			{name: "NODATA DS signed delegation", bogus: true, proof: nodata("e.example.org.", dns.TypeDS), set: full},
			{name: "NODATA A at the parent side of a delegation", bogus: true, proof: nodata("d.example.org.", dns.TypeA), set: full},
			{name: "NODATA DS from the child apex", bogus: true, proof: nodata("example.org.", dns.TypeDS), set: full},
			{name: "NODATA DS opt-out", proof: nodata("d.example.org.", dns.TypeDS), set: optOut,
				want: ErrOptOut, wantStatus: Insecure, wantEDE: NoEDE},
			{name: "NODATA DS no opt-out", bogus: true, proof: nodata("d.example.org.", dns.TypeDS), set: noOptOut},
			{name: "wildcard NODATA", proof: wcNodata("q.w.example.org.", dns.TypeA), set: full},
			{name: "wildcard NODATA type present", bogus: true, proof: wcNodata("q.w.example.org.", dns.TypeTXT), set: full},
			{name: "wildcard NODATA without next closer cover", bogus: true, proof: wcNodata("q.w.example.org.", dns.TypeA),
				set: full.without(t, zone, "q.w.example.org.")},
			{name: "wildcard answer", proof: wcAnswer("q.w.example.org.", "*.w.example.org."), set: full},
			{name: "wildcard answer without next closer cover", bogus: true, proof: wcAnswer("q.w.example.org.", "*.w.example.org."),
				set: full.without(t, zone, "q.w.example.org.")},
			{name: "wildcard answer not below the wildcard", bogus: true, proof: wcAnswer("a.example.org.", "*.w.example.org."), set: full},
			{name: "insecure delegation", proof: deleg("d.example.org."), set: full},
			{name: "insecure delegation with DS", bogus: true, proof: deleg("e.example.org."), set: full},
			{name: "insecure delegation not a delegation", bogus: true, proof: deleg("a.example.org."), set: full},
			{name: "insecure delegation opt-out", proof: deleg("d.example.org."), set: optOut,
				want: ErrOptOut, wantStatus: Insecure, wantEDE: NoEDE},
			{name: "insecure delegation without opt-out", bogus: true, proof: deleg("d.example.org."), set: noOptOut},
			{name: "NXDOMAIN in an opt-out span", proof: nx("nx.example.org."), set: optOut,
				want: ErrOptOut, wantStatus: Insecure, wantEDE: NoEDE},
			{name: "wildcard NODATA in an opt-out span", proof: wcNodata("q.w.example.org.", dns.TypeA), set: optOut,
				want: ErrOptOut, wantStatus: Insecure, wantEDE: NoEDE},
			{name: "wildcard answer in an opt-out span", proof: wcAnswer("q.w.example.org.", "*.w.example.org."), set: optOut,
				want: ErrOptOut, wantStatus: Insecure, wantEDE: NoEDE},
		}
		for _, tc := range tests {
			if tc.bogus {
				tc.want, tc.wantStatus, tc.wantEDE = ErrNSECMissing, Bogus, dns.ExtendedErrorCodeNSECMissing
				if strings.HasPrefix(tc.name, "wildcard answer") {
					tc.want = ErrWildcardProofMissing
				}
			}
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				checkErr(t, tc.proof(tc.set), tc.want, tc.wantStatus, tc.wantEDE)
			})
		}
	}
}

func TestNSEC3Parameters(t *testing.T) {
	t.Parallel()
	const zone = "example.org."
	tests := []struct {
		name       string
		chain      func() nsec3Chain
		want       error
		wantStatus Status
		wantEDE    uint16
	}{{
		name:  "150 iterations validate",
		chain: func() nsec3Chain { return buildNSEC3(t, zone, nsec3Zone(true), MaxNSEC3Iterations, "ab", false) },
	}, {
		name:  "151 iterations are insecure",
		chain: func() nsec3Chain { return buildNSEC3(t, zone, nsec3Zone(true), MaxNSEC3Iterations+1, "ab", false) },
		want:  ErrNSEC3Iterations, wantStatus: Insecure, wantEDE: dns.ExtendedErrorCodeUnsupportedNSEC3IterValue,
	}, {
		name: "unknown hash algorithm is insecure",
		chain: func() nsec3Chain {
			c := buildNSEC3(t, zone, nsec3Zone(true), 0, "", false)
			for _, n := range c {
				n.Hash = 2
			}
			return c
		},
		want: ErrUnsupportedNSEC3Hash, wantStatus: Insecure, wantEDE: NoEDE,
	}, {
		name: "unknown flags are ignored",
		chain: func() nsec3Chain {
			c := buildNSEC3(t, zone, nsec3Zone(true), 0, "", false)
			for _, n := range c {
				n.Flags = 0x80
			}
			return c
		},
		want: ErrNSECMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeNSECMissing,
	}, {
		name:  "NSEC3 of another zone",
		chain: func() nsec3Chain { return buildNSEC3(t, "example.net.", nsec3Zone(true), 0, "", false) },
		want:  ErrNSECMissing, wantStatus: Bogus, wantEDE: dns.ExtendedErrorCodeNSECMissing,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ProveNSEC3NXDOMAIN("nx.example.org.", zone, tc.chain())
			checkErr(t, err, tc.want, tc.wantStatus, tc.wantEDE)
		})
	}
}

// TestNSEC3HashLimit: a query name with many labels below the zone cannot
// make the closest encloser search hash without bound (CVE-2023-50868).
func TestNSEC3HashLimit(t *testing.T) {
	t.Parallel()
	const zone = "example.org."
	chain := buildNSEC3(t, zone, nsec3Zone(true), 10, "ab", false)
	qname := strings.Repeat("a.", maxNSEC3Hashes+5) + zone
	err := ProveNSEC3NXDOMAIN(qname, zone, chain)
	checkErr(t, err, ErrBudgetExceeded, Bogus, dns.ExtendedErrorCodeDNSBogus)
	// A name with a few labels fewer than the limit still validates.
	qname = strings.Repeat("q.", maxNSEC3Hashes-4) + "nx." + zone
	if err := ProveNSEC3NXDOMAIN(qname, zone, chain); err != nil {
		t.Errorf("ProveNSEC3NXDOMAIN(%d labels): %v", dns.CountLabel(qname), err)
	}
}

func TestAggressiveWildcardNSEC3(t *testing.T) {
	t.Parallel()
	const zone = "example.org."
	full := buildNSEC3(t, zone, nsec3Zone(true), 0, "", false)
	optOut := buildNSEC3(t, zone, nsec3Zone(false), 0, "", true)
	s, f := newNSEC3Set(zone, full)
	if f != nil {
		t.Fatal(f)
	}
	only := func(names ...string) nsec3Chain {
		var out nsec3Chain
		for _, n := range names {
			c, _ := s.cover(n)
			if c == nil {
				c, _ = s.match(n)
			}
			if c == nil {
				t.Fatalf("no NSEC3 matches or covers %s", n)
			}
			out = append(out, c)
		}
		return out
	}
	tests := []struct {
		name   string
		qname  string
		set    nsec3Chain
		wantWC string // "" when nothing may be synthesised
	}{
		{name: "whole chain", qname: "q.w.example.org.", set: full, wantWC: "*.w.example.org."},
		{name: "apex as closest encloser with only the next closer cover", qname: "nx.example.org.", set: only("nx.example.org."), wantWC: "*.example.org."},
		{name: "deep name under the apex", qname: "p.q.nx.example.org.", set: only("nx.example.org."), wantWC: "*.example.org."},
		{name: "closest encloser not known to exist", qname: "q.w.example.org.", set: only("q.w.example.org.")},
		{name: "closest encloser known", qname: "q.w.example.org.", set: only("q.w.example.org.", "w.example.org."), wantWC: "*.w.example.org."},
		{name: "existing name", qname: "a.example.org.", set: full},
		{name: "below a delegation", qname: "www.d.example.org.", set: full},
		{name: "opt-out span", qname: "nx.example.org.", set: optOut},
		{name: "the apex itself", qname: "example.org.", set: full},
		{name: "outside the zone", qname: "nx.example.net.", set: full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wc, proof, ok := AggressiveWildcardNSEC3(tc.qname, zone, tc.set)
			if diff := cmp.Diff(tc.wantWC, wc); diff != "" {
				t.Errorf("wildcard (-want +got):\n%s", diff)
			}
			if ok != (tc.wantWC != "") || (ok && len(proof) != 1) {
				t.Errorf("ok = %v with %d proof records", ok, len(proof))
			}
			if ok {
				if err := ProveNSEC3WildcardAnswer(tc.qname, tc.wantWC, zone, proof); err != nil {
					t.Errorf("the proof does not validate a wildcard answer: %v", err)
				}
			}
		})
	}
}
