package resolvertest_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/miekg/dns"
)

func Example() {
	lab := resolvertest.New(resolvertest.Config{})
	err := lab.AddZone("example.org.", `
$TTL 300
@    SOA  ns1 hostmaster 1 7200 900 1209600 60
@    NS   ns1
ns1  A    127.53.9.1
www  A    192.0.2.10
`)
	if err != nil {
		panic(err)
	}
	if err := lab.AddServer("ns1.example.org.", netip.MustParseAddr("127.53.9.1"), "example.org."); err != nil {
		panic(err)
	}
	if err := lab.Start(context.Background()); err != nil {
		panic(err)
	}
	defer lab.Close()

	q := new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	r, err := dns.Exchange(q, lab.Server("ns1.example.org.").AddrPort().String())
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Authoritative, r.Answer[0])
	fmt.Println(len(lab.Queries()), "query")
	// Output:
	// true www.example.org.	300	IN	A	192.0.2.10
	// 1 query
}

// A signed zone answers queries with DO=1 with RRSIGs; its trust anchor
// is the DS of its key-signing key, generated when SignZone is called.
func ExampleLab_SignZone() {
	lab := resolvertest.New(resolvertest.Config{})
	err := lab.AddZone("example.org.", `
$TTL 300
@    SOA  ns1 hostmaster 1 7200 900 1209600 60
@    NS   ns1
ns1  A    127.53.9.2
www  A    192.0.2.10
`)
	if err != nil {
		panic(err)
	}
	if err := lab.SignZone("example.org.", resolvertest.SignOptions{}); err != nil {
		panic(err)
	}
	if err := lab.AddServer("ns1.example.org.", netip.MustParseAddr("127.53.9.2"), "example.org."); err != nil {
		panic(err)
	}
	if err := lab.Start(context.Background()); err != nil {
		panic(err)
	}
	defer lab.Close()

	q := new(dns.Msg)
	q.SetQuestion("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, true) // DO=1
	r, err := dns.Exchange(q, lab.Server("ns1.example.org.").AddrPort().String())
	if err != nil {
		panic(err)
	}
	for _, rr := range r.Answer {
		fmt.Println(dns.TypeToString[rr.Header().Rrtype])
	}
	ds, _ := dns.NewRR(lab.TrustAnchor())
	fmt.Println(ds.Header().Name, dns.TypeToString[ds.Header().Rrtype], ds.(*dns.DS).Algorithm, ds.(*dns.DS).DigestType)
	// Output:
	// A
	// RRSIG
	// example.org. DS 13 2
}
