package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/zoneerr"

	"github.com/miekg/dns"
	toml "github.com/pelletier/go-toml/v2"

	"github.com/addrwalk/addrwalk/server"
)

// Config is the whole configuration file. The zero value, after
// ApplyDefaults, is a loopback-only resolver on port 53.
type Config struct {
	Server   Server   `toml:"server"`
	Access   Access   `toml:"access"`
	Resolver Resolver `toml:"resolver"`
	Cache    Cache    `toml:"cache"`
	CacheDB  CacheDB  `toml:"cachedb"`
	Forward  []Zone   `toml:"forward-zone"`
	Stub     []Zone   `toml:"stub-zone"`
	Local    Local    `toml:"local"`
	Log      Log      `toml:"log"`
	DNSSEC   DNSSEC   `toml:"dnssec"`
	Control  Control  `toml:"control"`
	// Flags names the command-line flags that set keys on top of the
	// file, by key ("resolver.root-hints": "--root-hints"), so an error
	// names what the user typed (Name).
	Flags map[string]string `toml:"-"`
}

// DNSSEC configures validation (RFC 4033-4035).
type DNSSEC struct {
	// Validation is "auto" (the default: validate with IANA's root keys
	// when the built-in root hints are used, or with the configured
	// anchors), "on" (require anchors) or "off".
	Validation string `toml:"validation"`
	// TrustAnchors are DS or DNSKEY records in zone-file text, for any
	// zone; TrustAnchorFile is a file of them.
	TrustAnchors    []string `toml:"trust-anchors"`
	TrustAnchorFile string   `toml:"trust-anchor-file"`
	// NegativeAnchors are names below which validation is off (RFC 7646,
	// Unbound's domain-insecure).
	NegativeAnchors []string `toml:"negative-anchors"`
	// DomainInsecure is Unbound's name for the same list; both are used.
	DomainInsecure []string `toml:"domain-insecure"`
	// BogusTTL is how long data that failed validation is remembered,
	// apart from other failures (Unbound's val-bogus-ttl). Unset means
	// 60s; between 1s and 5m (RFC 9520 §3.2).
	BogusTTL *Duration `toml:"bogus-ttl"`
	// NSEC3MaxIterations is the highest NSEC3 iteration count validated;
	// denials with more are Insecure with EDE 27 (RFC 9276 §3.2). Unset
	// means 150; 0..150, 0 accepting only unsalted-hash zones' 0.
	NSEC3MaxIterations *int `toml:"nsec3-max-iterations"`
	// SigSkewMin and SigSkewMax bound the clock skew allowed on each side
	// of a signature's validity period: a tenth of the period, clamped to
	// [min, max] (Unbound's val-sig-skew-min/max). Unset keeps 1h and
	// 24h; a max of "0s" checks the times exactly.
	SigSkewMin *Duration `toml:"sig-skew-min"`
	SigSkewMax *Duration `toml:"sig-skew-max"`
	// TrustAnchorSignaling sends RFC 8145 key-tag queries ("_ta-4f66."
	// NULL) when an anchored zone's keys are validated afresh, as
	// Unbound's trust-anchor-signaling does. Off by default.
	TrustAnchorSignaling bool `toml:"trust-anchor-signaling"`
	// AutoTrustAnchorFile keeps the trust anchors up to date with the
	// zones' key rollovers (RFC 5011, Unbound's auto-trust-anchor-file):
	// the file holds their state and is rewritten as keys change; when it
	// does not exist it is created from the configured anchors (IANA's
	// root keys by default). The DNSKEY RRsets are probed every 1 h to
	// 15 days. Unset means no probing.
	AutoTrustAnchorFile string `toml:"auto-trust-anchor-file"`
}

// Server configures the listeners and the bounds on work.
type Server struct {
	// Listen are the addresses served over UDP and TCP.
	Listen []netip.AddrPort `toml:"listen"`
	// Metrics is the address of the HTTP listener for /metrics and
	// /debug; unset means none.
	Metrics *netip.AddrPort `toml:"metrics"`
	// UDPSize is the EDNS payload size advertised and used (512..4096).
	UDPSize int `toml:"udp-size"`
	// MaxInflight bounds concurrent resolutions.
	MaxInflight int `toml:"max-inflight"`
	// JostleTimeout is how long a resolution runs before a new query may
	// take its slot when all max-inflight are busy (Unbound's
	// jostle-timeout; half the slots always run to completion).
	JostleTimeout Duration `toml:"jostle-timeout"`
	// MaxTCPConnections bounds open TCP connections.
	MaxTCPConnections int `toml:"max-tcp-connections"`
	// MaxTCPConnectionsPerClient bounds the TCP connections of one
	// client address.
	MaxTCPConnectionsPerClient int `toml:"max-tcp-connections-per-client"`
	// TCPIdleTimeout closes TCP connections that sent no valid query for
	// this long, whatever else they send.
	TCPIdleTimeout Duration `toml:"tcp-idle-timeout"`
	// PacketCacheEntries bounds the server's reply cache; 0 is the
	// default, -1 turns it off.
	PacketCacheEntries int `toml:"packet-cache-entries"`
	// ShutdownGrace is how long queries in flight get on shutdown.
	ShutdownGrace Duration `toml:"shutdown-grace"`
	// Encrypted holds the DoT and DoH keys (service.go).
	Encrypted
}

// Access configures who may query.
type Access struct {
	// Allow lists client networks served; empty means loopback only.
	Allow []netip.Prefix `toml:"allow"`
	// Deny lists client networks refused even if allowed.
	Deny []netip.Prefix `toml:"deny"`
	// RateLimit is queries per second per /24 or /56; 0 is off.
	RateLimit float64 `toml:"rate-limit"`
	// RateBurst is the token bucket size; 0 means RateLimit.
	RateBurst float64 `toml:"rate-burst"`
	// RateLimitEntries bounds the networks tracked.
	RateLimitEntries int `toml:"rate-limit-entries"`
	// RateSlip: every RateSlip-th UDP query over the limit gets an empty
	// truncated reply (TC=1) instead of none, so real clients retry over
	// TCP (BIND's RRL slip); 0 is the default (2), -1 never.
	RateSlip int `toml:"rate-slip"`
}

// Resolver configures the iterative resolver.
type Resolver struct {
	// RootHints is a named.root file; empty means the built-in hints.
	RootHints string `toml:"root-hints"`
	// Port is the port upstream servers are queried on (default 53).
	Port int `toml:"port"`
	// AllowLoopback allows upstream servers on loopback addresses.
	AllowLoopback bool `toml:"allow-loopback"`
	// OutgoingPortExclude lists UDP source ports ("5353") or ranges
	// ("8000-8100") never used for upstream queries; every other port in
	// 1024-65535 is drawn from at random.
	OutgoingPortExclude []string `toml:"outgoing-port-exclude"`
	// UnwantedReplyThreshold flushes the cache after this many upstream
	// replies with the wrong ID or question; 0 is the default (10
	// million), -1 turns it off.
	UnwantedReplyThreshold int64 `toml:"unwanted-reply-threshold"`
	// UseCapsForID randomises the letter case of question names (0x20,
	// Unbound's use-caps-for-id), with a fallback for servers that do
	// not echo it; off by default, as in Unbound.
	UseCapsForID bool `toml:"use-caps-for-id"`
	// Cookies sends DNS cookies to upstream servers and checks the
	// replies' (RFC 7873, RFC 9018); off by default, as in Unbound,
	// Knot Resolver and PowerDNS Recursor (README, "Hostile network":
	// the full source-port range already defends against blind forgers,
	// and anycast nodes that disagree about cookies cost TCP retries).
	Cookies bool `toml:"cookies"`
	// RateLimit is the queries per second sent to the servers of one
	// zone (Unbound's ratelimit); 0 is off.
	RateLimit float64 `toml:"ratelimit"`
	// MaxOutstandingPerServer and MaxOutstandingPerZone bound the
	// upstream queries in flight to one server address and to one
	// zone's servers; 0 is the default, -1 no bound.
	MaxOutstandingPerServer int `toml:"max-outstanding-per-server"`
	MaxOutstandingPerZone   int `toml:"max-outstanding-per-zone"`
	// QNAMEMinimisation (RFC 9156); on unless set to false.
	QNAMEMinimisation *bool `toml:"qname-minimisation"`
	// IPv4 and IPv6 choose the upstream address families; both on unless
	// set to false.
	IPv4 *bool `toml:"ipv4"`
	IPv6 *bool `toml:"ipv6"`
	// QueryTimeout bounds one upstream query; RequestTimeout one request.
	QueryTimeout   Duration `toml:"query-timeout"`
	RequestTimeout Duration `toml:"request-timeout"`
}

// Cache configures the resolver's cache.
type Cache struct {
	// Size is the one memory budget of every cache, e.g. "64MiB", split
	// by cache.SplitBudget: 70% RRsets, negative answers and failures,
	// 20% the packet cache, 5% validated NSEC records (RFC 8198), 5% the
	// infrastructure cache.
	Size ByteSize `toml:"size"`
	// MinTTL, MaxTTL and MaxNegativeTTL clamp TTLs.
	MinTTL         Duration `toml:"min-ttl"`
	MaxTTL         Duration `toml:"max-ttl"`
	MaxNegativeTTL Duration `toml:"max-negative-ttl"`
	// ServeStale answers with expired data when every server fails
	// (RFC 8767), for up to StaleMax after expiry.
	ServeStale bool     `toml:"serve-stale"`
	StaleMax   Duration `toml:"stale-max"`
	// Prefetch refreshes popular entries before they expire, once they
	// had PrefetchMinHits hits.
	Prefetch        bool `toml:"prefetch"`
	PrefetchMinHits int  `toml:"prefetch-min-hits"`
}

// Zone is a forward or stub zone.
type Zone struct {
	Zone    string       `toml:"zone"`
	Servers []ServerAddr `toml:"servers"`
	// TLSCAFile is a PEM bundle that tls:// servers' certificates are
	// verified against instead of the system roots (forward.go).
	TLSCAFile string `toml:"tls-ca-file"`
}

// Local is local data answered before the resolver.
type Local struct {
	// Records are zone-file lines with absolute names.
	Records []string `toml:"records"`
	// HostsFile is imported as A, AAAA and PTR records.
	HostsFile string `toml:"hosts-file"`
}

// Log configures logging.
type Log struct {
	Level   slog.Level `toml:"level"`
	Queries bool       `toml:"queries"`
}

// Defaults of the keys no package below has a default for. The others
// (listen, udp-size, the resolver's and the cache's) are the packages'
// own: server.DefaultListen, server.DefaultUDPSize, resolver.Default*,
// cache.Default*, applied by those packages to zero values.
const (
	// DefaultShutdownGrace is how long serve lets queries in flight
	// finish on SIGTERM: longer than a typical resolution, short enough
	// for systemd's stop timeout (90 s).
	DefaultShutdownGrace = 5 * time.Second
	// DefaultStaleMax is the serve-stale window when serve-stale is on
	// and none is given: RFC 8767 §5 suggests one to three days.
	DefaultStaleMax = 24 * time.Hour
	maxUDPSize      = 4096
	// maxInflightLimit bounds max-inflight: beyond it a typo (an extra
	// zero) would let memory grow unchecked.
	maxInflightLimit = 1_000_000
)

// Load reads and parses the file at path, which serve's --config names.
func Load(path string) (*Config, error) {
	b, err := fileerr.ReadFile("--config", path, fileerr.MaxSmall)
	if err != nil {
		return nil, err
	}
	return Parse(b, path)
}

// Parse parses a configuration; file names it in errors. Every error
// names the file, the line and the key, says what is wrong and what is
// accepted. The result is validated but has no defaults applied: flags go
// on top of it first.
func Parse(b []byte, file string) (*Config, error) {
	var c Config
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().EnableUnmarshalerInterface()
	if err := dec.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			msgs := make([]string, 0, len(sm.Errors))
			for i := range sm.Errors {
				e := &sm.Errors[i]
				row, col := e.Position()
				msgs = append(msgs, fmt.Sprintf("%s:%d:%d: unknown key %q (examples/serve/addrwalk.example.toml shows every key)", file, row, col, strings.Join(e.Key(), ".")))
			}
			return nil, fmt.Errorf("config: %s", strings.Join(msgs, "; "))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, fmt.Errorf("config: %s:%d: %s", file, row, decodeMessage(&c, de, b))
		}
		// A value's own UnmarshalTOML failed: go-toml gives no position,
		// so find the key whose value is rejected.
		key, line, verr := badValue(b, func(key []string, raw []byte) error {
			if t := keyType(reflect.TypeFor[Config](), key); t == reflect.TypeFor[Duration]() || t == reflect.TypeFor[*Duration]() {
				var d Duration
				return d.UnmarshalTOML(raw)
			}
			return nil
		})
		if verr != nil {
			return nil, fmt.Errorf("config: %s:%d: %s: %v", file, line, key, verr)
		}
		return nil, fmt.Errorf("config: %s: %w", file, err)
	}
	if err := c.Validate(); err != nil {
		msg := errors.Unwrap(err).Error()
		if line := lineFor(keyLines(b), msg); line > 0 {
			return nil, fmt.Errorf("config: %s:%d: %s", file, line, msg)
		}
		return nil, fmt.Errorf("config: %s: %s", file, msg)
	}
	return &c, nil
}

// invalid is a validation error. Its message must start with the key path
// it is about ("server.udp-size = 9: ..."): Parse looks that key up to
// add the line number.
func invalid(format string, args ...any) error {
	return fmt.Errorf("config: %w", fmt.Errorf(format, args...))
}

// Validate checks values that the types alone do not.
func (c *Config) Validate() error {
	s := &c.Server
	if s.UDPSize != 0 && (s.UDPSize < 512 || s.UDPSize > maxUDPSize) {
		return invalid("server.udp-size %d: must be 512..%d", s.UDPSize, maxUDPSize)
	}
	if s.MaxInflight < 0 || s.MaxInflight > maxInflightLimit {
		return invalid("server.max-inflight %d: must be 1..%d", s.MaxInflight, maxInflightLimit)
	}
	if s.MaxTCPConnections < 0 {
		return invalid("server.max-tcp-connections %d: must be positive", s.MaxTCPConnections)
	}
	if s.MaxTCPConnectionsPerClient < 0 {
		return invalid("server.max-tcp-connections-per-client %d: must be positive", s.MaxTCPConnectionsPerClient)
	}
	if s.PacketCacheEntries < -1 {
		return invalid("server.packet-cache-entries %d: must be -1 (off), 0 (default) or positive", s.PacketCacheEntries)
	}
	for i, ap := range s.Listen {
		if ap.Addr().Zone() != "" {
			return invalid("server.listen[%d] %v: zones are not supported", i, ap)
		}
	}
	a := &c.Access
	for _, v := range []struct {
		key string
		v   float64
	}{{"access.rate-limit", a.RateLimit}, {"access.rate-burst", a.RateBurst}, {"access.rate-limit-entries", float64(a.RateLimitEntries)}} {
		if v.v < 0 {
			return invalid("%s = %v: must not be negative (0 is off or the default)", v.key, v.v)
		}
	}
	switch c.DNSSEC.Validation {
	case "", "auto", "on", "off":
	default:
		return invalid("dnssec.validation %q: must be auto, on or off", c.DNSSEC.Validation)
	}
	if err := c.validateDurations(); err != nil {
		return err
	}
	if b := c.DNSSEC.BogusTTL; b != nil && (time.Duration(*b) < time.Second || time.Duration(*b) > 5*time.Minute) {
		return invalid("dnssec.bogus-ttl %v: must be between 1s and 5m (RFC 9520)", *b)
	}
	if n := c.DNSSEC.NSEC3MaxIterations; n != nil && (*n < 0 || *n > 150) {
		return invalid("dnssec.nsec3-max-iterations %d: must be 0..150 (RFC 9276)", *n)
	}
	if c.DNSSEC.SigSkewMin != nil && c.DNSSEC.SigSkewMax != nil && *c.DNSSEC.SigSkewMin > *c.DNSSEC.SigSkewMax {
		return invalid("dnssec.sig-skew-min %v is above sig-skew-max %v", *c.DNSSEC.SigSkewMin, *c.DNSSEC.SigSkewMax)
	}
	if c.DNSSEC.Validation == "on" && len(c.DNSSEC.TrustAnchors) == 0 && c.DNSSEC.TrustAnchorFile == "" && c.Resolver.RootHints != "" {
		return invalid("dnssec.validation = \"on\" with custom root hints (resolver.root-hints) needs trust anchors: set dnssec.trust-anchors or dnssec.trust-anchor-file")
	}
	r := &c.Resolver
	if r.Port < 0 || r.Port > 65535 {
		return invalid("resolver.port %d: must be 0..65535", r.Port)
	}
	if c.Access.RateSlip < -1 {
		return invalid("access.rate-slip = %d: -1 (never), 0 (the default) or positive", c.Access.RateSlip)
	}
	if r.RateLimit < 0 {
		return invalid("resolver.ratelimit = %v: must not be negative (0 is off)", r.RateLimit)
	}
	if r.MaxOutstandingPerServer < -1 || r.MaxOutstandingPerZone < -1 {
		return invalid("resolver.max-outstanding-per-server and -per-zone: -1 (no bound), 0 (the default) or positive")
	}
	if r.IPv4 != nil && r.IPv6 != nil && !*r.IPv4 && !*r.IPv6 {
		return invalid("resolver.ipv6 = false: ipv4 is off too, so no upstream server could be asked")
	}
	if c.Cache.MaxTTL > 0 && c.Cache.MinTTL > c.Cache.MaxTTL {
		return invalid("cache.min-ttl %v is above cache.max-ttl %v", c.Cache.MinTTL, c.Cache.MaxTTL)
	}
	if err := c.CacheDB.validate(); err != nil {
		return err
	}
	if c.Cache.PrefetchMinHits < 0 {
		return invalid("cache.prefetch-min-hits = %d: must not be negative", c.Cache.PrefetchMinHits)
	}
	for _, zl := range []struct {
		key   string
		zones []Zone
	}{{"forward-zone", c.Forward}, {"stub-zone", c.Stub}} {
		seen := map[string]bool{}
		for i, z := range zl.zones {
			name := dns.CanonicalName(dns.Fqdn(z.Zone))
			if _, ok := dns.IsDomainName(name); !ok || z.Zone == "" {
				return invalid("%s[%d].zone %q: not a domain name", zl.key, i, z.Zone)
			}
			if seen[name] {
				return invalid("%s[%d].zone %s: listed twice", zl.key, i, name)
			}
			seen[name] = true
			if len(z.Servers) == 0 {
				return invalid("%s[%d] (%s): no servers", zl.key, i, name)
			}
		}
	}
	if err := c.validateForwardTLS(); err != nil {
		return err
	}
	if err := c.validateEncrypted(); err != nil {
		return err
	}
	if err := c.validateControl(); err != nil {
		return err
	}
	for i, line := range c.Local.Records {
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			if err == nil {
				return invalid("local.records[%d] %q: no record in it", i, line)
			}
			return invalid("local.records[%d] %q: %v", i, line, zoneerr.Explain(err, ""))
		}
		if !strings.HasSuffix(strings.Fields(line)[0], ".") {
			return invalid("local.records[%d] %q: the owner name must be absolute (end in a dot)", i, line)
		}
	}
	return nil
}

// ApplyDefaults fills the unset values that serve reads from the
// configuration itself (the listeners it binds and reports, the payload
// size, the shutdown grace and the serve-stale window); the others stay
// zero and the resolver, cache and server apply their own defaults.
func (c *Config) ApplyDefaults() {
	if len(c.Server.Listen) == 0 {
		c.Server.Listen = server.DefaultListen()
	}
	if c.Server.UDPSize == 0 {
		c.Server.UDPSize = server.DefaultUDPSize
	}
	if c.Server.ShutdownGrace == 0 {
		c.Server.ShutdownGrace = Duration(DefaultShutdownGrace)
	}
	if c.Cache.ServeStale && c.Cache.StaleMax == 0 {
		c.Cache.StaleMax = Duration(DefaultStaleMax)
	}
}

// QNAMEMinimisationOn reports whether QNAME minimisation is on.
func (r *Resolver) QNAMEMinimisationOn() bool {
	return r.QNAMEMinimisation == nil || *r.QNAMEMinimisation
}

// ByteSize is a size in bytes written as a string with an optional unit:
// "65536", "512KiB", "64MiB", "1GiB" (KB, MB and GB mean the same powers
// of 1024).
type ByteSize int64

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(t []byte) error {
	s := strings.TrimSpace(string(t))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("%q is not a size (like \"64MiB\")", t)
	}
	*b = ByteSize(n * mult)
	return nil
}

// MarshalText implements encoding.TextMarshaler, so a configuration
// prints back to one that loads the same.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(strconv.FormatInt(int64(b), 10)), nil }
