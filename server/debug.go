package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
)

// InfraSnapshotter gives the resolver's server-selection table;
// *resolver.Resolver satisfies it once its infrastructure cache exists.
type InfraSnapshotter interface {
	InfraSnapshot() []cache.InfraEntry
}

const (
	// maxDebugTraces bounds concurrent /debug/trace resolutions: each is
	// a full resolution with a recorded trace, a debugging aid that must
	// not compete with clients.
	maxDebugTraces = 4
	// debugReadTimeout bounds reading an HTTP request.
	debugReadTimeout = 5 * time.Second
)

// TraceReply is the JSON document /debug/trace returns.
type TraceReply struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Rcode     string          `json:"rcode"`
	Answer    []string        `json:"answer,omitempty"`
	Authority []string        `json:"authority,omitempty"`
	Upstream  int             `json:"upstream"`
	Duration  time.Duration   `json:"duration_ns"`
	Error     string          `json:"error,omitempty"`
	EDE       *uint16         `json:"ede,omitempty"`
	Trace     *resolver.Trace `json:"trace,omitempty"`
}

// DebugHandler serves /metrics (when m is not nil), /debug/trace,
// /debug/infra and /debug/pprof for h.
func DebugHandler(h *Handler, m *Metrics) http.Handler {
	mux := http.NewServeMux()
	if m != nil {
		mux.Handle("GET /metrics", m.HTTPHandler())
	}
	// The Go profiler, for performance work; the listener is loopback
	// unless configured otherwise.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	slots := make(chan struct{}, maxDebugTraces)
	mux.HandleFunc("GET /debug/trace", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		ts := r.URL.Query().Get("type")
		if ts == "" {
			ts = "A"
		}
		qtype, ok := dns.StringToType[strings.ToUpper(ts)]
		if _, okName := dns.IsDomainName(name); name == "" || !okName || !ok {
			http.Error(w, "usage: /debug/trace?name=NAME&type=TYPE", http.StatusBadRequest)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			http.Error(w, "too many traces in flight", http.StatusServiceUnavailable)
			return
		}
		res, err := h.Settings().Resolver.Query(r.Context(), resolver.Request{Name: dns.Fqdn(name), Type: qtype, Trace: true})
		out := TraceReply{Name: dns.Fqdn(name), Type: typeString(qtype), Rcode: rcodeString(rcodeServFail)}
		if res != nil {
			out.Rcode = rcodeString(res.Rcode)
			out.Answer, out.Authority = rrStrings(res.Answer), rrStrings(res.Authority)
			out.Upstream, out.Duration, out.Trace = res.Upstream, res.Duration, res.Trace
		}
		if err != nil {
			out.Error = err.Error()
			var re *resolver.Error
			if errors.As(err, &re) {
				out.EDE = &re.EDE
			}
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /debug/infra", func(w http.ResponseWriter, r *http.Request) {
		is, ok := h.Settings().Resolver.(InfraSnapshotter)
		if !ok {
			http.Error(w, "the resolver keeps no server-selection table", http.StatusNotImplemented)
			return
		}
		writeJSON(w, is.InfraSnapshot())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func rrStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

// DebugServer is the HTTP listener of /metrics and /debug.
type DebugServer struct {
	srv *http.Server
	ln  net.Listener
}

// ListenDebug binds addr and serves DebugHandler(h, m) on it.
func ListenDebug(ctx context.Context, addr netip.AddrPort, h *Handler, m *Metrics) (*DebugServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("server: metrics listener: %w", err)
	}
	d := &DebugServer{ln: ln, srv: &http.Server{Handler: DebugHandler(h, m), ReadHeaderTimeout: debugReadTimeout}}
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

// Addr returns the bound address.
func (d *DebugServer) Addr() netip.AddrPort {
	ap, _ := netip.ParseAddrPort(d.ln.Addr().String())
	return ap
}

// Shutdown stops the listener, waiting for requests in flight until ctx
// ends.
func (d *DebugServer) Shutdown(ctx context.Context) error { return d.srv.Shutdown(ctx) }
