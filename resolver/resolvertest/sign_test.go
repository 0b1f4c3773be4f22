package resolvertest_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// signedNow is the pinned clock of the signed labs.
var signedNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Zones of the signed lab, all on 127.56.0.0/16: a signed root, org and
// example.org, an unsigned child unsigned.org and broken children of org
// hosted together on ns.kids.org.
const (
	signedRoot = `
$TTL 86400
@           SOA a.root.lab. hostmaster.root.lab. 1 1800 900 604800 3600
@           NS  a.root.lab.
a.root.lab. A   127.56.0.1
org.        NS  ns1.nic.org.
ns1.nic.org. A  127.56.1.1
`
	signedOrg = `
$TTL 86400
@             SOA ns1.nic.org. hostmaster.nic.org. 1 1800 900 604800 3600
@             NS  ns1.nic.org.
ns1.nic       A   127.56.1.1
example       NS  ns1.example
ns1.example   A   127.56.2.1
unsigned      NS  ns1.unsigned
ns1.unsigned  A   127.56.3.1
ns.kids       A   127.56.4.1
`
	// leafZone is the text of a leaf zone; %s is its name server's address.
	leafZone = `
$TTL 3600
@        SOA  ns1 hostmaster 1 7200 3600 1209600 300
@        NS   ns1
ns1      A    %s
www      A    192.0.2.10
www      AAAA 2001:db8::10
*.wild   A    192.0.2.20
a.b.ent  A    192.0.2.30
alias    CNAME www
`
)

// brokenZones maps each broken child of org. to how it is broken.
var brokenZones = map[string]resolvertest.Breakage{
	"expired.org.":       resolvertest.BreakExpired,
	"not-yet-valid.org.": resolvertest.BreakNotYetValid,
	"wrong-ds.org.":      resolvertest.BreakWrongDS,
	"missing-sig.org.":   resolvertest.BreakMissingRRSIG,
	"bad-sig.org.":       resolvertest.BreakBadSignature,
	"no-nsec.org.":       resolvertest.BreakMissingNSEC,
}

// newSignedLab builds and starts the signed lab; root, org and example.org
// are signed with opts.
func newSignedLab(t *testing.T, opts resolvertest.SignOptions) *resolvertest.Lab {
	t.Helper()
	h := resolvertest.Hierarchy{
		Zones: map[string]string{
			".":             signedRoot,
			"example.org.":  fmt.Sprintf(leafZone, "127.56.2.1"),
			"unsigned.org.": fmt.Sprintf(leafZone, "127.56.3.1"),
		},
		Signed: map[string]resolvertest.SignOptions{".": opts, "org.": opts, "example.org.": opts},
		Servers: []resolvertest.Host{
			{Name: "a.root.lab.", Addr: "127.56.0.1", Zones: []string{"."}},
			{Name: "ns1.nic.org.", Addr: "127.56.1.1", Zones: []string{"org."}},
			{Name: "ns1.example.org.", Addr: "127.56.2.1", Zones: []string{"example.org."}},
			{Name: "ns1.unsigned.org.", Addr: "127.56.3.1", Zones: []string{"unsigned.org."}},
		},
	}
	org := signedOrg
	var kids []string
	for origin, how := range brokenZones {
		org += fmt.Sprintf("%s NS ns.kids.org.\n", origin)
		kids = append(kids, origin)
		h.Zones[origin] = fmt.Sprintf(leafZone, "127.56.4.1")
		h.Signed[origin] = resolvertest.SignOptions{Break: how}
	}
	h.Zones["org."] = org
	h.Servers = append(h.Servers, resolvertest.Host{Name: "ns.kids.org.", Addr: "127.56.4.1", Zones: kids})
	return h.Start(t, resolvertest.Config{Now: func() time.Time { return signedNow }})
}

// ask sends a query with DO=1 (or without EDNS when do is false) to a
// server of lab over TCP, so that answers are never truncated.
func ask(t *testing.T, lab *resolvertest.Lab, server, qname string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(qname, qtype)
	q.RecursionDesired = false
	if do {
		q.SetEdns0(4096, true)
	}
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(q, lab.Server(server).AddrPort().String())
	if err != nil {
		t.Fatalf("%s/%s at %s: %v", qname, dns.TypeToString[qtype], server, err)
	}
	return r
}

// section splits records into the RRset of owner/type and the RRSIGs
// covering it.
func rrsetOf(rrs []dns.RR, owner string, t uint16) (set []dns.RR, sigs []*dns.RRSIG) {
	for _, rr := range rrs {
		h := rr.Header()
		if !dns.IsSubDomain(owner, h.Name) || !dns.IsSubDomain(h.Name, owner) {
			continue
		}
		if h.Rrtype == t {
			set = append(set, rr)
		}
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == t {
			sigs = append(sigs, sig)
		}
	}
	return set, sigs
}

// zoneKeys fetches and validates the DNSKEY RRset of zone with its DS from
// lab (the DS of the KSK as lab.DNSKEYs reports it).
func zoneKeys(t *testing.T, lab *resolvertest.Lab, server, zone string) []*dns.DNSKEY {
	t.Helper()
	r := ask(t, lab, server, zone, dns.TypeDNSKEY, true)
	set, sigs := rrsetOf(r.Answer, zone, dns.TypeDNSKEY)
	var keys []*dns.DNSKEY
	for _, rr := range set {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	ds := []*dns.DS{lab.DNSKEYs(zone)[0].ToDS(dns.SHA256)}
	if _, err := dnssec.VerifyDNSKEY(keys, sigs, ds, nil, signedNow, nil); err != nil {
		t.Fatalf("DNSKEY %s: %v", zone, err)
	}
	return keys
}

// verifiedDenials verifies every NSEC and NSEC3 record in rrs with keys
// and returns them.
func verifiedDenials(t *testing.T, rrs []dns.RR, keys []*dns.DNSKEY) ([]*dns.NSEC, []*dns.NSEC3) {
	t.Helper()
	var nsecs []*dns.NSEC
	var nsec3s []*dns.NSEC3
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.NSEC:
			nsecs = append(nsecs, v)
		case *dns.NSEC3:
			nsec3s = append(nsec3s, v)
		default:
			continue
		}
		set, sigs := rrsetOf(rrs, rr.Header().Name, rr.Header().Rrtype)
		if _, err := dnssec.VerifyRRset(set, sigs, keys, signedNow, nil); err != nil {
			t.Errorf("%s: %v", rr, err)
		}
	}
	return nsecs, nsec3s
}

// verifySet verifies the RRset owner/t in rrs and returns the signature.
func verifySet(t *testing.T, rrs []dns.RR, owner string, typ uint16, keys []*dns.DNSKEY) *dns.RRSIG {
	t.Helper()
	set, sigs := rrsetOf(rrs, owner, typ)
	sig, err := dnssec.VerifyRRset(set, sigs, keys, signedNow, nil)
	if err != nil {
		t.Fatalf("%s/%s: %v", owner, dns.TypeToString[typ], err)
	}
	return sig
}

func TestSignedZones(t *testing.T) {
	variants := []struct {
		name string
		opts resolvertest.SignOptions
	}{
		{"nsec", resolvertest.SignOptions{}},
		{"nsec3", resolvertest.SignOptions{NSEC3: true, Algorithm: dns.ED25519}},
		{"nsec3-optout", resolvertest.SignOptions{NSEC3: true, OptOut: true}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			checkSignedLab(t, newSignedLab(t, v.opts), v.opts)
		})
	}
}

// prover is the NSEC or NSEC3 variant of each denial proof.
type prover struct {
	nxdomain     func(qname, zone string) error
	nodata       func(qname string, qtype uint16, zone string) error
	wildAnswer   func(qname, wildcard, zone string) error
	wildNODATA   func(qname string, qtype uint16, zone string) error
	insecureDele func(child, zone string) error
}

func proverFor(nsec3 bool, nsecs []*dns.NSEC, nsec3s []*dns.NSEC3) prover {
	if nsec3 {
		return prover{
			nxdomain:     func(q, z string) error { return dnssec.ProveNSEC3NXDOMAIN(q, z, nsec3s) },
			nodata:       func(q string, qt uint16, z string) error { return dnssec.ProveNSEC3NODATA(q, qt, z, nsec3s) },
			wildAnswer:   func(q, w, z string) error { return dnssec.ProveNSEC3WildcardAnswer(q, w, z, nsec3s) },
			wildNODATA:   func(q string, qt uint16, z string) error { return dnssec.ProveNSEC3WildcardNODATA(q, qt, z, nsec3s) },
			insecureDele: func(c, z string) error { return dnssec.ProveNSEC3InsecureDelegation(c, z, nsec3s) },
		}
	}
	return prover{
		nxdomain:     func(q, z string) error { return dnssec.ProveNXDOMAIN(q, z, nsecs) },
		nodata:       func(q string, qt uint16, z string) error { return dnssec.ProveNODATA(q, qt, z, nsecs) },
		wildAnswer:   func(q, w, z string) error { return dnssec.ProveWildcardAnswer(q, w, z, nsecs) },
		wildNODATA:   func(q string, qt uint16, z string) error { return dnssec.ProveWildcardNODATA(q, qt, z, nsecs) },
		insecureDele: func(c, z string) error { return dnssec.ProveInsecureDelegation(c, z, nsecs) },
	}
}

func checkSignedLab(t *testing.T, lab *resolvertest.Lab, opts resolvertest.SignOptions) {
	// proved accepts a proof, or, in an opt-out zone, an opt-out span
	// (RFC 5155 section 9.2: then the answer is Insecure).
	proved := func(err error) bool {
		return err == nil || opts.OptOut && errors.Is(err, dnssec.ErrOptOut)
	}
	anchors, err := dnssec.ParseAnchors(lab.TrustAnchor())
	if err != nil {
		t.Fatalf("TrustAnchor %q: %v", lab.TrustAnchor(), err)
	}
	if z := anchors.Zones(); len(z) != 1 || z[0] != "." {
		t.Fatalf("trust anchor zones %v, want [.]", z)
	}
	rootDS, _ := anchors.Lookup(".")
	r := ask(t, lab, "a.root.lab.", ".", dns.TypeDNSKEY, true)
	set, sigs := rrsetOf(r.Answer, ".", dns.TypeDNSKEY)
	var rootKeys []*dns.DNSKEY
	for _, rr := range set {
		rootKeys = append(rootKeys, rr.(*dns.DNSKEY))
	}
	if _, err := dnssec.VerifyDNSKEY(rootKeys, sigs, rootDS, nil, signedNow, nil); err != nil {
		t.Fatalf("root DNSKEY with the trust anchor: %v", err)
	}
	orgKeys := zoneKeys(t, lab, "ns1.nic.org.", "org.")
	exKeys := zoneKeys(t, lab, "ns1.example.org.", "example.org.")
	const ex = "ns1.example.org."

	t.Run("referral with DS", func(t *testing.T) {
		r := ask(t, lab, "a.root.lab.", "www.example.org.", dns.TypeA, true)
		verifySet(t, r.Ns, "org.", dns.TypeDS, rootKeys)
		r = ask(t, lab, "ns1.nic.org.", "www.example.org.", dns.TypeA, true)
		verifySet(t, r.Ns, "example.org.", dns.TypeDS, orgKeys)
		ds, _ := rrsetOf(r.Ns, "example.org.", dns.TypeDS)
		if !dsMatchesKey(ds, exKeys) {
			t.Errorf("DS %v matches no key of example.org", ds)
		}
	})
	t.Run("DS query at the parent", func(t *testing.T) {
		r := ask(t, lab, "ns1.nic.org.", "example.org.", dns.TypeDS, true)
		if !r.Authoritative {
			t.Error("DS answer without AA")
		}
		verifySet(t, r.Answer, "example.org.", dns.TypeDS, orgKeys)
	})
	t.Run("insecure referral", func(t *testing.T) {
		r := ask(t, lab, "ns1.nic.org.", "www.unsigned.org.", dns.TypeA, true)
		if ds, _ := rrsetOf(r.Ns, "unsigned.org.", dns.TypeDS); len(ds) > 0 {
			t.Fatalf("DS for an unsigned child: %v", ds)
		}
		nsecs, nsec3s := verifiedDenials(t, r.Ns, orgKeys)
		err := proverFor(opts.NSEC3, nsecs, nsec3s).insecureDele("unsigned.org.", "org.")
		if opts.OptOut {
			if dnssec.StatusOf(err) != dnssec.Insecure {
				t.Errorf("opt-out proof: %v, want Insecure", err)
			}
		} else if err != nil {
			t.Errorf("no-DS proof: %v\n%v", err, r)
		}
	})
	t.Run("positive", func(t *testing.T) {
		r := ask(t, lab, ex, "www.example.org.", dns.TypeA, true)
		verifySet(t, r.Answer, "www.example.org.", dns.TypeA, exKeys)
		if !r.IsEdns0().Do() {
			t.Error("DO not echoed")
		}
	})
	t.Run("cname", func(t *testing.T) {
		r := ask(t, lab, ex, "alias.example.org.", dns.TypeAAAA, true)
		verifySet(t, r.Answer, "alias.example.org.", dns.TypeCNAME, exKeys)
		verifySet(t, r.Answer, "www.example.org.", dns.TypeAAAA, exKeys)
	})
	t.Run("nxdomain", func(t *testing.T) {
		r := ask(t, lab, ex, "nope.example.org.", dns.TypeA, true)
		if r.Rcode != dns.RcodeNameError {
			t.Fatalf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		verifySet(t, r.Ns, "example.org.", dns.TypeSOA, exKeys)
		nsecs, nsec3s := verifiedDenials(t, r.Ns, exKeys)
		if err := proverFor(opts.NSEC3, nsecs, nsec3s).nxdomain("nope.example.org.", "example.org."); !proved(err) {
			t.Errorf("NXDOMAIN proof: %v\n%v", err, r)
		}
		r = ask(t, lab, ex, "x.y.ent.example.org.", dns.TypeA, true)
		nsecs, nsec3s = verifiedDenials(t, r.Ns, exKeys)
		if err := proverFor(opts.NSEC3, nsecs, nsec3s).nxdomain("x.y.ent.example.org.", "example.org."); !proved(err) {
			t.Errorf("NXDOMAIN proof below an ENT: %v\n%v", err, r)
		}
	})
	t.Run("nodata", func(t *testing.T) {
		for _, qname := range []string{"www.example.org.", "b.ent.example.org."} {
			r := ask(t, lab, ex, qname, dns.TypeMX, true)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
				t.Fatalf("%s: not NODATA: %v", qname, r)
			}
			nsecs, nsec3s := verifiedDenials(t, r.Ns, exKeys)
			if err := proverFor(opts.NSEC3, nsecs, nsec3s).nodata(qname, dns.TypeMX, "example.org."); err != nil {
				t.Errorf("%s NODATA proof: %v\n%v", qname, err, r)
			}
		}
	})
	t.Run("wildcard", func(t *testing.T) {
		r := ask(t, lab, ex, "Host.wild.example.org.", dns.TypeA, true)
		sig := verifySet(t, r.Answer, "host.wild.example.org.", dns.TypeA, exKeys)
		wc, ok := dnssec.WildcardExpansion(sig, "host.wild.example.org.")
		if !ok || wc != "*.wild.example.org." {
			t.Fatalf("WildcardExpansion = %q, %v", wc, ok)
		}
		nsecs, nsec3s := verifiedDenials(t, r.Ns, exKeys)
		if err := proverFor(opts.NSEC3, nsecs, nsec3s).wildAnswer("host.wild.example.org.", wc, "example.org."); !proved(err) {
			t.Errorf("wildcard answer proof: %v\n%v", err, r)
		}
	})
	t.Run("wildcard nodata", func(t *testing.T) {
		r := ask(t, lab, ex, "host.wild.example.org.", dns.TypeMX, true)
		nsecs, nsec3s := verifiedDenials(t, r.Ns, exKeys)
		if err := proverFor(opts.NSEC3, nsecs, nsec3s).wildNODATA("host.wild.example.org.", dns.TypeMX, "example.org."); !proved(err) {
			t.Errorf("wildcard NODATA proof: %v\n%v", err, r)
		}
	})
	t.Run("without DO", func(t *testing.T) {
		for _, q := range []struct {
			server, name string
			qtype        uint16
		}{
			{ex, "www.example.org.", dns.TypeA},
			{ex, "nope.example.org.", dns.TypeA},
			{ex, "host.wild.example.org.", dns.TypeA},
			{"ns1.nic.org.", "www.example.org.", dns.TypeA},
			{"ns1.nic.org.", "www.unsigned.org.", dns.TypeA},
		} {
			r := ask(t, lab, q.server, q.name, q.qtype, false)
			for _, rr := range append(append(append([]dns.RR(nil), r.Answer...), r.Ns...), r.Extra...) {
				switch rr.Header().Rrtype {
				case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeDS:
					t.Errorf("%s without DO: %v", q.name, rr)
				}
			}
		}
	})
}

// dsMatchesKey reports whether one of ds is the digest of one of keys.
func dsMatchesKey(ds []dns.RR, keys []*dns.DNSKEY) bool {
	for _, rr := range ds {
		d := rr.(*dns.DS)
		for _, k := range keys {
			if k.KeyTag() == d.KeyTag && k.ToDS(d.DigestType).Digest == d.Digest {
				return true
			}
		}
	}
	return false
}

func TestSignedTruncation(t *testing.T) {
	lab := newSignedLab(t, resolvertest.SignOptions{NSEC3: true})
	const qname = "x.y.ent.example.org."
	full := ask(t, lab, "ns1.example.org.", qname, dns.TypeA, true)
	full.Compress = true
	if full.Len() <= 512 {
		t.Fatalf("signed NXDOMAIN of %d octets fits 512", full.Len())
	}
	q := new(dns.Msg)
	q.SetQuestion(qname, dns.TypeA)
	q.SetEdns0(512, true)
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: 512}
	r, _, err := c.Exchange(q, lab.Server("ns1.example.org.").AddrPort().String())
	if err != nil {
		t.Fatal(err)
	}
	r.Compress = true
	if !r.Truncated || r.Len() > 512 {
		t.Errorf("UDP reply: TC=%v, %d octets; want TC and at most 512", r.Truncated, r.Len())
	}
}

func TestSignedAlgorithms(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP384SHA384, dns.ED25519, dns.RSASHA256} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			t.Parallel()
			lab := resolvertest.New(resolvertest.Config{Now: func() time.Time { return signedNow }})
			if err := lab.AddZone("example.org.", fmt.Sprintf(leafZone, "127.56.9.1")); err != nil {
				t.Fatal(err)
			}
			if err := lab.SignZone("example.org.", resolvertest.SignOptions{Algorithm: alg}); err != nil {
				t.Fatal(err)
			}
			if err := lab.AddServer("ns1.example.org.", netip.MustParseAddr("127.56.9.1"), "example.org."); err != nil {
				t.Fatal(err)
			}
			resolvertest.Start(t, lab)
			keys := zoneKeys(t, lab, "ns1.example.org.", "example.org.")
			if keys[0].Algorithm != alg {
				t.Errorf("algorithm %d, want %d", keys[0].Algorithm, alg)
			}
			r := ask(t, lab, "ns1.example.org.", "www.example.org.", dns.TypeAAAA, true)
			verifySet(t, r.Answer, "www.example.org.", dns.TypeAAAA, keys)
			// Without a signed parent, the zone is its own trust anchor.
			if _, err := dnssec.ParseAnchors(lab.TrustAnchor()); err != nil {
				t.Errorf("TrustAnchor: %v", err)
			}
		})
	}
}

func TestSignZoneErrors(t *testing.T) {
	lab := resolvertest.New(resolvertest.Config{})
	if err := lab.SignZone("example.org.", resolvertest.SignOptions{}); err == nil {
		t.Error("SignZone of a zone not added succeeded")
	}
	if err := lab.AddZone("example.org.", fmt.Sprintf(leafZone, "127.56.9.2")); err != nil {
		t.Fatal(err)
	}
	if err := lab.SignZone("example.org.", resolvertest.SignOptions{OptOut: true}); err == nil {
		t.Error("OptOut without NSEC3 accepted")
	}
	if err := lab.SignZone("example.org.", resolvertest.SignOptions{Algorithm: dns.RSAMD5}); err == nil {
		t.Error("RSAMD5 accepted")
	}
	if err := lab.SignZone("example.org.", resolvertest.SignOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := lab.SignZone("example.org.", resolvertest.SignOptions{}); err == nil {
		t.Error("signed twice")
	}
}

// TestBrokenZones checks each deliberate breakage with the pure
// validator, independently of any resolver.
func TestBrokenZones(t *testing.T) {
	lab := newSignedLab(t, resolvertest.SignOptions{})
	const kids = "ns.kids.org."
	orgKeys := zoneKeys(t, lab, "ns1.nic.org.", "org.")
	// keysOf returns the DNSKEY RRset of zone and its RRSIGs, unvalidated.
	keysOf := func(zone string) ([]*dns.DNSKEY, []*dns.RRSIG) {
		r := ask(t, lab, kids, zone, dns.TypeDNSKEY, true)
		set, sigs := rrsetOf(r.Answer, zone, dns.TypeDNSKEY)
		var keys []*dns.DNSKEY
		for _, rr := range set {
			keys = append(keys, rr.(*dns.DNSKEY))
		}
		return keys, sigs
	}
	// parentDS returns the validated DS RRset of zone from org.
	parentDS := func(zone string) []*dns.DS {
		r := ask(t, lab, "ns1.nic.org.", zone, dns.TypeDS, true)
		verifySet(t, r.Answer, zone, dns.TypeDS, orgKeys)
		var ds []*dns.DS
		for _, rr := range r.Answer {
			if d, ok := rr.(*dns.DS); ok {
				ds = append(ds, d)
			}
		}
		return ds
	}
	dnskeyErr := func(zone string) error {
		keys, sigs := keysOf(zone)
		_, err := dnssec.VerifyDNSKEY(keys, sigs, parentDS(zone), nil, signedNow, nil)
		return err
	}
	wwwErr := func(zone string) error {
		keys, sigs := keysOf(zone)
		if _, err := dnssec.VerifyDNSKEY(keys, sigs, parentDS(zone), nil, signedNow, nil); err != nil {
			t.Fatalf("DNSKEY %s: %v", zone, err)
		}
		r := ask(t, lab, kids, "www."+zone, dns.TypeA, true)
		set, sigs2 := rrsetOf(r.Answer, "www."+zone, dns.TypeA)
		_, err := dnssec.VerifyRRset(set, sigs2, keys, signedNow, nil)
		return err
	}
	tests := []struct {
		zone string
		err  func(string) error
		want error
	}{
		{"expired.org.", dnskeyErr, dnssec.ErrSignatureExpired},
		{"not-yet-valid.org.", dnskeyErr, dnssec.ErrSignatureNotYetValid},
		{"wrong-ds.org.", dnskeyErr, dnssec.ErrDNSKEYMissing},
		{"missing-sig.org.", wwwErr, dnssec.ErrRRSIGsMissing},
		{"bad-sig.org.", wwwErr, dnssec.ErrInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.zone, func(t *testing.T) {
			if err := tc.err(tc.zone); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("no-nsec.org.", func(t *testing.T) {
		if err := wwwErr("no-nsec.org."); err != nil {
			t.Fatalf("positive answer: %v", err)
		}
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{"nope.no-nsec.org.", dns.TypeA}, {"www.no-nsec.org.", dns.TypeMX}, {"x.wild.no-nsec.org.", dns.TypeA}} {
			r := ask(t, lab, kids, q.name, q.qtype, true)
			for _, rr := range r.Ns {
				if rr.Header().Rrtype == dns.TypeNSEC {
					t.Errorf("%s/%s: %v", q.name, dns.TypeToString[q.qtype], rr)
				}
			}
		}
	})
}

// TestBreakNames breaks only the RRsets of the names given.
func TestBreakNames(t *testing.T) {
	lab := resolvertest.New(resolvertest.Config{Now: func() time.Time { return signedNow }})
	if err := lab.AddZone("example.org.", fmt.Sprintf(leafZone, "127.56.9.3")); err != nil {
		t.Fatal(err)
	}
	opts := resolvertest.SignOptions{Break: resolvertest.BreakMissingRRSIG, BreakNames: []string{"www"}}
	if err := lab.SignZone("example.org.", opts); err != nil {
		t.Fatal(err)
	}
	if err := lab.AddServer("ns1.example.org.", netip.MustParseAddr("127.56.9.3"), "example.org."); err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	keys := zoneKeys(t, lab, "ns1.example.org.", "example.org.")
	r := ask(t, lab, "ns1.example.org.", "www.example.org.", dns.TypeA, true)
	if _, sigs := rrsetOf(r.Answer, "www.example.org.", dns.TypeA); len(sigs) != 0 {
		t.Errorf("www has RRSIGs: %v", sigs)
	}
	r = ask(t, lab, "ns1.example.org.", "ns1.example.org.", dns.TypeA, true)
	verifySet(t, r.Answer, "ns1.example.org.", dns.TypeA, keys)
}

// TestSignedDNAMEAndANY checks the RRSIGs of a DNAME (the synthesized
// CNAME has none) and of every RRset of an ANY answer.
func TestSignedDNAMEAndANY(t *testing.T) {
	lab := resolvertest.New(resolvertest.Config{Now: func() time.Time { return signedNow }})
	text := fmt.Sprintf(leafZone, "127.56.9.4") + "old DNAME example.net.\n"
	if err := lab.AddZone("example.org.", text); err != nil {
		t.Fatal(err)
	}
	if err := lab.SignZone("example.org.", resolvertest.SignOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := lab.AddServer("ns1.example.org.", netip.MustParseAddr("127.56.9.4"), "example.org."); err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	keys := zoneKeys(t, lab, "ns1.example.org.", "example.org.")
	r := ask(t, lab, "ns1.example.org.", "a.old.example.org.", dns.TypeA, true)
	verifySet(t, r.Answer, "old.example.org.", dns.TypeDNAME, keys)
	if _, sigs := rrsetOf(r.Answer, "a.old.example.org.", dns.TypeCNAME); len(sigs) != 0 {
		t.Errorf("synthesized CNAME signed: %v", sigs)
	}
	r = ask(t, lab, "ns1.example.org.", "www.example.org.", dns.TypeANY, true)
	verifySet(t, r.Answer, "www.example.org.", dns.TypeA, keys)
	verifySet(t, r.Answer, "www.example.org.", dns.TypeAAAA, keys)
}
