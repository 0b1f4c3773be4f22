package cli

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/server"
)

// refusingResolver fails the test if the server asks it anything: a
// meta-type must be answered before resolution.
type refusingResolver struct{ t *testing.T }

func (r refusingResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	r.t.Errorf("server asked the resolver for %s %d", req.Name, req.Type)
	return nil, errors.New("unexpected")
}

// TestMetaTypes is the one table of what happens to every meta,
// question-only and obsolete type in the library (Query and Refresh),
// the CLI (resolve and demo, in every output mode) and the server.
func TestMetaTypes(t *testing.T) {
	tests := []struct {
		typ        string
		code       uint16
		serverCode int
		ede        bool   // the server's reply carries an Extended DNS Error
		cliMessage string // what the CLI says
	}{
		{"TYPE0", 0, dns.RcodeFormatError, false, "type 0 is reserved"},
		{"OPT", dns.TypeOPT, dns.RcodeFormatError, false, "EDNS pseudo-record"},
		{"TSIG", dns.TypeTSIG, dns.RcodeFormatError, false, "transaction signature"},
		{"TKEY", dns.TypeTKEY, dns.RcodeNotImplemented, false, "TKEY key negotiation"},
		{"AXFR", dns.TypeAXFR, dns.RcodeRefused, true, "zone transfers (AXFR) are not served by a resolver"},
		{"IXFR", dns.TypeIXFR, dns.RcodeRefused, true, "zone transfers (IXFR) are not served by a resolver"},
		{"MAILA", dns.TypeMAILA, dns.RcodeNotImplemented, false, "MAILA is obsolete"},
		{"MAILB", dns.TypeMAILB, dns.RcodeNotImplemented, false, "MAILB is obsolete"},
		// ANY is resolved: the authoritative reply is passed on (RFC
		// 8482); the CLI and sim cases are in TestResolveCLI.
		{"ANY", dns.TypeANY, dns.RcodeSuccess, false, ""},
	}
	r, err := resolver.New(resolver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			_, refused := resolver.RuleForType(tt.code)
			if want := tt.cliMessage != ""; refused != want {
				t.Fatalf("RuleForType(%d) refused %v, want %v", tt.code, refused, want)
			}
			if !refused {
				return
			}
			t.Run("library", func(t *testing.T) {
				for name, call := range map[string]func(context.Context, resolver.Request) (*resolver.Result, error){
					"Query": r.Query, "Refresh": r.Refresh,
				} {
					res, err := call(t.Context(), resolver.Request{Name: "www.example.org", Type: tt.code})
					var re *resolver.Error
					if res != nil || !errors.Is(err, resolver.ErrInvalidQuestion) || !errors.As(err, &re) || !strings.Contains(re.Detail, tt.cliMessage) {
						t.Errorf("%s: result %v, error %v; want ErrInvalidQuestion saying %q", name, res, err, tt.cliMessage)
					}
				}
			})
			t.Run("cli", func(t *testing.T) {
				for _, args := range [][]string{
					{"resolve", "www.example.org", tt.typ},
					{"resolve", "--json", "www.example.org", tt.typ},
					{"resolve", "--short", "www.example.org", tt.typ},
					{"demo", "--no-latency", "www.example.org", tt.typ},
					{"demo", "--no-latency", "--json", "www.example.org", tt.typ},
					{"demo", "--no-latency", "--short", "www.example.org", tt.typ},
				} {
					code, out, errOut := runCLI(t, args...)
					if code != ExitUsage || out != "" || !strings.Contains(errOut, tt.cliMessage) || strings.Count(errOut, "\n") > 2 {
						t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", args, code, out, errOut, ExitUsage, tt.cliMessage)
					}
				}
			})
			t.Run("server", func(t *testing.T) {
				h, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: refusingResolver{t}}})
				if err != nil {
					t.Fatal(err)
				}
				defer h.Close()
				for _, transport := range []server.Transport{server.TransportUDP, server.TransportTCP} {
					q := new(dns.Msg)
					q.SetQuestion("www.example.org.", tt.code)
					q.SetEdns0(1232, false)
					wire, err := q.Pack()
					if err != nil {
						t.Fatal(err)
					}
					resp, ok := h.Handle(t.Context(), wire, netip.MustParseAddrPort("127.0.0.1:5300"), transport)
					m := new(dns.Msg)
					if !ok || m.Unpack(resp) != nil {
						t.Fatalf("%s: no reply or unparseable reply %x", transport, resp)
					}
					if m.Id != q.Id || m.Rcode != tt.serverCode || len(m.Question) != 1 || m.Question[0].Qtype != tt.code {
						t.Errorf("%s: reply id %d rcode %s question %v; want id %d rcode %s", transport, m.Id, dns.RcodeToString[m.Rcode], m.Question, q.Id, dns.RcodeToString[tt.serverCode])
					}
					hasEDE := false
					if o := m.IsEdns0(); o != nil {
						for _, e := range o.Option {
							if _, ok := e.(*dns.EDNS0_EDE); ok {
								hasEDE = true
							}
						}
					}
					if hasEDE != tt.ede {
						t.Errorf("%s: EDE present %v, want %v", transport, hasEDE, tt.ede)
					}
				}
			})
		})
	}
}
