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
