package config

import (
	"net"
	"time"
)

// CacheDB configures the shared second-level cache (Unbound's cachedb):
// a Redis or Valkey server, Sentinel set or Cluster that several
// instances read after a local cache miss and write what they resolved.
type CacheDB struct {
	// Backend is "redis" (Valkey speaks the same protocol); empty means
	// no shared cache.
	Backend string `toml:"backend"`
	// Addresses are "host:port": one server; the Sentinels, with
	// SentinelMaster; or seed nodes, with Cluster.
	Addresses      []string `toml:"addresses"`
	SentinelMaster string   `toml:"sentinel-master"`
	Cluster        bool     `toml:"cluster"`
	// Username (a Redis 6 ACL user) and Password, or PasswordFile holding
	// it (safer than the configuration file).
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password-file"`
	// TLS encrypts connections; TLSCAFile verifies the server (default:
	// the system roots), TLSServerName overrides the name checked, and
	// TLSCertFile/TLSKeyFile authenticate the client.
	TLS           bool   `toml:"tls"`
	TLSCAFile     string `toml:"tls-ca-file"`
	TLSServerName string `toml:"tls-server-name"`
	TLSCertFile   string `toml:"tls-cert-file"`
	TLSKeyFile    string `toml:"tls-key-file"`
	// KeyPrefix starts every key (default "addrwalk:").
	KeyPrefix string `toml:"key-prefix"`
	// ReadTimeout bounds one lookup (default 10ms), WriteTimeout one batch
	// of writes (default 100ms), ConnectTimeout connecting (default 1s).
	ReadTimeout    Duration `toml:"read-timeout"`
	WriteTimeout   Duration `toml:"write-timeout"`
	ConnectTimeout Duration `toml:"connect-timeout"`
	// MaxObjectSize bounds a stored entry (default 64KiB).
	MaxObjectSize ByteSize `toml:"max-object-size"`
	// WriteQueue bounds writes waiting to be sent (default 4096); more
	// are dropped and counted.
	WriteQueue int `toml:"write-queue"`
}

// Enabled reports whether a shared cache is configured.
func (c *CacheDB) Enabled() bool { return c.Backend != "" }

// maxCacheDBReadTimeout bounds read-timeout: the shared cache must never
// cost a client noticeably more than resolving would.
const maxCacheDBReadTimeout = time.Second

func (c *CacheDB) validate() error {
	switch c.Backend {
	case "":
		if len(c.Addresses) > 0 {
			return invalid("cachedb: addresses given without backend = \"redis\"")
		}
		return nil
	case "redis", "valkey":
	default:
		return invalid("cachedb.backend %q: must be \"redis\" (or \"valkey\")", c.Backend)
	}
	if len(c.Addresses) == 0 {
		return invalid("cachedb.addresses: none given")
	}
	for i, a := range c.Addresses {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return invalid("cachedb.addresses[%d] %q: not host:port", i, a)
		}
	}
	if c.Cluster && c.SentinelMaster != "" {
		return invalid("cachedb: cluster and sentinel-master are exclusive")
	}
	if c.Password != "" && c.PasswordFile != "" {
		return invalid("cachedb: password and password-file are exclusive")
	}
	if !c.TLS && (c.TLSCAFile != "" || c.TLSServerName != "" || c.TLSCertFile != "" || c.TLSKeyFile != "") {
		return invalid("cachedb: tls-* options need tls = true")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return invalid("cachedb: tls-cert-file and tls-key-file go together")
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"read-timeout", c.ReadTimeout}, {"write-timeout", c.WriteTimeout}, {"connect-timeout", c.ConnectTimeout}} {
		if d.v < 0 {
			return invalid("cachedb.%s %v: must not be negative", d.name, d.v)
		}
	}
	if time.Duration(c.ReadTimeout) > maxCacheDBReadTimeout {
		return invalid("cachedb.read-timeout %v: at most %v (lookups must stay short)", c.ReadTimeout, maxCacheDBReadTimeout)
	}
	if c.WriteQueue < 0 {
		return invalid("cachedb.write-queue %d: must not be negative", c.WriteQueue)
	}
	return nil
}
