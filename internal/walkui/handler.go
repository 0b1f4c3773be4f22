package walkui

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/internal/walkview"
)

//go:embed assets
var assets embed.FS

// heartbeat is how often an idle live stream sends a comment, so proxies
// and the browser keep it open and a dead page is noticed.
const heartbeat = 15 * time.Second

// summary is one line of the list: the resolution without its trace.
type summary struct {
	*walkview.Resolution
	DurationMS float64 `json:"duration_ms"`
}

func summarize(v *walkview.Resolution) summary {
	return summary{Resolution: v, DurationMS: float64(v.Duration.Microseconds()) / 1000}
}

// Handler serves the page of recent resolutions under /ui/:
//
//	/ui/                          the page (search, list, drawing, live mode)
//	/ui/assets/…                  its script and style, embedded
//	/ui/api/resolutions           the kept resolutions, newest first (JSON)
//	/ui/api/resolutions/{id}/svg  one resolution drawn (walkview)
//	/ui/events                    new resolutions as server-sent events
//
// The page shows clients' questions, so it answers only requests from
// loopback peers addressed to a loopback host (or localhost), whatever
// address the debug listener is bound to; that also defeats DNS
// rebinding from a web page.
func Handler(ring *Ring) http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := fs.ReadFile(static, "index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b)
	})
	mux.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /ui/api/resolutions", func(w http.ResponseWriter, r *http.Request) {
		list := ring.List()
		out := make([]summary, 0, len(list))
		for _, v := range list {
			out = append(out, summarize(v))
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /ui/api/resolutions/{id}/svg", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		v := ring.Get(id)
		if err != nil || v == nil {
			http.Error(w, "no such resolution (it may have left the ring)", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write([]byte(walkview.Render(v)))
	})
	mux.HandleFunc("GET /ui/events", func(w http.ResponseWriter, r *http.Request) { events(w, r, ring) })
	return guard(mux)
}

// events streams new resolutions until the client or the server goes.
func events(w http.ResponseWriter, r *http.Request, ring *Ring) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	sub, ok := ring.subscribe()
	if !ok {
		http.Error(w, "too many live pages", http.StatusServiceUnavailable)
		return
	}
	defer ring.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, "retry: 2000\n: live\n\n")
	fl.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": heartbeat\n\n")
		case v := <-sub.ch:
			if ring.takeMissed(sub) {
				fmt.Fprint(w, "event: missed\ndata: {}\n\n")
			}
			b, _ := json.Marshal(summarize(v))
			fmt.Fprintf(w, "event: resolution\ndata: %s\n\n", b)
		}
		fl.Flush()
	}
}

// guard lets through loopback peers asking for a loopback host.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !peer.Addr().Unmap().IsLoopback() || !loopbackHost(r.Host) {
			http.Error(w, "the walk page answers loopback only", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
