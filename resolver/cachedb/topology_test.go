package cachedb_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/redistest"
	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/internal/tlscert"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/cachedb"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// failoverTimeout bounds waiting for the store to come back after a
// failover: Sentinel and Cluster take one to three seconds with the short
// timeouts redistest gives them, the store's probe backoff up to 5 s more;
// a loaded CI machine gets room beyond that.
const failoverTimeout = 45 * time.Second

// simResolver is a resolver of the simulated hierarchy with store as its
// shared cache.
func simResolver(t *testing.T, store cache.Shared) *resolver.Resolver {
	t.Helper()
	lab, err := sim.New(sim.Config{NoLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	return labresolver.New(t, lab, func(c *resolver.Config) {
		c.Exchanger = &resolver.NetExchanger{}
		c.QueryTimeout = time.Second
		c.Shared = store
	})
}

// resolveAll resolves names and fails on any error or SERVFAIL: what a
// client of addrwalk serve would see.
func resolveAll(t *testing.T, r *resolver.Resolver, names []string) {
	t.Helper()
	for _, name := range names {
		res, err := r.Resolve(context.Background(), name, dns.TypeA)
		if err != nil || res.Rcode != dns.RcodeSuccess || len(res.Answer) == 0 {
			t.Errorf("%s: %v (result %+v)", name, err, res)
		}
	}
}

// failoverNames are names a resolver asks while Redis fails over: the
// first half resolved (and shared) before, the second half new.
func failoverNames() (before, during []string) {
	bulk := sim.BulkNames()
	return bulk[:10], append(bulk[:10:10], bulk[10:20]...)
}

// waitHit polls (bounded by failoverTimeout) until the store answers k.
func waitHit(t *testing.T, s *cachedb.Store, k cache.SharedKey) {
	t.Helper()
	redistest.Eventually(t, "a hit for "+k.Name, failoverTimeout, func() error {
		if _, ok := s.Get(context.Background(), k); !ok {
			return fmt.Errorf("no hit; store %v, stats %+v", s.State(), s.Stats())
		}
		return nil
	})
}

// goDown looks testKey up until the store notices that the server holding
// it is gone (it goes down after a few failed commands; 10 bounds them).
func goDown(t *testing.T, s *cachedb.Store) {
	t.Helper()
	for i := 0; s.State() == cachedb.StateUp && i < 10; i++ {
		s.Get(context.Background(), testKey)
	}
	waitState(t, s, cachedb.StateDown)
}

// TestStoreSentinel runs the store on a Sentinel set: it finds the primary
// through Sentinel, and when the primary is killed the resolver goes on
// answering (local cache and upstream) with no error, the failures are
// counted, and once Sentinel has promoted the replica the store is up
// again and serves what was stored before the failover.
func TestStoreSentinel(t *testing.T) {
	primary := redistest.Start(t)
	replica := redistest.StartReplica(t, primary)
	sentinel := redistest.StartSentinel(t, "aw", primary, replica)
	s, logs := newStore(t, sentinel.Addr(), func(c *cachedb.Config) { c.SentinelMaster = "aw" })
	waitState(t, s, cachedb.StateUp)
	if !putGet(t, s) {
		t.Fatal("no hit through Sentinel")
	}
	if keys := primary.Keys(t, valueKey); len(keys) != 1 {
		t.Fatalf("the primary holds %v, want %s", keys, valueKey)
	}
	redistest.Eventually(t, "the replica has the entry", 10*time.Second, func() error {
		if v, err := replica.Try("EXISTS", valueKey); err != nil || fmt.Sprint(v) != "1" {
			return fmt.Errorf("EXISTS: %v %v", v, err)
		}
		return nil
	})
	r := simResolver(t, s)
	before, during := failoverNames()
	resolveAll(t, r, before)
	flush(t, s)

	primary.Kill()
	goDown(t, s)
	resolveAll(t, r, during) // the local cache and upstream answer
	if st := s.Stats(); st.Errors+st.Timeouts == 0 || st.StateChanges < 2 {
		t.Errorf("stats %+v: the primary's failure not counted", st)
	}
	waitHit(t, s, testKey) // from the promoted replica
	v := sentinel.Do(t, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "aw").([]any)
	if got := fmt.Sprintf("%v:%v", v[0], v[1]); got != replica.Addr() {
		t.Errorf("Sentinel's master is %s, want the replica %s", got, replica.Addr())
	}
	resolveAll(t, r, during)
	if d, u := logs.count("down"), logs.count("up"); d != 1 || u != 2 {
		t.Errorf("logged down %d times and up %d times, want 1 and 2", d, u)
	}
}

// TestStoreCluster runs the store on a Redis Cluster: entries spread over
// the masters by hash slot, and when the master holding an entry is killed
// the resolver goes on answering, the failures are counted, and once the
// master's replica has taken over the entry is served again.
func TestStoreCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	s, logs := newStore(t, c.Masters[0].Addr(), func(cfg *cachedb.Config) { cfg.Addrs, cfg.Cluster = c.Addrs(), true })
	waitState(t, s, cachedb.StateUp)
	keys := sim.BulkNames()[:30]
	for _, name := range keys {
		s.Put(cache.SharedKey{Name: name, Type: dns.TypeA, Class: dns.ClassINET}, entry(t, 5*time.Minute))
	}
	flush(t, s)
	for i, m := range c.Masters {
		if n := m.Do(t, "DBSIZE").(int64); n == 0 {
			t.Errorf("master %d holds no entry of %d: not sharded", i, len(keys))
		}
	}
	s.Put(testKey, entry(t, 5*time.Minute))
	flush(t, s)
	owner := c.Owner(t, valueKey)
	replica := c.AddReplica(t, owner)
	// A cluster replica redirects reads; its DBSIZE says what it holds.
	if got, want := replica.Do(t, "DBSIZE"), c.Masters[owner].Do(t, "DBSIZE"); got != want {
		t.Fatalf("the replica of master %d holds %v keys, the master %v", owner, got, want)
	}
	r := simResolver(t, s)
	before, during := failoverNames()
	resolveAll(t, r, before)
	flush(t, s)

	c.Masters[owner].Kill()
	t.Cleanup(func() {
		if t.Failed() {
			role, err := replica.Try("ROLE")
			nodes, _ := replica.Try("CLUSTER", "NODES")
			info, _ := replica.Try("CLUSTER", "INFO")
			t.Logf("the replica: ROLE %v (%v)\nCLUSTER NODES:\n%v\nCLUSTER INFO:\n%v", role, err, nodes, info)
		}
	})
	goDown(t, s)
	resolveAll(t, r, during)
	if st := s.Stats(); st.Errors+st.Timeouts == 0 || st.StateChanges < 2 {
		t.Errorf("stats %+v: the master's failure not counted", st)
	}
	waitHit(t, s, testKey) // from the replica, now a master
	if role, err := replica.Try("ROLE"); err != nil || fmt.Sprint(role.([]any)[0]) != "master" {
		t.Errorf("the replica's role is %v (%v), want master", role, err)
	}
	// Down once, up twice: the store probes every master, so it does not
	// flap between a live master's PING and the dead one's slots.
	if d, u := logs.count("down"), logs.count("up"); d != 1 || u != 2 {
		t.Errorf("logged down %d times and up %d times, want 1 and 2", d, u)
	}
}

// tlsFiles writes a CA, a server certificate for redis.test and their
// keys to dir, and returns the CA and a client certificate it signed.
func tlsFiles(t *testing.T, dir string) (*tlscert.CA, *tlscert.Issued) {
	t.Helper()
	now := time.Now()
	ca, err := tlscert.NewCA("redis test CA", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Issue([]string{"redis.test"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("addrwalk", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"ca.crt": ca.PEM, "server.crt": srv.CertPEM, "server.key": srv.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, client
}

// TestStoreTLS runs the store against a TLS-only Redis that requires
// client certificates: it comes up only with the right CA, server name
// and client certificate; otherwise it stays down, misses and logs once.
func TestStoreTLS(t *testing.T) {
	dir := t.TempDir()
	ca, client := tlsFiles(t, dir)
	other, err := tlscert.NewCA("another CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good := &tls.Config{RootCAs: ca.Pool(), ServerName: "redis.test", Certificates: []tls.Certificate{client.TLS}, MinVersion: tls.VersionTLS12}
	srv := redistest.StartWith(t, redistest.Options{TLS: true, ClientTLS: good, Args: []string{
		"--tls-cert-file", filepath.Join(dir, "server.crt"), "--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"), "--tls-auth-clients", "yes"}})
	with := func(mod func(*tls.Config)) *tls.Config {
		c := good.Clone()
		mod(c)
		return c
	}
	for _, tc := range []struct {
		name string
		tls  *tls.Config
		up   bool
	}{
		{"verified both ways", good, true},
		{"no client certificate", with(func(c *tls.Config) { c.Certificates = nil }), false},
		{"server's CA unknown", with(func(c *tls.Config) { c.RootCAs = other.Pool() }), false},
		{"wrong server name", with(func(c *tls.Config) { c.ServerName = "other.test" }), false},
		{"plain TCP to the TLS port", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := newStore(t, srv.Addr(), func(c *cachedb.Config) { c.TLS = tc.tls })
			if tc.up {
				waitState(t, s, cachedb.StateUp)
				if !putGet(t, s) {
					t.Error("no hit over TLS")
				}
				return
			}
			waitState(t, s, cachedb.StateDown)
			if _, ok := s.Get(context.Background(), testKey); ok {
				t.Error("a hit with the connection refused")
			}
			if n := logs.count("down"); n != 1 {
				t.Errorf("logged down %d times, want once", n)
			}
		})
	}
}

// TestStoreACL checks that the ACL the README gives (a user limited to the
// key prefix and the commands the store sends) is enough, and that wrong
// credentials keep the store down.
func TestStoreACL(t *testing.T) {
	srv := redistest.StartWith(t, redistest.Options{Config: "user addrwalk on >s3cret ~t:* +get +getrange +set +del +ping\n" +
		"user default on nopass ~* +@all\n"})
	for _, tc := range []struct {
		name, user, password string
		up                   bool
	}{
		{"the README's ACL", "addrwalk", "s3cret", true},
		{"wrong password", "addrwalk", "nope", false},
		{"unknown user", "mallory", "s3cret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newStore(t, srv.Addr(), func(c *cachedb.Config) { c.Username, c.Password = tc.user, tc.password })
			if !tc.up {
				waitState(t, s, cachedb.StateDown)
				return
			}
			waitState(t, s, cachedb.StateUp)
			if !putGet(t, s) {
				t.Fatal("no hit with the README's ACL")
			}
			// A garbage value is deleted: DEL is in the ACL too.
			srv.Do(t, "SET", valueKey, "garbage")
			s.Get(context.Background(), testKey)
			flush(t, s)
			if keys := srv.Keys(t, valueKey); len(keys) != 0 {
				t.Error("garbage not deleted with the README's ACL")
			}
			if st := s.Stats(); st.WriteErrors != 0 || st.Errors != 0 {
				t.Errorf("stats %+v: a command the ACL refuses", st)
			}
		})
	}
}
