package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/listenerr"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/report"
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
		if rule, refused := resolver.RuleForType(qtype); refused {
			http.Error(w, "type "+ts+": "+rule.Reason, http.StatusBadRequest)
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
		if h.traces != nil {
			client, _ := netip.ParseAddrPort(r.RemoteAddr)
			h.traces.Record(client, "debug/trace", dns.Fqdn(name), qtype, res, err)
		}
		// The one JSON form of a resolution (resolver/report's schema),
		// as resolve --json prints it.
		writeJSON(w, report.FromResult(name, qtype, res, err))
	})
	mux.HandleFunc("GET /debug/infra", func(w http.ResponseWriter, r *http.Request) {
		is, ok := h.Settings().Resolver.(InfraSnapshotter)
		if !ok {
			http.Error(w, "the resolver keeps no server-selection table", http.StatusNotImplemented)
			return
		}
		writeJSON(w, report.FromInfra(is.InfraSnapshot()))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// DebugServer is the HTTP listener of /metrics and /debug.
type DebugServer struct {
	srv *http.Server
	ln  net.Listener
}

// ServeDebug binds addr and serves handler on it (DebugHandler, with
// other pages beside it). Requests' contexts end when Shutdown starts, so
// long-lived responses (server-sent events) do not hold it up.
func ServeDebug(ctx context.Context, addr netip.AddrPort, handler http.Handler) (*DebugServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("server: metrics listener: %w", listenerr.Wrap("tcp", addr, err))
	}
	base, cancel := context.WithCancel(context.Background())
	d := &DebugServer{ln: ln, srv: &http.Server{Handler: handler, ReadHeaderTimeout: debugReadTimeout,
		BaseContext: func(net.Listener) context.Context { return base }}}
	d.srv.RegisterOnShutdown(cancel)
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
