package config

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/server"
)

// addrCmp compares netip values, whose fields are unexported.
var addrCmp = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

func TestExampleParses(t *testing.T) {
	c, err := Load("../../examples/serve/addrwalk.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Listen    []netip.AddrPort
		Metrics   netip.AddrPort
		Allow     int
		Forward   []netip.AddrPort
		CacheSize ByteSize
		MaxTTL    time.Duration
		Records   int
		Level     slog.Level
		Qmin      bool
	}{c.Server.Listen, *c.Server.Metrics, len(c.Access.Allow),
		[]netip.AddrPort{c.Forward[0].Servers[0].AddrPort(), c.Forward[0].Servers[1].AddrPort()},
		c.Cache.Size, time.Duration(c.Cache.MaxTTL), len(c.Local.Records), c.Log.Level, c.Resolver.QNAMEMinimisationOn()}
	want := got
	want.Listen = server.DefaultListen()
	want.Metrics = netip.MustParseAddrPort("127.0.0.1:9153")
	want.Allow = 3
	want.Forward = []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53"), netip.MustParseAddrPort("[2001:db8::53]:53")}
	want.CacheSize = 64 << 20
	want.MaxTTL = 24 * time.Hour
	want.Records = 2
	want.Level = slog.LevelInfo
	want.Qmin = true
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("example config (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // substring of the error
	}{
		{"unknown key with line", "[server]\nlisten = [\"127.0.0.1:53\"]\nlisten-port = 53\n", "x.toml:3:1: unknown key \"server.listen-port\""},
		{"unknown table", "[servr]\nlisten = []\n", "unknown key \"servr"},
		{"bad listen address", "[server]\nlisten = [\"127.0.0.1\"]\n", "x.toml:2:"},
		{"bad prefix", "[access]\nallow = [\"10.0.0.0/33\"]\n", "x.toml:2:"},
		{"bad duration", "[cache]\nmax-ttl = \"1 day\"\n", "not a duration"},
		{"bad size", "[cache]\nsize = \"lots\"\n", "not a size"},
		{"bad level", "[log]\nlevel = \"loud\"\n", "x.toml:2:"},
		{"udp size", "[server]\nudp-size = 100\n", "udp-size 100"},
		{"min above max", "[cache]\nmin-ttl = \"2h\"\nmax-ttl = \"1h\"\n", "min-ttl"},
		{"zone without servers", "[[forward-zone]]\nzone = \"example.org\"\n", "forward-zone[0] (example.org.): no servers"},
		{"zone twice", "[[stub-zone]]\nzone = \"a.\"\nservers=[\"192.0.2.1\"]\n[[stub-zone]]\nzone = \"A\"\nservers=[\"192.0.2.1\"]\n", "listed twice"},
		{"bad server", "[[forward-zone]]\nzone = \"a.\"\nservers = [\"ns1.example.org\"]\n", "not an address"},
		{"bad record", "[local]\nrecords = [\"www.example.org. IN A nope\"]\n", "local.records[0]"},
		{"relative record", "[local]\nrecords = [\"www 60 IN A 192.0.2.1\"]\n", "absolute"},
		{"both families off", "[resolver]\nipv4 = false\nipv6 = false\n", "ipv4 is off too"},
		{"syntax", "[server\n", "x.toml:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "x.toml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte("[cache]\nserve-stale = true\n"), "x.toml")
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	got := []any{c.Server.Listen, c.Server.UDPSize, time.Duration(c.Cache.StaleMax), time.Duration(c.Server.ShutdownGrace)}
	want := []any{server.DefaultListen(), server.DefaultUDPSize, DefaultStaleMax, DefaultShutdownGrace}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
	}{{"65536", 65536}, {"512KiB", 512 << 10}, {"64MiB", 64 << 20}, {"1GB", 1 << 30}, {"100 B", 100}}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b ByteSize
			if err := b.UnmarshalText([]byte(tt.in)); err != nil || b != tt.want {
				t.Errorf("ByteSize(%q) = %d, %v; want %d", tt.in, b, err, tt.want)
			}
		})
	}
}

func TestDNSSECSection(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{"auto", "[dnssec]\nvalidation = \"auto\"\n", ""},
		{"anchors", "[dnssec]\ntrust-anchors = [\". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\"]\nnegative-anchors = [\"example.org.\"]\n", ""},
		{"bad mode", "[dnssec]\nvalidation = \"maybe\"\n", "must be auto, on or off"},
		{"on without anchors and custom hints", "[resolver]\nroot-hints = \"x\"\n[dnssec]\nvalidation = \"on\"\n", "needs trust anchors"},
		{"unknown key", "[dnssec]\nvalidate = true\n", "unknown key"},
		{"skew", "[dnssec]\nsig-skew-min = \"30m\"\nsig-skew-max = \"0s\"\n", "sig-skew-min 30m0s is above sig-skew-max 0s"},
		{"skew exact", "[dnssec]\nsig-skew-min = \"0s\"\nsig-skew-max = \"0s\"\n", ""},
		{"skew too large", "[dnssec]\nsig-skew-max = \"400h\"\n", `between 0 and "168h"`},
		{"skew negative", "[dnssec]\nsig-skew-min = \"-1h\"\n", `"-1h" is negative`},
		{"val-bogus-ttl and RFC 9276 limit", "[dnssec]\nbogus-ttl = \"2m\"\nnsec3-max-iterations = 0\ndomain-insecure = [\"example.net.\"]\n", ""},
		{"bogus-ttl too short", "[dnssec]\nbogus-ttl = \"500ms\"\n", "between 1s and 5m"},
		{"bogus-ttl too long", "[dnssec]\nbogus-ttl = \"10m\"\n", "between 1s and 5m"},
		{"nsec3 iterations above 150", "[dnssec]\nnsec3-max-iterations = 151\n", "must be 0..150"},
		{"nsec3 iterations negative", "[dnssec]\nnsec3-max-iterations = -1\n", "must be 0..150"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.text), "test.toml")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
