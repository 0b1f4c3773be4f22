package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/resolver/cachedb"
)

// openCacheDB connects the [cachedb] shared cache, or returns nil when none
// is configured. Redis need not be up: the store comes up when it is.
func openCacheDB(cfg *config.Config, log *slog.Logger) (*cachedb.Store, error) {
	c := &cfg.CacheDB
	if !c.Enabled() {
		return nil, nil
	}
	// go-redis logs every failed dial through a package-level logger;
	// the store logs state changes once instead, so silence it.
	redis.SetLogger(quietRedisLog{})
	sc := cachedb.Config{
		Addrs:          c.Addresses,
		SentinelMaster: c.SentinelMaster,
		Cluster:        c.Cluster,
		Username:       c.Username,
		Password:       c.Password,
		KeyPrefix:      c.KeyPrefix,
		ReadTimeout:    time.Duration(c.ReadTimeout),
		WriteTimeout:   time.Duration(c.WriteTimeout),
		DialTimeout:    time.Duration(c.ConnectTimeout),
		MaxObjectSize:  int(c.MaxObjectSize),
		QueueSize:      c.WriteQueue,
		Logger:         log,
	}
	if err := cacheDBFiles(c, &sc); err != nil {
		return nil, err
	}
	return cachedb.New(sc)
}

// cacheDBFiles reads the files [cachedb] names into sc: the password file
// and the TLS certificates (serve --check-config reads them too).
func cacheDBFiles(c *config.CacheDB, sc *cachedb.Config) error {
	if c.PasswordFile != "" {
		b, err := fileerr.ReadFile("cachedb.password-file", c.PasswordFile, fileerr.MaxSmall)
		if err != nil {
			return err
		}
		sc.Password = strings.TrimSpace(string(b))
	}
	if c.TLS {
		t, err := cacheDBTLS(c)
		if err != nil {
			return err
		}
		sc.TLS = t
	}
	return nil
}

func cacheDBTLS(c *config.CacheDB) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.TLSCAFile != "" {
		pool, err := fileerr.LoadCertPool("cachedb.tls-ca-file", c.TLSCAFile)
		if err != nil {
			return nil, err
		}
		t.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		cert, err := fileerr.LoadKeyPair("cachedb.tls-cert-file", c.TLSCertFile, "cachedb.tls-key-file", c.TLSKeyFile)
		if err != nil {
			return nil, err
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// cacheDBStatus is the status line of the shared cache, for ctl status.
func cacheDBStatus(s *cachedb.Store, addrs []string) string {
	st := s.Stats()
	return fmt.Sprintf("%s (redis %s): %d hits, %d misses, %d timeouts, %d errors, %d undecodable; %d writes, %d dropped",
		st.State, strings.Join(addrs, ","), st.Hits, st.Misses, st.Timeouts, st.Errors, st.Garbage,
		st.Writes, st.DroppedFull+st.DroppedDown)
}

type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}
