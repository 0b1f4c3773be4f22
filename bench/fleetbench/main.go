// Command fleetbench measures the fleet of examples/fleet: for 1, 2 and 3
// addrwalk serve instances, with and without the shared cache on Redis,
//
//   - cold: the upstream queries the fleet sends to resolve the lab name
//     list (sim.BulkNames and the sim's examples) when every instance is
//     asked every name, one instance after the other (clients spread over
//     the instances with no affinity, the case a shared cache is for);
//     summed over the instances' addrwalk_upstream_queries_total. The
//     count depends on what the resolvers do, not on the machine's load;
//   - hot: QPS that dnsperf gets through dnsdist and directly from
//     instance 1, both with every name cached.
//
// Each cell is measured in several rounds, alternating the order of the
// cells from round to round (ABAB), since a shared machine's load drifts;
// the table gives min/median/max and ratios. A whole run is bounded by
// -budget (default 8 minutes); it is a benchmark, never run in CI.
//
//	go run ./bench/fleetbench                    # default: 3 rounds, 4 s per dnsperf run
//	go run ./bench/fleetbench -rounds 5 -duration 10s -budget 15m   # a quiet machine
//
// It drives examples/fleet/fleet.sh on a random 127.x.y.0/24 with free
// ports, so it runs next to other tests, and sends traffic to loopback
// only. Needs redis-server, dnsdist and dnsperf (Debian packages).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	rounds      int
	maxN        int
	duration    time.Duration
	budget      time.Duration
	clients     int
	outstanding int
	concurrency int
	simLatency  bool
	readTimeout time.Duration
	root        string
}

// Limits on the flags: enough for any sensible run, and they keep a typo
// from starting a run of hours.
const (
	maxRounds    = 20
	maxInstances = 9 // fleet.sh's instance addresses are .1 to .9 (.10 is Redis)
)

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fleetbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.rounds, "rounds", 3, "ABAB rounds: each cell measured this many times")
	fs.IntVar(&o.maxN, "instances", 3, "measure fleets of 1..N instances")
	fs.DurationVar(&o.duration, "duration", 4*time.Second, "length of each dnsperf run")
	fs.DurationVar(&o.budget, "budget", 8*time.Minute, "the whole run stops after this (the table so far is printed)")
	fs.IntVar(&o.clients, "clients", 4, "dnsperf clients (-c)")
	fs.IntVar(&o.outstanding, "outstanding", 50, "dnsperf outstanding queries (-q)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "questions in flight during the cold pass")
	fs.BoolVar(&o.simLatency, "sim-latency", false, "keep the simulated hierarchy's latency (slower; counts barely change)")
	fs.DurationVar(&o.readTimeout, "read-timeout", 250*time.Millisecond,
		"[cachedb] read-timeout: the default 10ms counts Redis's slowness on a loaded machine as misses, and misses as upstream queries")
	fs.StringVar(&o.root, "root", ".", "the addrwalk repository")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.rounds < 1 || o.rounds > maxRounds:
		return o, fmt.Errorf("-rounds %d: must be 1..%d", o.rounds, maxRounds)
	case o.maxN < 1 || o.maxN > maxInstances:
		return o, fmt.Errorf("-instances %d: must be 1..%d", o.maxN, maxInstances)
	case o.duration < time.Second || o.duration > 5*time.Minute:
		return o, fmt.Errorf("-duration %v: must be 1s..5m", o.duration)
	case o.readTimeout < time.Millisecond || o.readTimeout > 5*time.Second:
		return o, fmt.Errorf("-read-timeout %v: must be 1ms..5s", o.readTimeout)
	case o.clients < 1 || o.outstanding < 1 || o.concurrency < 1 || o.concurrency > 256:
		return o, errors.New("-clients, -outstanding and -concurrency (at most 256) must be positive")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	var missing []string
	for _, bin := range []string{"redis-server", "dnsdist", "dnsperf"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %v: apt-get install redis-server dnsdist dnsperf", missing)
	}
	script := filepath.Join(o.root, "examples", "fleet", "fleet.sh")
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("run from the repository root or give -root: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.budget)
	defer cancel()
	dir, err := os.MkdirTemp("", "addrwalk-fleetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(stderr, "building addrwalk")
	bin := filepath.Join(dir, "addrwalk")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/addrwalk")
	build.Dir, build.Stderr = o.root, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	names := labNames()
	namesFile := filepath.Join(dir, "names.txt")
	if err := writeNames(namesFile, names); err != nil {
		return err
	}
	b := &bench{o: o, script: script, bin: bin, dir: dir, names: names, namesFile: namesFile, log: stderr,
		cells: map[cellKey]*cell{}}
	start := time.Now()
	runErr := b.all(ctx)
	b.table(stdout, time.Since(start))
	if runErr != nil && ctx.Err() != nil && errors.Is(runErr, context.DeadlineExceeded) {
		return fmt.Errorf("the budget of %v ran out; the table has the rounds that finished: %w", o.budget, runErr)
	}
	return runErr
}
