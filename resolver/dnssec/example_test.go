package dnssec_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/miekg/dns"
)

func ExampleRootAnchors() {
	ds, _ := dnssec.RootAnchors().Lookup(".")
	for _, d := range ds {
		fmt.Println(d.KeyTag, d.Algorithm, d.DigestType)
	}
	// Output:
	// 20326 8 2
	// 38696 8 2
}

func ExampleParseSentinel() {
	kind, tag := dnssec.ParseSentinel("root-key-sentinel-not-ta-20326.example.org.")
	fmt.Println(kind, tag)
	fmt.Println(dnssec.SentinelServfail("root-key-sentinel-not-ta-20326.example.org.", dnssec.RootAnchors()))
	// Output:
	// not-ta 20326
	// true
}

func ExampleProveNXDOMAIN() {
	// NSEC RRs from the authority section, already verified with the
	// keys of example.org.
	var nsecs []*dns.NSEC
	zp := dns.NewZoneParser(strings.NewReader(`
example.org.   300 IN NSEC a.example.org. NS SOA RRSIG NSEC DNSKEY
m.example.org. 300 IN NSEC x.example.org. A RRSIG NSEC
`), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		nsecs = append(nsecs, rr.(*dns.NSEC))
	}
	fmt.Println(dnssec.StatusOf(dnssec.ProveNXDOMAIN("p.example.org.", "example.org.", nsecs)))

	err := dnssec.ProveNXDOMAIN("m.example.org.", "example.org.", nsecs)
	fmt.Println(dnssec.StatusOf(err), dnssec.EDEOf(err), errors.Is(err, dnssec.ErrNSECMissing))
	// Output:
	// Secure
	// Bogus 12 true
}
