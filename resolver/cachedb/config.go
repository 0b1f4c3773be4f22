package cachedb

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Config configures a Store. Only Addrs is required.
type Config struct {
	// Addrs are "host:port" addresses: one Redis server; or, with
	// SentinelMaster, the Sentinels that know the master; or, with
	// Cluster, seed nodes of a Redis Cluster.
	Addrs          []string
	SentinelMaster string
	Cluster        bool
	// Username and Password authenticate (Redis 6 ACL user; Password
	// alone is the legacy requirepass).
	Username, Password string
	// TLS, when set, encrypts the connections (Redis 6+ tls-port).
	TLS *tls.Config
	// KeyPrefix starts every key, so several fleets or other users can
	// share a Redis; default DefaultKeyPrefix.
	KeyPrefix string
	// ReadTimeout bounds one lookup (default DefaultReadTimeout): after it
	// the resolver goes on without the shared cache.
	ReadTimeout time.Duration
	// WriteTimeout bounds one batch of writes (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// DialTimeout bounds connecting and each health probe (default
	// DefaultDialTimeout).
	DialTimeout time.Duration
	// MaxObjectSize bounds a stored value (default DefaultMaxObjectSize):
	// larger entries are not written, larger values not read.
	MaxObjectSize int
	// QueueSize bounds writes waiting to be sent (default
	// DefaultQueueSize), and their bytes to QueueSize KiB; beyond either
	// writes are dropped and counted.
	QueueSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per state change (up, down); nil discards.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultKeyPrefix = "addrwalk:"
	// DefaultReadTimeout: a Redis on the same LAN answers a GET in well
	// under a millisecond; 10 ms leaves room for a busy one while costing
	// a client little more than a local miss does anyway.
	DefaultReadTimeout = 10 * time.Millisecond
	// DefaultWriteTimeout: writes are off the answer path; 100 ms is
	// generous for a pipelined batch yet notices a stuck server quickly.
	DefaultWriteTimeout = 100 * time.Millisecond
	// DefaultDialTimeout is go-redis's own default for connecting.
	DefaultDialTimeout = time.Second
	// DefaultMaxObjectSize: an entry comes from one DNS message, at most
	// 64 KiB; uncompressed names can make it a little larger, and such an
	// entry is rare enough to leave to the local cache.
	DefaultMaxObjectSize = 64 << 10
	// DefaultQueueSize holds about a second of writes at 4000 cold
	// resolutions per second, far above one instance's upstream rate.
	DefaultQueueSize = 4096
	// maxQueueSize bounds QueueSize: beyond it a typo would let memory
	// grow with Redis down for long.
	maxQueueSize = 1 << 20
)

// ErrConfig is wrapped by the errors New returns for a bad Config.
var ErrConfig = errors.New("cachedb: invalid configuration")

func (c Config) withDefaults() (Config, error) {
	if len(c.Addrs) == 0 {
		return c, fmt.Errorf("%w: no address", ErrConfig)
	}
	for _, a := range c.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return c, fmt.Errorf("%w: address %q is not host:port (like 127.0.0.1:6379 or [::1]:6379)", ErrConfig, a)
		}
	}
	if c.Cluster && c.SentinelMaster != "" {
		return c, fmt.Errorf("%w: cluster and sentinel-master are exclusive", ErrConfig)
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	for _, d := range []*time.Duration{&c.ReadTimeout, &c.WriteTimeout, &c.DialTimeout} {
		if *d < 0 {
			return c, fmt.Errorf("%w: negative timeout", ErrConfig)
		}
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	switch {
	case c.MaxObjectSize < 0:
		return c, fmt.Errorf("%w: negative max object size", ErrConfig)
	case c.MaxObjectSize == 0:
		c.MaxObjectSize = DefaultMaxObjectSize
	case c.MaxObjectSize < headerLen:
		return c, fmt.Errorf("%w: max object size %d below the smallest entry", ErrConfig, c.MaxObjectSize)
	}
	switch {
	case c.QueueSize < 0 || c.QueueSize > maxQueueSize:
		return c, fmt.Errorf("%w: write queue %d: must be 1..%d", ErrConfig, c.QueueSize, maxQueueSize)
	case c.QueueSize == 0:
		c.QueueSize = DefaultQueueSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
