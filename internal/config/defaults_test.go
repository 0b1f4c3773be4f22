package config

import (
	"net/netip"
	"testing"
	"time"

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
	if DefaultUDPSize != server.DefaultUDPSize || DefaultShutdownGrace != 5*time.Second {
		t.Errorf("config's own defaults drifted from the server's")
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
