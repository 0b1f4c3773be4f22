package fleet_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/cli"
	"github.com/addrwalk/addrwalk/internal/sim"
)

// runAsAddrwalk, set in the environment, makes the test binary run as
// addrwalk: the fleet's instances and sim are this binary, so the test
// needs no second build of the command (a minute of CI on two cores).
const runAsAddrwalk = "ADDRWALK_FLEET_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(runAsAddrwalk) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// fleet is one run of fleet.sh on random loopback addresses and ports.
type fleet struct {
	t       *testing.T
	env     []string
	net     string // 127.a.b
	port    int
	metrics int
}

// requireTools skips without redis-server or dnsdist, unless the test runs
// in CI or as root, where scripts/test installs them: then it fails.
func requireTools(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"redis-server", "dnsdist"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" || os.Geteuid() == 0 {
				t.Fatalf("%s not installed (scripts/test installs it): %v", bin, err)
			}
			t.Skipf("%s not installed; the fleet test needs the redis-server and dnsdist packages (scripts/test installs them as root)", bin)
		}
	}
}

// freePort returns a TCP and UDP port free on ip now.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port))); err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

func startFleet(t *testing.T, shared bool) *fleet {
	t.Helper()
	requireTools(t)
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "addrwalk")
	wrapper := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", runAsAddrwalk, self)
	if err := os.WriteFile(bin, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &fleet{t: t, net: fmt.Sprintf("127.%d.%d", 128+rand.IntN(64), rand.IntN(256))}
	f.port = freePort(t, f.net+".100")
	f.metrics = freePort(t, f.net+".1")
	sharedEnv := "1"
	if !shared {
		sharedEnv = "0"
	}
	f.env = append(os.Environ(), "FLEET_DIR="+dir, "FLEET_NET="+f.net, "FLEET_PORT="+strconv.Itoa(f.port),
		"REDIS_PORT="+strconv.Itoa(freePort(t, f.net+".10")), "SIM_PORT="+strconv.Itoa(freePort(t, "127.10.0.1")),
		"METRICS_PORT="+strconv.Itoa(f.metrics), "ADDRWALK="+bin, "SHARED="+sharedEnv,
		// Generous for a loaded CI machine running -race next door; the
		// default (10ms) is for a quiet LAN.
		"READ_TIMEOUT=500ms")
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"dnsdist", "addrwalk1", "addrwalk2", "addrwalk3", "redis"} {
				b, _ := os.ReadFile(filepath.Join(dir, name+".log"))
				t.Logf("%s.log:\n%s", name, tail(string(b), 20))
			}
		}
		f.script("stop")
	})
	f.script("start")
	return f
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (f *fleet) script(args ...string) {
	f.t.Helper()
	cmd := exec.Command("./fleet.sh", args...)
	cmd.Env = f.env
	if out, err := cmd.CombinedOutput(); err != nil {
		f.t.Fatalf("fleet.sh %v: %v\n%s", args, err, out)
	}
}

func (f *fleet) instance(i int) string {
	return net.JoinHostPort(fmt.Sprintf("%s.%d", f.net, i), strconv.Itoa(f.port))
}
func (f *fleet) front() string { return f.instance(100) }

// metric sums the samples of a metric on instance i whose line contains
// match.
func (f *fleet) metric(i int, name, match string) float64 {
	f.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s.%d:%d/metrics", f.net, i, f.metrics))
	if err != nil {
		f.t.Fatalf("metrics of instance %d: %v", i, err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		if rest := strings.TrimPrefix(line, name); rest != "" && rest[0] != '{' && rest[0] != ' ' {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// waitMetric polls (bounded) until instance i's metric satisfies ok.
func (f *fleet) waitMetric(i int, name, match string, ok func(float64) bool) {
	f.t.Helper()
	for range 400 { // 20 s at 50 ms: generous for CI
		if ok(f.metric(i, name, match)) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("instance %d: %s{%s} = %v never satisfied the wait", i, name, match, f.metric(i, name, match))
}

type question struct {
	name  string
	qtype uint16
}

// labNames are the sim's showcase names that resolve (not the dead server
// or the bogus zones, whose failures are never shared).
func labNames() []question {
	var out []question
	for _, e := range sim.Examples() {
		if e.ID == "dead-server" || strings.Contains(e.ID, "bogus") {
			continue
		}
		out = append(out, question{e.Name, e.Type})
	}
	return out
}

// ask sends one question over UDP (TCP on truncation) and returns the
// answer without TTLs.
func ask(server string, q question, timeout time.Duration) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: timeout}
	r, _, err := c.Exchange(m, server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, server)
	}
	if err != nil {
		return nil, err
	}
	out := []string{dns.RcodeToString[r.Rcode]}
	for _, rr := range append(r.Answer, r.Ns...) {
		rr.Header().Ttl = 0
		out = append(out, rr.String())
	}
	slices.Sort(out[1:])
	return out, nil
}

// TestFleet runs the example fleet: Redis, three instances, dnsdist.
func TestFleet(t *testing.T) {
	f := startFleet(t, true)
	names := labNames()

	t.Run("instance 2 answers what instance 1 resolved with 0 upstream queries", func(t *testing.T) {
		want := map[question][]string{}
		for _, q := range names {
			a, err := ask(f.instance(1), q, 5*time.Second)
			if err != nil {
				t.Fatalf("instance 1, %s: %v", q.name, err)
			}
			if a[0] == "SERVFAIL" {
				t.Fatalf("instance 1, %s: SERVFAIL", q.name)
			}
			want[q] = a
		}
		if f.metric(1, "addrwalk_upstream_queries_total", "") == 0 {
			t.Fatal("instance 1 resolved without upstream queries")
		}
		f.waitMetric(1, "addrwalk_cachedb_write_queue", "", func(v float64) bool { return v == 0 })
		before := f.metric(2, "addrwalk_upstream_queries_total", "")
		for _, q := range names {
			got, err := ask(f.instance(2), q, 5*time.Second)
			if err != nil {
				t.Fatalf("instance 2, %s: %v", q.name, err)
			}
			if diff := cmp.Diff(want[q], got); diff != "" {
				t.Errorf("instance 2, %s %s (-instance 1 +instance 2):\n%s", q.name, dns.TypeToString[q.qtype], diff)
			}
		}
		if n := f.metric(2, "addrwalk_upstream_queries_total", "") - before; n != 0 {
			t.Errorf("instance 2 sent %v upstream queries, want 0", n)
		}
		if hits := f.metric(2, "addrwalk_cachedb_lookups_total", `result="hit"`); hits == 0 {
			t.Errorf("instance 2 counted no shared hits")
		}
	})

	t.Run("dnsdist: a mixed load survives an instance kill and restart", func(t *testing.T) {
		mixed := append(slices.Clone(names), question{"nope.example.org.", dns.TypeA}, question{"www.example.org.", dns.TypeMX})
		for _, b := range sim.BulkNames()[:40] {
			mixed = append(mixed, question{b, dns.TypeA})
		}
		type result struct {
			at time.Time
			ok bool
		}
		var mu sync.Mutex
		var results []result
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; ctx.Err() == nil && i < 1_000_000; i++ { // bounded; ends with ctx
					at := time.Now()
					a, err := ask(f.front(), mixed[i%len(mixed)], 2*time.Second)
					ok := err == nil && a[0] != "SERVFAIL" && a[0] != "REFUSED"
					mu.Lock()
					results = append(results, result{at, ok})
					mu.Unlock()
					time.Sleep(5 * time.Millisecond) // a steady load, not a flood
				}
			}()
		}
		phase := func(d time.Duration) { time.Sleep(d) } // load runs meanwhile
		phase(time.Second)
		killed := time.Now()
		f.script("kill", "2")
		phase(3500 * time.Millisecond)
		f.script("restart", "2")
		restarted := time.Now()
		phase(2 * time.Second)
		cancel()
		wg.Wait()
		// dnsdist notices within one check interval (1 s) plus the check
		// timeout (0.3 s); queries already sent to the dead instance wait
		// out the UDP timeout (1 s). Allow 3 s after the kill in all.
		const window = 3 * time.Second
		var before, during, after, failedLate int
		for _, r := range results {
			switch {
			case r.at.Before(killed):
				before++
			case r.at.Before(killed.Add(window)):
				during++
			default:
				after++
				if !r.ok {
					failedLate++
				}
			}
			if !r.ok && r.at.Before(killed) {
				t.Errorf("a query failed before the kill, at %v", r.at)
			}
		}
		t.Logf("%d queries before the kill, %d in the %v after it, %d later (restart at +%v)", before, during, window, after, restarted.Sub(killed).Round(time.Millisecond))
		if failedLate > 0 {
			t.Errorf("%d of %d queries failed later than %v after the kill", failedLate, after, window)
		}
		if after == 0 {
			t.Error("no queries after the window")
		}
		f.waitMetric(2, "addrwalk_queries_total", "", func(v float64) bool { return v > 0 })
	})

	t.Run("Redis killed mid-run: answers continue", func(t *testing.T) {
		f.script("redis-kill")
		more := []question{{"www.example.org.", dns.TypeAAAA}, {"mail.example.org.", dns.TypeMX}}
		for _, b := range sim.BulkNames()[40:60] {
			more = append(more, question{b, dns.TypeA})
		}
		for i := 1; i <= 3; i++ {
			for _, q := range append(slices.Clone(names[:3]), more...) {
				a, err := ask(f.instance(i), q, 5*time.Second)
				if err != nil || a[0] == "SERVFAIL" {
					t.Errorf("instance %d, %s with Redis down: %v %v", i, q.name, a, err)
				}
			}
		}
		f.waitMetric(1, "addrwalk_cachedb_up", "", func(v float64) bool { return v == 0 })
		f.script("redis-start")
		f.waitMetric(1, "addrwalk_cachedb_up", "", func(v float64) bool { return v == 1 })
	})
}
