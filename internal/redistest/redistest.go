// Package redistest runs throwaway redis-server processes for tests: each
// a child process on a random 127.x.y.z address and port, without
// persistence, killed at the end of the test. Tests can kill, restart and
// drive them to produce the faults a shared cache must survive.
//
// Files:
//
//   - redistest.go: Server, Start and StartWith (one server; TLS, ACL and
//     other options by argument), Kill, Restart, Do.
//   - topology.go: replicas, a Sentinel and a Cluster built from Servers,
//     and Eventually, the bounded poll that waits for them to settle.
package redistest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Binary is the server the package runs (Debian's redis-server).
const Binary = "redis-server"

// startTimeout bounds waiting for "Ready to accept connections": the
// server is ready in milliseconds; a loaded CI machine gets many times that.
const startTimeout = 20 * time.Second

// Server is a running redis-server.
type Server struct {
	addr string
	bus  string // a Cluster node's bus "host:port"
	opts Options
	dir  string // its working directory (cluster and Sentinel state)

	mu   sync.Mutex // guards cmd
	cmd  *exec.Cmd
	done chan struct{}
}

// Require skips t when redis-server is not installed, unless the test
// runs in CI or as root (where scripts/test installs it): then it fails.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(Binary); err != nil {
		if os.Getenv("CI") != "" || os.Geteuid() == 0 {
			t.Fatalf("%s not installed (scripts/test installs the redis-server package): %v", Binary, err)
		}
		t.Skipf("%s not installed; install the redis-server package (scripts/test does, as root)", Binary)
	}
}

// Options change how a server runs.
type Options struct {
	// Args are more redis-server arguments ("--requirepass", "x", ...).
	Args []string
	// Config, when set, is written to a file given as the first argument
	// (Sentinel needs its configuration in a file it can rewrite).
	Config string
	// TLS serves TLS only, on the server's port: Args must name the
	// --tls-cert-file, --tls-key-file and --tls-ca-cert-file. ClientTLS is
	// what Do connects with.
	TLS       bool
	ClientTLS *tls.Config
	// Ready is the log line that says the server is ready (default "Ready
	// to accept connections"; Sentinel says "Sentinel ID is").
	Ready string
	// Cluster runs a Cluster node: cluster mode, its bus on a second free
	// port (Server.BusPort), the addresses it listens on announced.
	Cluster bool
}

// Start starts a server on a free port of a random loopback address and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	Require(t)
	if o.Ready == "" {
		o.Ready = "Ready to accept connections"
	}
	dir := t.TempDir()
	var lastErr error
	for range 5 { // a free port may be taken between the probe and the bind
		ip := fmt.Sprintf("127.%d.%d.%d", 64+rand.IntN(64), rand.IntN(256), 1+rand.IntN(254))
		addr, err := freeAddr(ip)
		if err != nil {
			lastErr = err
			continue
		}
		s := &Server{addr: addr, opts: o, dir: dir}
		if o.Cluster {
			if s.bus, err = freeAddr(ip); err != nil {
				lastErr = err
				continue
			}
		}
		if o.Config != "" {
			if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(o.Config), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// freeAddr returns "ip:port" with a port free on ip now.
func freeAddr(ip string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Addr is the server's "host:port".
func (s *Server) Addr() string { return s.addr }

// Host is the server's address without the port.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

// Port is the server's port, as a string for redis commands.
func (s *Server) Port() string { _, p, _ := net.SplitHostPort(s.addr); return p }

// BusPort is a Cluster node's bus port.
func (s *Server) BusPort() string { _, p, _ := net.SplitHostPort(s.bus); return p }

func (s *Server) start() error {
	host, port := s.Host(), s.Port()
	var args []string
	if s.opts.Config != "" {
		args = append(args, filepath.Join(s.dir, "redis.conf"))
	}
	// A replica announces the address it listens on, not the one the
	// kernel picked for its connection to the primary.
	args = append(args, "--bind", host, "--save", "", "--appendonly", "no", "--replica-announce-ip", host,
		"--logfile", "", "--daemonize", "no", "--protected-mode", "no", "--dir", s.dir)
	if s.opts.Cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(clusterNodeTimeout), "--cluster-port", s.BusPort(), "--cluster-announce-ip", host,
			// A replica may always stand for election, however long a
			// loaded machine kept it from its master.
			"--cluster-replica-validity-factor", "0")
	}
	if s.opts.TLS {
		args = append(args, "--port", "0", "--tls-port", port, "--tls-replication", "yes", "--tls-cluster", "yes")
	} else {
		args = append(args, "--port", port)
	}
	cmd := exec.Command(Binary, append(args, s.opts.Args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", Binary, err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var log []string
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, s.opts.Ready) {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
			log = append(log, line)
		}
		ready <- fmt.Errorf("%s exited before it was ready:\n%s", Binary, strings.Join(log, "\n"))
	}()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case err := <-ready:
		if err != nil {
			<-done
			return err
		}
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s not ready after %v", Binary, startTimeout)
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	return nil
}

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again on the same address (empty: it keeps
// nothing on disk).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	var err error
	for range 20 { // the port may linger a moment after the kill
		if err = s.start(); err == nil {
			return
		}
	}
	t.Fatalf("redistest: restart: %v", err)
}

// Do runs one command on a connection of its own and returns the reply;
// an error fails the test.
func (s *Server) Do(t testing.TB, args ...any) any {
	t.Helper()
	v, err := s.Try(args...)
	if err != nil {
		t.Fatalf("redis %v: %v", args, err)
	}
	return v
}

// Try runs one command like Do but returns its error (a server that is
// down, a cluster not ready) instead of failing the test.
func (s *Server) Try(args ...any) (any, error) {
	c := redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, TLSConfig: s.opts.ClientTLS})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.Do(ctx, args...).Result()
	if err == redis.Nil {
		err = nil
	}
	return v, err
}

// Keys lists the keys matching pattern.
func (s *Server) Keys(t testing.TB, pattern string) []string {
	t.Helper()
	v, _ := s.Do(t, "KEYS", pattern).([]any)
	out := make([]string, 0, len(v))
	for _, k := range v {
		out = append(out, fmt.Sprint(k))
	}
	return out
}

// TTL returns the remaining TTL of key in milliseconds (PTTL).
func (s *Server) TTL(t testing.TB, key string) time.Duration {
	t.Helper()
	v := s.Do(t, "PTTL", key)
	n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	return time.Duration(n) * time.Millisecond
}
