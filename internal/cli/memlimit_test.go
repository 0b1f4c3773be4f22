package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

func TestMemoryLimit(t *testing.T) {
	const head = memorySlotHeadroom * memoryPerSlot
	tests := []struct {
		name     string
		cfg      config.Config
		env      string
		running  []int   // resolutions running at each look
		wantSets []int64 // the values set: the first limit, each change, then the previous one back
	}{
		{"defaults: 64 MiB, idle", config.Config{}, "", []int{0, 0},
			[]int64{64<<20 + 16<<20 + memoryFixedOverhead + head, 1 << 40}},
		{"follows the resolutions running", config.Config{}, "", []int{0, 10, 10, 0},
			[]int64{64<<20 + 16<<20 + memoryFixedOverhead + head,
				64<<20 + 16<<20 + memoryFixedOverhead + head + 10*memoryPerSlot,
				64<<20 + 16<<20 + memoryFixedOverhead + head,
				1 << 40}},
		{"at most every slot", config.Config{Cache: config.Cache{Size: 16 << 20}, Server: config.Server{MaxInflight: 100}}, "", []int{99},
			[]int64{16<<20 + 4<<20 + memoryFixedOverhead + 64*memoryPerSlot,
				16<<20 + 4<<20 + memoryFixedOverhead + 100*memoryPerSlot,
				1 << 40}},
		{"GOMEMLIMIT wins", config.Config{}, "100MiB", []int{10}, nil},
		{"GOMEMLIMIT=off wins", config.Config{}, "off", []int{10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sets []int64
			set := func(v int64) int64 {
				sets = append(sets, v)
				return 1 << 40 // the previous limit
			}
			getenv := func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.env
				}
				return ""
			}
			l := applyMemoryLimit(&tt.cfg, getenv, set)
			if l != nil {
				// follow, driven by a tick per look.
				tick := make(chan time.Time)
				looks := make(chan int, len(tt.running))
				for _, n := range tt.running {
					looks <- n
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() {
					defer close(done)
					followMemory(ctx, tick, func() int { return <-looks }, l, nil)
				}()
				for range tt.running {
					tick <- time.Time{}
				}
				cancel()
				<-done
				l.restore()
			}
			if (l == nil) != (tt.env != "") {
				t.Errorf("limiter = %v with GOMEMLIMIT %q", l, tt.env)
			}
			if diff := cmp.Diff(tt.wantSets, sets); diff != "" {
				t.Errorf("limits set (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGCPercentFor(t *testing.T) {
	const size = 64 << 20 // the default [cache] size: 16 MiB of garbage at most
	tests := []struct {
		name        string
		live, limit int64
		want        int
	}{
		{"no collection yet", 0, 108 << 20, gcMaxPercent},
		{"idle: as much garbage as live data", 4 << 20, 108 << 20, gcMaxPercent},
		{"a flood's heap: a quarter of the size", 20 << 20, 108 << 20, 80},
		{"rounded down to the step", 24 << 20, 108 << 20, 65},
		{"caches full: a quarter of the live heap", 70 << 20, 108 << 20, gcMinPercent},
		{"half the room under the limit", 40 << 20, 60 << 20, gcMinPercent},
		{"room under the limit counts before the share", 10 << 20, 26 << 20, 80},
		{"over the limit", 120 << 20, 108 << 20, gcMinPercent},
		{"no limit (GOMEMLIMIT=off)", 20 << 20, 1<<63 - 1, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gcPercentFor(tt.live, tt.limit, size); got != tt.want {
				t.Errorf("gcPercentFor(%d MiB live, %d MiB limit) = %d, want %d", tt.live>>20, tt.limit>>20, got, tt.want)
			}
		})
	}
}

func TestGCTarget(t *testing.T) {
	tests := []struct {
		name     string
		env      string
		live     []int64 // the live heap at start, then at each look
		wantSets []int   // the values set: the first, each change, then the previous one back
	}{
		{"follows the live heap", "", []int64{4 << 20, 20 << 20, 20 << 20, 70 << 20, 4 << 20},
			[]int{gcMaxPercent, 80, gcMinPercent, gcMaxPercent, 100}},
		{"GOGC wins", "200", []int64{4 << 20, 20 << 20}, nil},
		{"GOGC=off wins", "off", []int64{4 << 20, 20 << 20}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sets []int
			set := func(v int) int {
				sets = append(sets, v)
				return 100 // the previous percent
			}
			getenv := func(k string) string {
				if k == "GOGC" {
					return tt.env
				}
				return ""
			}
			live := tt.live
			next := func() int64 { v := live[0]; live = live[min(1, len(live)-1):]; return v }
			limit := func() int64 { return 108 << 20 }
			g := applyGCTarget(&config.Config{}, getenv, set, next, limit)
			if (g == nil) != (tt.env != "") {
				t.Fatalf("target = %v with GOGC %q", g, tt.env)
			}
			if g != nil {
				tick := make(chan time.Time)
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() {
					defer close(done)
					followMemory(ctx, tick, func() int { return 0 }, nil, g)
				}()
				for range len(tt.live) - 1 {
					tick <- time.Time{}
				}
				cancel()
				<-done
				g.restore()
			}
			if diff := cmp.Diff(tt.wantSets, sets); diff != "" {
				t.Errorf("percents set (-want +got):\n%s", diff)
			}
		})
	}
}

// budgetZones: names under wild.lab. are answered by a wildcard, names
// under nx.lab. do not exist: a flood of distinct names fills the
// positive and the negative caches and the packet cache.
var budgetZones = map[string]string{
	".": `$TTL 86400
@ IN SOA a.root.lab. h.root.lab. 1 1800 900 604800 3600
@ IN NS a.root.lab.
a.root.lab. IN A 127.57.0.1
wild.lab. IN NS ns.wild.lab.
ns.wild.lab. IN A 127.57.1.1
nx.lab. IN NS ns.nx.lab.
ns.nx.lab. IN A 127.57.1.2
`,
	"wild.lab.": `$TTL 3600
@ IN SOA ns h 1 1800 900 604800 3600
@ IN NS ns
ns IN A 127.57.1.1
* IN A 192.0.2.1
`,
	"nx.lab.": `$TTL 3600
@ IN SOA ns h 1 1800 900 604800 3600
@ IN NS ns
ns IN A 127.57.1.2
`,
}

// Figures of TestServeMemoryBudget.
const (
	// budgetCacheSize is the [cache] size: small, so that the flood
	// overfills every part within seconds.
	budgetCacheSize = 4 << 20
	// budgetNames: 40,000 distinct names weigh some 15 MB in the caches
	// unbounded (about 210 bytes for the RRset or negative entry and 170
	// for the packet-cache entry each), 3.6 times the budget; the first
	// half alone overfills every part (20,000 names left the record
	// cache's 80 % share unfilled at half time once entries shrank, and
	// the heap grew over the second half as the test says it must not).
	// A run takes some 4 s on a quiet 2-core machine.
	budgetNames = 40_000
	// budgetRaceNames and budgetRaceCacheSize: under -race (ten times
	// slower), 2,000 names into a 1 MiB budget; too few to fill it by
	// half time, so only the bound is checked, not the plateau.
	budgetRaceNames     = 2_000
	budgetRaceCacheSize = 1 << 20
	// budgetClients ask at once, each one name after the other: enough
	// to keep resolutions in flight, well under max-inflight.
	budgetClients = 32
)

// TestServeMemoryBudget floods serve, as it runs, with distinct names
// (half wildcard answers, half NXDOMAIN) from an in-process hierarchy on
// loopback and checks the whole process's heap after a GC: within the
// [cache] size plus memoryFixedOverhead (the limit serve sets, less the
// slots, which hold nothing once the flood is over), and flat over the
// second half of the flood, when every cache is full and evicting.
// CI runs it without -race in the memory step of .ci/run.
func TestServeMemoryBudget(t *testing.T) {
	size, names := int64(budgetCacheSize), budgetNames
	if raceEnabled {
		size, names = budgetRaceCacheSize, budgetRaceNames
	}
	lab := resolvertest.Hierarchy{Zones: budgetZones, Servers: []resolvertest.Host{
		{Name: "a.root.lab.", Addr: "127.57.0.1", Zones: []string{"."}},
		{Name: "ns.wild.lab.", Addr: "127.57.1.1", Zones: []string{"wild.lab."}},
		{Name: "ns.nx.lab.", Addr: "127.57.1.2", Zones: []string{"nx.lab."}},
	}}.Start(t, resolvertest.Config{})
	dir := t.TempDir()
	hints := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hints, []byte(lab.RootHints()), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "addrwalk.toml")
	text := fmt.Sprintf(`
[server]
listen = ["127.57.200.1:0"]
[cache]
size = %d
[resolver]
root-hints = %q
port = %d
allow-loopback = true
[dnssec]
validation = "off"
[log]
level = "warn"
`, size, hints, lab.Port())
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var limit atomic.Int64
	ready := make(chan []netip.AddrPort, 1)
	cmd := &ServeCmd{Config: conf,
		ready: func(d []netip.AddrPort, _ netip.AddrPort) { ready <- d },
		// The test binary keeps its own limit; the one serve would
		// set is recorded.
		setMemoryLimit: func(v int64) int64 { limit.CompareAndSwap(0, v); return v },
		setGCPercent:   func(v int) int { return v },
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- cmd.Run(&Globals{Ctx: ctx, Stdout: io.Discard, Stderr: &lockedWriter{w: &stderr}}) }()
	var addr netip.AddrPort
	select {
	case a := <-ready:
		addr = a[0]
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, stderr.String())
	}

	flood := func(from, to int) (answered int64) {
		var wg sync.WaitGroup
		var next, ok atomic.Int64
		next.Store(int64(from))
		for range budgetClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				buf := make([]byte, 1500)
				// Each client takes the next name until all are asked:
				// the loop ends after to-from names in all.
				for {
					i := next.Add(1) - 1
					if i >= int64(to) {
						return
					}
					zone := "wild.lab."
					if i%2 == 1 {
						zone = "nx.lab."
					}
					q := new(dns.Msg)
					q.SetQuestion(fmt.Sprintf("n%d.%s", i, zone), dns.TypeA)
					wire, _ := q.Pack()
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					if _, err := c.Write(wire); err != nil {
						continue
					}
					if n, err := c.Read(buf); err == nil && n >= 12 {
						ok.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return ok.Load()
	}
	heap := func() uint64 {
		lab.ResetQueries() // the lab's query log is the test's, not serve's
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	start := time.Now()
	half := flood(0, names/2)
	mid := heap()
	rest := flood(names/2, names)
	end := heap()
	t.Logf("%d names (%d answered) in %v; heap after GC %.1f MiB at half, %.1f MiB at the end; serve's limit %.1f MiB",
		names, half+rest, time.Since(start).Round(time.Millisecond), mib(mid), mib(end), mib(limit.Load()))
	if got := half + rest; got < int64(names)*9/10 {
		t.Errorf("%d of %d names answered: the flood did not go through", got, names)
	}
	if bound := uint64(size + size/4 + memoryFixedOverhead); end > bound {
		t.Errorf("heap %d bytes after the flood, above the cache size plus the fixed overhead (%d)", end, bound)
	}
	// Every cache is full at half time; the second half may only add
	// what evictions leave to the next GC and the cache's own slack.
	if grew := int64(end) - int64(mid); !raceEnabled && grew > size/4 {
		t.Errorf("heap grew %d bytes over the second half of the flood, want at most %d: something grows with the names", grew, size/4)
	}
	if want := size + size/4 + memoryFixedOverhead + memorySlotHeadroom*memoryPerSlot; limit.Load() != want {
		t.Errorf("serve set the limit %d, want %d", limit.Load(), want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func mib[T int64 | uint64](n T) float64 { return float64(n) / (1 << 20) }
