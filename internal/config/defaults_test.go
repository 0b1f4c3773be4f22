package config

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/server"
)

// TestDefaultsFile: examples/serve/addrwalk.toml says it holds the
// defaults; it must equal the defaults of the packages that apply them.
func TestDefaultsFile(t *testing.T) {
	got, err := Load("../../examples/serve/addrwalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	on, off := true, false
	skewMin, skewMax := Duration(dnssec.DefaultSigSkewMin), Duration(dnssec.DefaultSigSkewMax)
	want := &Config{
		Server: Server{
			Listen: server.DefaultListen(), UDPSize: server.DefaultUDPSize, MaxInflight: server.DefaultMaxInflight,
			JostleTimeout:     Duration(server.DefaultJostleTimeout),
			MaxTCPConnections: server.DefaultMaxTCPConns, MaxTCPConnectionsPerClient: server.DefaultMaxTCPConnsPerClient,
			TCPIdleTimeout: Duration(server.DefaultTCPIdleTimeout), PacketCacheEntries: server.DefaultPacketCacheEntries,
			ShutdownGrace: Duration(DefaultShutdownGrace),
		},
		Access: Access{Allow: []netip.Prefix{}, Deny: []netip.Prefix{}, RateLimitEntries: server.DefaultRateLimitEntries, RateSlip: server.DefaultSlip},
		Resolver: Resolver{Port: 53, OutgoingPortExclude: []string{}, QNAMEMinimisation: &on, IPv4: &on, IPv6: &on,
			MaxOutstandingPerServer: resolver.DefaultMaxOutstandingPerServer, MaxOutstandingPerZone: resolver.DefaultMaxOutstandingPerZone,
			QueryTimeout: Duration(resolver.DefaultQueryTimeout), RequestTimeout: Duration(resolver.DefaultRequestTimeout)},
		Cache: Cache{Size: cache.DefaultMaxBytes, MaxTTL: Duration(cache.DefaultMaxTTL), MaxNegativeTTL: Duration(cache.DefaultMaxNegTTL),
			PrefetchMinHits: cache.DefaultPrefetchMinHits},
		Local: Local{Records: []string{}},
		DNSSEC: DNSSEC{Validation: "auto", TrustAnchors: []string{}, NegativeAnchors: []string{},
			SigSkewMin: &skewMin, SigSkewMax: &skewMax, TrustAnchorSignaling: off},
	}
	if diff := cmp.Diff(want, got, addrCmp, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("addrwalk.toml differs from the built-in defaults (-code +file):\n%s", diff)
	}
	// With the unset values filled, the empty configuration is the same
	// server: the keys the file writes out are what the packages use
	// when given zero.
	var empty Config
	empty.ApplyDefaults()
	got.ApplyDefaults()
	if diff := cmp.Diff(empty.Server.Listen, got.Server.Listen, addrCmp); diff != "" {
		t.Errorf("listen: %s", diff)
	}
}

// TestExampleAgreesWithDefaults: addrwalk.example.toml sets some keys to
// show them off and writes the others at their defaults. Each key it sets
// to something else than addrwalk.toml is named here; any other difference
// is a comment or value in the example that drifted from the defaults.
func TestExampleAgreesWithDefaults(t *testing.T) {
	example, err := Load("../../examples/serve/addrwalk.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Load("../../examples/serve/addrwalk.toml")
	if err != nil {
		t.Fatal(err)
	}
	// What the example changes, as it says in its comments.
	metrics := netip.MustParseAddrPort("127.0.0.1:9153")
	want.Server.Metrics = &metrics
	want.Access.Allow = example.Access.Allow
	want.Access.Deny = example.Access.Deny
	want.Resolver.OutgoingPortExclude = example.Resolver.OutgoingPortExclude
	want.Local = example.Local
	want.Forward, want.Stub = example.Forward, example.Stub
	want.Control.Socket = example.Control.Socket
	// The hardening it recommends: 0x20, cookies and a per-zone rate.
	want.Resolver.UseCapsForID, want.Resolver.Cookies = example.Resolver.UseCapsForID, example.Resolver.Cookies
	want.Resolver.RateLimit = example.Resolver.RateLimit
	// Keys the example writes at the value the code uses for zero, or
	// leaves out (then the code's default applies).
	want.Resolver.UnwantedReplyThreshold = resolver.DefaultUnwantedReplyThreshold
	want.Cache.StaleMax = Duration(DefaultStaleMax)
	want.DNSSEC.SigSkewMin, want.DNSSEC.SigSkewMax = nil, nil
	if diff := cmp.Diff(want, example, addrCmp, cmpopts.EquateComparable(netip.Prefix{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("addrwalk.example.toml differs from addrwalk.toml in keys it does not mean to change (-defaults +example):\n%s", diff)
	}
}
