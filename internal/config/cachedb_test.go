package config

import (
	"strings"
	"testing"
	"time"
)

func TestCacheDBSection(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{"off", "", ""},
		{"single", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:6379\"]\nread-timeout = \"5ms\"\nmax-object-size = \"32KiB\"\n", ""},
		{"cluster with tls", "[cachedb]\nbackend = \"valkey\"\naddresses = [\"10.0.0.1:6379\", \"10.0.0.2:6379\"]\ncluster = true\ntls = true\ntls-ca-file = \"ca.pem\"\n", ""},
		{"unknown backend", "[cachedb]\nbackend = \"memcached\"\naddresses = [\"127.0.0.1:11211\"]\n", "must be \"redis\""},
		{"no address", "[cachedb]\nbackend = \"redis\"\n", "none given"},
		{"address without port", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1\"]\n", "not host:port"},
		{"addresses without backend", "[cachedb]\naddresses = [\"127.0.0.1:6379\"]\n", "without backend"},
		{"cluster and sentinel", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:26379\"]\ncluster = true\nsentinel-master = \"m\"\n", "exclusive"},
		{"two passwords", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:6379\"]\npassword = \"a\"\npassword-file = \"p\"\n", "exclusive"},
		{"tls option without tls", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:6379\"]\ntls-ca-file = \"ca.pem\"\n", "need tls = true"},
		{"cert without key", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:6379\"]\ntls = true\ntls-cert-file = \"c.pem\"\n", "go together"},
		{"read timeout too long", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:6379\"]\nread-timeout = \"2s\"\n", "at most 1s"},
		{"negative queue", "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:6379\"]\nwrite-queue = -1\n", "must not be negative"},
		{"unknown key", "[cachedb]\nbackend = \"redis\"\naddress = \"127.0.0.1:6379\"\n", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.text), "test.toml")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.name == "single" && (time.Duration(c.CacheDB.ReadTimeout) != 5*time.Millisecond || c.CacheDB.MaxObjectSize != 32<<10 || !c.CacheDB.Enabled()) {
				t.Errorf("parsed %+v", c.CacheDB)
			}
		})
	}
}
