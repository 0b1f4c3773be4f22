package control

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/duration"
	"github.com/addrwalk/addrwalk/resolver/report"
	"github.com/addrwalk/addrwalk/server"
)

// traceOn is `trace-on NAME [COUNT [DURATION]]`.
func (s *Server) traceOn(req Request, out io.Writer) error {
	if s.b.Handler == nil {
		return fmt.Errorf("trace-on: %w", errUnavailable)
	}
	name := req.Args[0]
	if err := checkName(name); err != nil {
		return err
	}
	count, d := server.DefaultTraceCount, server.DefaultTraceFor
	if len(req.Args) > 1 {
		n, err := strconv.Atoi(req.Args[1])
		if err != nil || n < 1 || n > server.MaxTraceCount {
			return usagef("trace-on: COUNT %q: want a number of resolutions from 1 to %d", req.Args[1], server.MaxTraceCount)
		}
		count = n
	}
	if len(req.Args) > 2 {
		v, err := duration.Parse(req.Args[2])
		if err != nil || v <= 0 || v > server.MaxTraceFor {
			return usagef("trace-on: DURATION %q: want more than 0 and at most %v (%s)", req.Args[2], server.MaxTraceFor, duration.Syntax)
		}
		d = v
	}
	tw, err := s.b.Handler.TraceOn(name, count, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tracing %s: the next %d resolutions, until %s (%v)\n", tw.Name, tw.Left, tw.Until.UTC().Format(time.RFC3339), d)
	return nil
}

// traceOff is `trace-off NAME|all`.
func (s *Server) traceOff(req Request, out io.Writer) error {
	if s.b.Handler == nil {
		return fmt.Errorf("trace-off: %w", errUnavailable)
	}
	name := req.Args[0]
	if name == "all" {
		name = ""
	} else if err := checkName(name); err != nil {
		return err
	}
	ended := s.b.Handler.TraceOff(name)
	if len(ended) == 0 {
		if name == "" {
			fmt.Fprintln(out, "no name was traced")
		} else {
			fmt.Fprintf(out, "%s was not traced\n", dns.CanonicalName(name))
		}
		return nil
	}
	for _, tw := range ended {
		fmt.Fprintf(out, "trace-off %s: %d resolutions recorded\n", tw.Name, tw.Recorded)
	}
	return nil
}

// dumpedTrace is one recorded resolution in trace-dump's JSON.
type dumpedTrace struct {
	server.WatchedTrace
	Resolution *report.Resolution `json:"resolution"`
}

// traceDump is `trace-dump [NAME]`.
func (s *Server) traceDump(req Request, out io.Writer) error {
	h := s.b.Handler
	if h == nil {
		return fmt.Errorf("trace-dump: %w", errUnavailable)
	}
	name := ""
	if len(req.Args) == 1 {
		name = req.Args[0]
		if err := checkName(name); err != nil {
			return err
		}
	}
	watches, traces := h.TraceWatches(), h.WatchedTraces(name)
	if req.JSON {
		doc := struct {
			Tracing []server.TraceWatch `json:"tracing"`
			Traces  []dumpedTrace       `json:"traces"`
		}{Tracing: watches, Traces: []dumpedTrace{}}
		for _, t := range traces {
			doc.Traces = append(doc.Traces, dumpedTrace{*t, report.FromResult(t.Name, t.Type, t.Result, t.Err)})
		}
		return json.NewEncoder(out).Encode(doc)
	}
	now := s.b.Now()
	for _, tw := range watches {
		fmt.Fprintf(out, "tracing %s: %d more resolutions, %d recorded, until %s (%v left)\n",
			tw.Name, tw.Left, tw.Recorded, tw.Until.UTC().Format(time.RFC3339), tw.Until.Sub(now).Truncate(time.Second))
	}
	if len(watches) == 0 {
		fmt.Fprintln(out, "no name is traced (trace-on NAME)")
	}
	for _, t := range traces {
		s.writeTrace(out, t)
	}
	return nil
}

// writeTrace prints one recorded resolution: a summary line, the walk,
// then the answer.
func (s *Server) writeTrace(out io.Writer, t *server.WatchedTrace) {
	head := fmt.Sprintf("\n#%d %s %s %s", t.Seq, t.When.UTC().Format(time.RFC3339Nano), t.Name, report.TypeString(t.Type))
	if t.Client != "" {
		head += " from " + t.Client
	}
	if t.Transport != "" {
		head += " (" + t.Transport + ")"
	}
	doc := report.FromResult(t.Name, t.Type, t.Result, t.Err)
	fmt.Fprintf(out, "%s: %s, %d upstream queries, %.3f ms\n", head, doc.Rcode, doc.UpstreamQueries, doc.DurationMS)
	if t.Result != nil && t.Result.Trace != nil && s.b.FormatTrace != nil {
		var b strings.Builder
		s.b.FormatTrace(&b, t.Result.Trace)
		for line := range strings.Lines(b.String()) {
			fmt.Fprint(out, "    ", line)
		}
	}
	for _, rr := range doc.Answer {
		fmt.Fprintf(out, "    answer: %s\n", rr)
	}
	for _, rr := range doc.Authority {
		fmt.Fprintf(out, "    authority: %s\n", rr)
	}
	if doc.Error != "" {
		fmt.Fprintf(out, "    error: %s\n", doc.Error)
	}
}
