package cli

import (
	"net/http"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/walkui"
	"github.com/addrwalk/addrwalk/server"
)

// uiRing is the ring behind the debug listener's /ui/ page; nil when the
// page is off.
type uiRing struct{ r *walkui.Ring }

// newUIRing keeps n traced resolutions when the debug listener is on and
// n is not negative (0 means walkui.DefaultRingSize).
func newUIRing(cfg *config.Config, n int) *uiRing {
	if cfg.Server.Metrics == nil || n < 0 {
		return nil
	}
	return &uiRing{r: walkui.NewRing(n, nil)}
}

// sink is what the handler records into; a nil interface when off, so
// the server does not trace.
func (u *uiRing) sink() server.TraceSink {
	if u == nil {
		return nil
	}
	return u.r
}

// debugHandler serves the server's debug routes with the walk page beside
// them, and sends / to the page.
func debugHandler(h *server.Handler, m *server.Metrics, u *uiRing) http.Handler {
	dbg := server.DebugHandler(h, m)
	if u == nil {
		return dbg
	}
	mux := http.NewServeMux()
	mux.Handle("/", dbg)
	mux.Handle("/ui/", walkui.Handler(u.r))
	mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	return mux
}
