package resolvertest

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

const tinyZone = `
$TTL 60
@    SOA ns hostmaster 1 60 60 60 60
@    NS  ns
ns   A   127.53.2.1
`

// tinyLab returns an unstarted lab with one server at addr hosting
// example.org.
func tinyLab(t *testing.T, cfg Config, addr string) *Lab {
	t.Helper()
	lab := New(cfg)
	if err := lab.AddZone("example.org.", tinyZone); err != nil {
		t.Fatal(err)
	}
	if err := lab.AddServer("ns.example.org.", netip.MustParseAddr(addr), "example.org."); err != nil {
		t.Fatal(err)
	}
	return lab
}

func TestExplicitPortAndBindError(t *testing.T) {
	first := Start(t, tinyLab(t, Config{}, "127.53.2.1"))
	port := first.Port()
	if port == 0 {
		t.Fatal("Port() is 0 after Start")
	}

	// The same port on other addresses is free.
	second := Start(t, tinyLab(t, Config{Port: port, ForgerAddr: netip.MustParseAddr("127.53.2.254")}, "127.53.2.2"))
	if second.Port() != port {
		t.Errorf("Port() = %d, want %d", second.Port(), port)
	}
	r := exchange(t, second, "ns.example.org.", "udp", query("ns.example.org.", dns.TypeA))
	if len(r.Answer) != 1 {
		t.Errorf("second lab answered %v", r)
	}

	// The same port on the same address is not: Start fails.
	third := tinyLab(t, Config{Port: port, ForgerAddr: netip.MustParseAddr("127.53.2.253")}, "127.53.2.1")
	if err := third.Start(context.Background()); err == nil {
		third.Close()
		t.Fatal("Start on a taken address and port succeeded")
	} else if !strings.HasPrefix(err.Error(), "resolvertest: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if err := third.Close(); err != nil {
		t.Errorf("Close after failed Start: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	lab := tinyLab(t, Config{}, "127.53.2.3")
	if err := lab.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := lab.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	if err := lab.AddZone("example.net.", tinyZone); err == nil {
		t.Error("AddZone after Start succeeded")
	}
	addr := lab.Server("ns.example.org.").AddrPort().String()
	if err := lab.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lab.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The address is free again.
	again := Start(t, tinyLab(t, Config{Port: lab.Port()}, "127.53.2.3"))
	if got := again.Server("ns.example.org.").AddrPort().String(); got != addr {
		t.Errorf("restarted at %s, want %s", got, addr)
	}
}

func TestStartCanceled(t *testing.T) {
	lab := tinyLab(t, Config{}, "127.53.2.4")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lab.Start(ctx); err == nil {
		lab.Close()
		t.Fatal("Start with a canceled context succeeded")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(*Lab) error
	}{
		{"zone without soa", func(l *Lab) error { return l.AddZone("example.org.", "@ 60 NS ns\n") }},
		{"record out of zone", func(l *Lab) error { return l.AddZone("example.org.", tinyZone+"www.example.net. 60 A 192.0.2.1\n") }},
		{"syntax error", func(l *Lab) error { return l.AddZone("example.org.", tinyZone+"www 60 A not-an-address\n") }},
		{"zone twice", func(l *Lab) error {
			if err := l.AddZone("example.org.", tinyZone); err != nil {
				return nil
			}
			return l.AddZone("EXAMPLE.org.", tinyZone)
		}},
		{"server not loopback", func(l *Lab) error { return l.AddServer("ns.lab.", netip.MustParseAddr("192.0.2.1")) }},
		{"server unknown zone", func(l *Lab) error { return l.AddServer("ns.lab.", netip.MustParseAddr("127.53.2.5"), "example.com.") }},
		{"server address twice", func(l *Lab) error {
			if err := l.AddServer("ns1.lab.", netip.MustParseAddr("127.53.2.5")); err != nil {
				return nil
			}
			return l.AddServer("ns2.lab.", netip.MustParseAddr("127.53.2.5"))
		}},
		{"server on forger address", func(l *Lab) error { return l.AddServer("ns.lab.", l.ForgerAddr()) }},
		{"non-loopback glue", func(l *Lab) error {
			if err := l.AddZone("example.org.", tinyZone+"sub NS ns.sub\nns.sub A 192.0.2.53\n"); err != nil {
				return nil
			}
			if err := l.AddServer("ns.lab.", netip.MustParseAddr("127.53.2.6"), "example.org."); err != nil {
				return nil
			}
			err := l.Start(context.Background())
			l.Close()
			return err
		}},
		{"no servers", func(l *Lab) error { return l.Start(context.Background()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.build(New(Config{}))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "resolvertest: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestRootHints(t *testing.T) {
	lab := newFixture(t)
	zp := dns.NewZoneParser(strings.NewReader(lab.RootHints()), ".", "hints")
	var got []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		got = append(got, rr.String())
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	want := rrs(t, ". 3600000 IN NS a.root-servers.lab.", "a.root-servers.lab. 3600000 IN A 127.53.0.1")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hints mismatch (-want +got):\n%s", diff)
	}
	addrs := lab.Addrs()
	if got, want := addrs["a.root-servers.lab."], netip.AddrPortFrom(rootAddr, lab.Port()); got != want {
		t.Errorf("Addrs()[root] = %v, want %v", got, want)
	}
	if len(addrs) != len(lab.Servers()) {
		t.Errorf("Addrs has %d servers, Servers %d", len(addrs), len(lab.Servers()))
	}
}
