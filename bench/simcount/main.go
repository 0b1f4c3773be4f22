// Command simcount serves internal/sim's simulated hierarchy (as `addrwalk
// sim` does) and counts the queries its servers receive, so bench/peers.sh
// can compare how many upstream queries two resolvers send for the same
// names. It also writes the root hints and the benchmark's name list.
//
// It listens only on loopback: the sim's 127.10.x.y servers, and the
// counter's HTTP endpoint (GET /count returns the count, GET /classes the
// count by kind (classes.go), GET /log the queries in order, POST /reset
// zeroes them all).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "simcount:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("simcount", flag.ContinueOnError)
	port := fs.Uint("port", 53, "port of the simulated servers")
	hints := fs.String("hints", "sim-root.hints", "where to write the root hints")
	names := fs.String("names", "names.txt", "where to write the name list (dnsperf format)")
	anchor := fs.String("anchor", "sim-root.ds", "where to write the trust anchor (the signed root's DS)")
	httpAddr := fs.String("http", "127.77.0.1:8053", "loopback address of the counter endpoint")
	noLatency := fs.Bool("no-latency", false, "turn off the simulated latency")
	count := fs.Int("names-count", 0, "names in the list: 0 lists the fixed ones (sim.BulkNames and the examples); more adds generated hosts (sim.GeneratedNames) first, up to this many in all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	list := fixedNames()
	var hosts int
	if *count > len(list) {
		hosts = *count - len(list)
		gen, err := sim.GeneratedNames(hosts)
		if err != nil {
			return err
		}
		gl := make([]string, 0, *count)
		for _, n := range gen {
			gl = append(gl, n+" A")
		}
		list = append(gl, list...)
	}
	counter := newClasses()
	lab, err := sim.New(sim.Config{Port: uint16(*port), NoLatency: *noLatency, OnQuery: counter.add, Hosts: hosts})
	if err != nil {
		return err
	}
	if err := lab.Start(ctx); err != nil {
		return err
	}
	defer lab.Close()
	if err := os.WriteFile(*hints, []byte(lab.RootHints()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(*anchor, []byte(lab.TrustAnchor()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(*names, []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return serveCounter(ctx, *httpAddr, counter)
}

// fixedNames is the benchmark's list of the simulation's own names, in
// dnsperf's "name type" form: the bulk hosts, then the examples.
func fixedNames() []string {
	var out []string
	for _, n := range sim.BulkNames() {
		out = append(out, n+" A")
	}
	for _, e := range sim.Examples() {
		if e.ID == "dead-server" {
			continue // its timeout would dominate the cold wall time
		}
		out = append(out, e.Name+" "+dns.TypeToString[e.Type])
	}
	return out
}

func serveCounter(ctx context.Context, addr string, count *classes) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, count.count()) })
	mux.HandleFunc("GET /classes", func(w http.ResponseWriter, _ *http.Request) { count.write(w) })
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, _ *http.Request) { count.writeLog(w) })
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) { count.reset() })
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Println("ready")
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
