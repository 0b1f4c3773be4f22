package dnssec

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// signedMessage builds a response holding a signed A RRset, the DNSKEY
// RRset, its DS and NSEC/NSEC3 records: the seed for FuzzVerifyMessage.
func signedMessage(tb testing.TB, alg algCase) []byte {
	tb.Helper()
	k := newKey(tb, "example.org.", alg.alg, alg.bits, dns.ZONE|dns.SEP, "")
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	a := rrs(tb, "www 300 IN A 192.0.2.1\n")
	m.Answer = append(a, k.sign(tb, a, nil))
	keys := keysRRset(k.key)
	m.Answer = append(m.Answer, k.key, k.sign(tb, keys, nil), k.key.ToDS(dns.SHA256))
	m.Ns = append(m.Ns, rrs(tb, nsecZone)...)
	for _, n := range buildNSEC3(tb, "example.org.", nsec3Zone(true), 1, "ab", true) {
		m.Ns = append(m.Ns, n)
	}
	wire, err := m.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	return wire
}

// checkFailure asserts the contract of every error of the package.
func checkFailure(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var f *Failure
	if !errors.As(err, &f) || f.Err == nil || StatusOf(err) == Secure || !strings.HasPrefix(err.Error(), "dnssec: ") {
		t.Fatalf("error %v (%T) breaks the Failure contract", err, err)
	}
}

// FuzzVerifyMessage feeds every RRset, key, DS and denial record of a
// network message to the validation functions: they must not panic, must
// stay within the budget and must return well-formed failures.
func FuzzVerifyMessage(f *testing.F) {
	f.Add(signedMessage(f, algCase{"ED25519", dns.ED25519, 256}))
	// No DSA seed: every fuzz worker would regenerate DSA parameters
	// (seconds each), stalling the run; the DSA path is covered by tests.
	f.Add(signedMessage(f, algCase{"ECDSAP256SHA256", dns.ECDSAP256SHA256, 256}))
	f.Fuzz(func(t *testing.T, wire []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil || len(m.Question) == 0 {
			return
		}
		q := m.Question[0]
		type key struct {
			name  string
			typ   uint16
			class uint16
		}
		sets := map[key][]dns.RR{}
		sigs := map[key][]*dns.RRSIG{}
		var keys []*dns.DNSKEY
		var ds []*dns.DS
		var nsecs []*dns.NSEC
		var nsec3s []*dns.NSEC3
		for _, rr := range append(append([]dns.RR{}, m.Answer...), m.Ns...) {
			h := rr.Header()
			switch x := rr.(type) {
			case *dns.RRSIG:
				k := key{dns.CanonicalName(h.Name), x.TypeCovered, h.Class}
				sigs[k] = append(sigs[k], x)
				continue
			case *dns.DNSKEY:
				keys = append(keys, x)
			case *dns.DS:
				ds = append(ds, x)
			case *dns.NSEC:
				nsecs = append(nsecs, x)
			case *dns.NSEC3:
				nsec3s = append(nsec3s, x)
			}
			k := key{dns.CanonicalName(h.Name), h.Rrtype, h.Class}
			sets[k] = append(sets[k], rr)
		}
		b := NewBudget(Limits{MaxVerificationsPerRequest: 16})
		for k, set := range sets {
			if !dns.IsRRset(set) {
				continue
			}
			sig, err := VerifyRRset(set, sigs[k], keys, testNow, b)
			checkFailure(t, err)
			if err == nil {
				WildcardExpansion(sig, set[0].Header().Name)
				ValidatedTTL(set, sig, testNow)
			}
		}
		if len(keys) > 0 && dns.IsRRset(keysRRset(keys...)) {
			k := key{dns.CanonicalName(keys[0].Hdr.Name), dns.TypeDNSKEY, keys[0].Hdr.Class}
			_, err := VerifyDNSKEY(keys, sigs[k], ds, keys, testNow, b)
			checkFailure(t, err)
		}
		if _, req := b.Used(); req > 16 {
			t.Fatalf("budget overrun: %d verifications", req)
		}
		zone := "example.org."
		if len(m.Ns) > 0 {
			zone = parentName(m.Ns[0].Header().Name)
		}
		for _, err := range []error{
			ProveNXDOMAIN(q.Name, zone, nsecs),
			ProveNODATA(q.Name, q.Qtype, zone, nsecs),
			ProveWildcardNODATA(q.Name, q.Qtype, zone, nsecs),
			ProveWildcardAnswer(q.Name, wildcardOf(zone), zone, nsecs),
			ProveInsecureDelegation(q.Name, zone, nsecs),
			ProveNSEC3NXDOMAIN(q.Name, zone, nsec3s),
			ProveNSEC3NODATA(q.Name, q.Qtype, zone, nsec3s),
			ProveNSEC3WildcardNODATA(q.Name, q.Qtype, zone, nsec3s),
			ProveNSEC3WildcardAnswer(q.Name, wildcardOf(zone), zone, nsec3s),
			ProveNSEC3InsecureDelegation(q.Name, zone, nsec3s),
		} {
			checkFailure(t, err)
		}
	})
}

// FuzzParseAnchors: anchor text comes from configuration files.
func FuzzParseAnchors(f *testing.F) {
	f.Add(rootAnchorsText)
	f.Add("example.org. IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n")
	f.Add("example.org. IN A 192.0.2.1\n")
	f.Fuzz(func(t *testing.T, text string) {
		a, err := ParseAnchors(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dnssec: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		for _, z := range a.Zones() {
			if got, ok := a.Closest(z); !ok || got != z {
				t.Fatalf("Closest(%s) = %s, %v", z, got, ok)
			}
		}
	})
}

// FuzzParseSentinel: query names come from clients.
func FuzzParseSentinel(f *testing.F) {
	f.Add("root-key-sentinel-is-ta-20326.example.org.")
	f.Add("root-key-sentinel-not-ta-00001.")
	f.Add("www.example.org.")
	f.Fuzz(func(t *testing.T, qname string) {
		kind, tag := ParseSentinel(qname)
		if kind == NotSentinel {
			return
		}
		again := fmt.Sprintf("root-key-sentinel-%s-%05d.", kind, tag)
		if k2, t2 := ParseSentinel(again); k2 != kind || t2 != tag {
			t.Fatalf("%q -> %v %d, re-encoded %q -> %v %d", qname, kind, tag, again, k2, t2)
		}
	})
}

// FuzzCompareNames checks that canonical order is a consistent order.
func FuzzCompareNames(f *testing.F) {
	f.Add("a.example.", "\\200.z.example.")
	f.Add("EXAMPLE.", "example.")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := compareNames(a, b), compareNames(b, a)
		if ab != -ba {
			t.Fatalf("compare(%q, %q) = %d but compare(b, a) = %d", a, b, ab, ba)
		}
	})
}

// FuzzVerifyDSA feeds arbitrary DSA keys and signatures (network data) to
// the DSA verifier, which is this package's own code, not miekg/dns's.
func FuzzVerifyDSA(f *testing.F) {
	f.Add([]byte{0}, []byte{0})
	f.Add(make([]byte, dsaMinKeyBytes), make([]byte, dsaSigLen))
	key := make([]byte, dsaMinKeyBytes)
	key[1], key[21], key[85], key[149] = 1, 1, 1, 1
	sig := make([]byte, dsaSigLen)
	sig[1], sig[21] = 1, 1
	f.Add(key, sig)
	f.Fuzz(func(t *testing.T, key, sig []byte) {
		k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
			Flags: dns.ZONE, Protocol: 3, Algorithm: dns.DSA, PublicKey: base64Encode(key)}
		rrset := []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "www.example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}}}
		s := &dns.RRSIG{Hdr: dns.RR_Header{Name: "www.example.org.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET},
			TypeCovered: dns.TypeA, Algorithm: dns.DSA, Labels: 3, OrigTtl: 60, KeyTag: k.KeyTag(),
			SignerName: "example.org.", Inception: uint32(testNow.Unix()) - 10, Expiration: uint32(testNow.Unix()) + 10,
			Signature: base64Encode(sig)}
		// A degenerate key (G = Y = 1) "verifies" anything; that is not a
		// forgery since keys are authenticated by the chain of trust, so
		// only the error contract and the absence of panics are checked.
		_, err := VerifyRRset(rrset, []*dns.RRSIG{s}, []*dns.DNSKEY{k}, testNow, nil)
		checkFailure(t, err)
	})
}
