// Package redistest runs a throwaway redis-server for tests: a child
// process on a random 127.x.y.z address and port, without persistence,
// killed at the end of the test. Tests can kill, restart and drive it to
// produce the faults a shared cache must survive.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
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

// Start starts a server on a free port of a random loopback address and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	var lastErr error
	for range 5 { // a free port may be taken between the probe and the bind
		ip := fmt.Sprintf("127.%d.%d.%d", 64+rand.IntN(64), rand.IntN(256), 1+rand.IntN(254))
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			lastErr = err
			continue
		}
		addr := l.Addr().String()
		l.Close()
		s := &Server{addr: addr}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// Addr is the server's "host:port".
func (s *Server) Addr() string { return s.addr }

func (s *Server) start() error {
	host, port, _ := net.SplitHostPort(s.addr)
	cmd := exec.Command(Binary, "--bind", host, "--port", port, "--save", "", "--appendonly", "no",
		"--logfile", "", "--daemonize", "no", "--protected-mode", "no", "--dir", os.TempDir())
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
			if strings.Contains(line, "Ready to accept connections") {
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

// Do runs one command on a connection of its own and returns the reply.
func (s *Server) Do(t testing.TB, args ...any) any {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.Do(ctx, args...).Result()
	if err != nil && err != redis.Nil {
		t.Fatalf("redis %v: %v", args, err)
	}
	return v
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
