package server_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/server"
)

// The query path takes raw bytes and gives raw bytes back: here a question
// answered from local data, with the client's letter case echoed.
func ExampleHandler_Handle() {
	local := server.NewLocal()
	if err := local.AddRecord("router.example.org. 3600 IN A 192.0.2.1"); err != nil {
		panic(err)
	}
	h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{
		Resolver: echoResolver{}, // anything not local would be resolved here
		Local:    local,
	}})
	if err != nil {
		panic(err)
	}
	defer h.Close()

	q := new(dns.Msg)
	q.SetQuestion("Router.Example.ORG.", dns.TypeA)
	req, _ := q.Pack()
	resp, ok := h.Handle(context.Background(), req, netip.MustParseAddrPort("127.0.0.1:5353"), server.TransportUDP)
	if !ok {
		panic("dropped")
	}
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		panic(err)
	}
	fmt.Println(dns.RcodeToString[m.Rcode], "aa:", m.Authoritative, "ra:", m.RecursionAvailable)
	fmt.Println(m.Question[0].Name)
	fmt.Println(m.Answer[0].(*dns.A).A)
	// Output:
	// NOERROR aa: true ra: true
	// Router.Example.ORG.
	// 192.0.2.1
}
