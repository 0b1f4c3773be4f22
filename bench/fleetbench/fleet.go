package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fleet is one run of examples/fleet/fleet.sh on a random loopback /24.
type fleet struct {
	script  string
	env     []string
	net     string // 127.a.b
	port    int
	metrics int
	n       int
}

// freePort returns a port free for both TCP and UDP on ip now.
func freePort(ip string) (int, error) {
	for range 20 { // a TCP port's UDP twin is rarely taken; 20 tries is plenty
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port))); err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port on %s", ip)
}

// startFleet starts Redis (when shared), n instances and dnsdist. The
// /24 is drawn from 127.192.0.0/11, apart from the fleet test's
// 127.128.0.0/10 half below it.
func (b *bench) startFleet(ctx context.Context, n int, shared bool) (*fleet, error) {
	f := &fleet{script: b.script, net: fmt.Sprintf("127.%d.%d", 192+rand.IntN(32), rand.IntN(256)), n: n}
	dir, err := os.MkdirTemp(b.dir, "fleet-")
	if err != nil {
		return nil, err
	}
	ports := map[string]string{}
	for _, p := range []struct{ name, ip string }{
		{"FLEET_PORT", f.net + ".100"}, {"METRICS_PORT", f.net + ".1"}, {"REDIS_PORT", f.net + ".10"}, {"SIM_PORT", "127.10.0.1"},
	} {
		port, err := freePort(p.ip)
		if err != nil {
			return nil, err
		}
		ports[p.name] = strconv.Itoa(port)
	}
	f.port, _ = strconv.Atoi(ports["FLEET_PORT"])
	f.metrics, _ = strconv.Atoi(ports["METRICS_PORT"])
	sharedEnv, latency := "0", "0"
	if shared {
		sharedEnv = "1"
	}
	if b.o.simLatency {
		latency = "1"
	}
	f.env = append(os.Environ(), "FLEET_DIR="+dir, "FLEET_NET="+f.net, "FLEET_N="+strconv.Itoa(n), "ADDRWALK="+b.bin,
		"SHARED="+sharedEnv, "SIM_LATENCY="+latency, "READ_TIMEOUT="+b.o.readTimeout.String())
	for k, v := range ports {
		f.env = append(f.env, k+"="+v)
	}
	if err := f.do(ctx, "start"); err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

func (f *fleet) do(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, f.script, args...)
	cmd.Env = f.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fleet.sh %v: %w\n%s", args, err, out)
	}
	return nil
}

// stop stops the fleet, with a context of its own: it must run even when
// the run's budget is spent.
func (f *fleet) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = f.do(ctx, "stop")
}

func (f *fleet) instance(i int) string {
	return net.JoinHostPort(fmt.Sprintf("%s.%d", f.net, i), strconv.Itoa(f.port))
}

func (f *fleet) front() string { return f.instance(100) }

// metric sums the samples of a metric on instance i whose labels contain
// match.
func (f *fleet) metric(ctx context.Context, i int, name, match string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s.%d:%d/metrics", f.net, i, f.metrics), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics of instance %d: %w", i, err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || rest[0] != '{' && rest[0] != ' ' || !strings.Contains(rest, match) {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// sum adds a metric over all instances.
func (f *fleet) sum(ctx context.Context, name, match string) (float64, error) {
	total := 0.0
	for i := 1; i <= f.n; i++ {
		v, err := f.metric(ctx, i, name, match)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total, nil
}

// drained waits until instance i sent every queued write to Redis, so the
// next instance finds them.
func (f *fleet) drained(ctx context.Context, i int) error {
	for range 200 { // 10 s at 50 ms: a few hundred writes take milliseconds
		v, err := f.metric(ctx, i, "addrwalk_cachedb_write_queue", "")
		if err != nil {
			return err
		}
		if v == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("instance %d: write queue not empty after 10 s", i)
}

// dnsperf runs dnsperf against server for the run's duration and returns
// the queries per second and the queries lost.
func (b *bench) dnsperf(ctx context.Context, server string) (qps float64, lost int, err error) {
	host, port, _ := net.SplitHostPort(server)
	secs := strconv.Itoa(int(b.o.duration / time.Second))
	cmd := exec.CommandContext(ctx, "dnsperf", "-s", host, "-p", port, "-d", b.namesFile, "-l", secs,
		"-c", strconv.Itoa(b.o.clients), "-q", strconv.Itoa(b.o.outstanding), "-t", "2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("dnsperf %s: %w\n%s", server, err, out)
	}
	found := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == "Queries" && f[1] == "per" && f[2] == "second:":
			qps, err = strconv.ParseFloat(f[3], 64)
			found = err == nil
		case len(f) >= 3 && f[0] == "Queries" && f[1] == "lost:":
			lost, _ = strconv.Atoi(f[2])
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("dnsperf %s: no \"Queries per second\" in its output:\n%s", server, out)
	}
	return qps, lost, nil
}

// dirOf is where fleet.sh keeps the fleet's logs.
func (f *fleet) dirOf() string {
	for _, e := range f.env {
		if d, ok := strings.CutPrefix(e, "FLEET_DIR="); ok {
			return d
		}
	}
	return ""
}

// logTail returns the end of one of the fleet's logs, for an error.
func (f *fleet) logTail(name string) string {
	b, _ := os.ReadFile(filepath.Join(f.dirOf(), name+".log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}
