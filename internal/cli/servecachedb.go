package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/addrwalk/addrwalk/internal/config"
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
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("cachedb: %w", err)
		}
		sc.Password = strings.TrimSpace(string(b))
	}
	if c.TLS {
		t, err := cacheDBTLS(c)
		if err != nil {
			return nil, err
		}
		sc.TLS = t
	}
	return cachedb.New(sc)
}

func cacheDBTLS(c *config.CacheDB) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("cachedb: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cachedb: %s: no PEM certificate", c.TLSCAFile)
		}
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("cachedb: %w", err)
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
