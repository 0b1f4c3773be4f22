package resolver

import (
	"crypto/tls"
	"log/slog"
	"net/netip"
	"time"

	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// Config configures a Resolver. The zero value is a resolver that starts
// from the built-in IANA root hints and uses the real network.
type Config struct {
	// Hints are the servers resolution starts from; nil means the built-in
	// IANA root hints. Addresses in Hints are always allowed, even when
	// loopback upstreams are not.
	Hints *Hints
	// Exchanger is the transport; nil means a NetExchanger drawing UDP
	// source ports from 1024-65535 minus ExcludeSourcePorts.
	Exchanger Exchanger
	// ExcludeSourcePorts are ports the default NetExchanger never sends
	// from (Unbound's outgoing-port-avoid), e.g. ports local services
	// listen on.
	ExcludeSourcePorts []PortRange
	// UpstreamTLS lists servers (forward zones' tls:// servers) that the
	// NetExchanger made when Exchanger is nil reaches over DNS over TLS,
	// with the TLS configuration that verifies each.
	UpstreamTLS map[netip.AddrPort]*tls.Config
	// UnwantedReplyThreshold: after this many replies with the wrong ID or
	// question, the cache is flushed and a warning logged (Unbound's
	// unwanted-reply-threshold); 0 means DefaultUnwantedReplyThreshold,
	// negative turns it off. Counted by the default NetExchanger only.
	UnwantedReplyThreshold int64
	// Hardening configures 0x20, cookies, outstanding-query caps, the
	// per-zone rate limit and the hold-down of dead zones (upstream.go).
	Hardening Hardening
	// Port is the port queries go to; 0 means 53. Tests and the offline
	// lab serve their hierarchies on another port.
	Port uint16

	// QueryTimeout bounds one upstream query (default DefaultQueryTimeout).
	QueryTimeout time.Duration
	// RequestTimeout bounds one whole request (default DefaultRequestTimeout);
	// a context deadline that is earlier wins.
	RequestTimeout time.Duration

	// DisableIPv4 and DisableIPv6 stop queries to upstream addresses of
	// that family.
	DisableIPv4, DisableIPv6 bool
	// AllowLoopback allows upstream addresses in 127.0.0.0/8 and ::1
	// learned from delegations (Unbound's do-not-query-localhost: no).
	AllowLoopback bool
	// DisableQNAMEMinimisation sends the full question name to every
	// server instead of one label more than the zone cut (RFC 9156).
	DisableQNAMEMinimisation bool
	// PermissiveGlue accepts glue outside the bailiwick of the zone that
	// sent it (Unbound's harden-glue: no). Off by default: such glue is how
	// cache-poisoning attacks plant addresses.
	PermissiveGlue bool

	// Cache is the resolver's memory of RRsets, negative answers, zone
	// cuts and failures. nil means a new cache made from CacheConfig; a
	// server passes its own so that a configuration reload keeps it.
	Cache *cache.Cache
	// CacheConfig configures the cache New makes when Cache is nil (its
	// Now defaults to Config.Now).
	CacheConfig cache.Config
	// Infra is the server-selection memory (RTT, timeouts, lameness);
	// nil means a new one made from InfraConfig.
	Infra *cache.Infra
	// InfraConfig configures the Infra New makes when Infra is nil (its
	// Now defaults to Config.Now): its MinRTO is Unbound's
	// infra-cache-min-rtt.
	InfraConfig cache.InfraConfig
	// Shared is a second-level cache shared with other resolvers
	// (package cachedb: Redis), asked after a local miss and before
	// resolving; nil means none.
	Shared cache.Shared
	// Prefetch refreshes popular entries in the last tenth of their TTL,
	// in the background, before they expire.
	Prefetch bool

	// TrustAnchors turn DNSSEC validation on (RFC 4033-4035); nil leaves
	// it off. dnssec.RootAnchors() gives IANA's root keys.
	TrustAnchors *dnssec.Anchors
	// NegativeAnchors are names below which validation is off (RFC 7646).
	NegativeAnchors *dnssec.NegativeAnchors
	// AutoTrust, instead of TrustAnchors, gives trust anchors that follow
	// the zones' key rollovers (RFC 5011). They change only when
	// RefreshTrustAnchors runs.
	AutoTrust *dnssec.AutoTrust
	// KeyTagSignal sends RFC 8145 §5 trust-anchor signals ("_ta-4f66."
	// NULL to the root) when an anchored zone's keys are validated
	// afresh, so zone operators can see which keys resolvers trust. Off
	// by default: no traffic the user did not ask for.
	KeyTagSignal bool
	// Validation bounds the work validating one request may do (KeyTrap,
	// CVE-2023-50387) and sets the clock skew allowed around signature
	// validity periods; zero fields keep dnssec's defaults (Unbound's
	// skew: a tenth of the period, 1 h to 24 h).
	Validation dnssec.Limits

	// Stub lists zones resolved by iterating from the given authoritative
	// servers instead of from the root (Unbound's stub-zone).
	Stub []ZoneConfig
	// Forward lists zones whose questions are sent whole, with RD=1, to
	// the given recursive servers (Unbound's forward-zone). A forward zone
	// "." forwards everything.
	Forward []ZoneConfig

	// Limits override the per-request bounds; zero fields keep the
	// defaults (MaxReferralDepth and the other constants).
	Limits Limits

	// Metrics receives counters; nil means none.
	Metrics Metrics

	// Now is the clock (default time.Now): durations in traces, cache
	// TTLs, failure and infrastructure-cache lifetimes and signature
	// validity windows are all measured with it.
	Now func() time.Time
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// DefaultPort is the port queries go to when Config.Port is 0.
const DefaultPort = 53

// withDefaults returns cfg with every zero field that has a default filled
// in, apart from the Exchanger, which New makes because it reports to the
// Resolver. It is the one place the resolver's defaults are applied; the
// server and the config file start from the same zero values.
func (cfg Config) withDefaults() Config {
	if cfg.Hints == nil {
		cfg.Hints = DefaultHints()
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.UnwantedReplyThreshold == 0 {
		cfg.UnwantedReplyThreshold = DefaultUnwantedReplyThreshold
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheConfig.Now == nil {
		cfg.CacheConfig.Now = cfg.Now
	}
	if cfg.InfraConfig.Now == nil {
		cfg.InfraConfig.Now = cfg.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return cfg
}
