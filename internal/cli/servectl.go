package cli

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/control"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/server"
)

// serveControl is serve's side of the control channel: the backend the
// commands act on, fed by the serve loop.
type serveControl struct {
	cfg     atomic.Pointer[config.Config] // the configuration in force
	reloads chan chan error               // reload requests to the serve loop
}

// start listens on the configured socket and serves control commands
// until ctx ends; the returned func waits for it to finish.
func (sc *serveControl) start(ctx context.Context, path string, file string, shared *serveShared, h *server.Handler,
	metrics *server.Metrics, listeners []control.Listener, log *slog.Logger) (wait func(), err error) {
	ln, err := control.Listen(path)
	if err != nil {
		return nil, err
	}
	b := control.Backend{
		Version:    buildVersion(),
		ConfigFile: file,
		Started:    time.Now(),
		Listeners:  func() []control.Listener { return listeners },
		Cache:      shared.cache,
		Infra:      shared.infra,
		Handler:    h,
		Metrics:    metrics,
		Reload:     sc.reload,
		Forwards:   sc.forwards,
		Anchors:    func() []string { return anchorLines(sc.cfg.Load(), shared) },
	}
	if shared.cachedb != nil {
		addrs := sc.cfg.Load().CacheDB.Addresses
		b.SharedCache = func() string { return cacheDBStatus(shared.cachedb, addrs) }
	}
	srv := control.NewServer(b, log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("control channel", "err", err)
		}
	}()
	return func() { <-done }, nil
}

// reload asks the serve loop to reload and waits for its verdict.
func (sc *serveControl) reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case sc.reloads <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (sc *serveControl) forwards() []control.Zone {
	cfg := sc.cfg.Load()
	var out []control.Zone
	for _, zl := range []struct {
		kind  string
		zones []config.Zone
	}{{"forward", cfg.Forward}, {"stub", cfg.Stub}} {
		for _, z := range zl.zones {
			cz := control.Zone{Zone: dns.CanonicalName(dns.Fqdn(z.Zone)), Kind: zl.kind}
			for _, s := range z.Servers {
				cz.Servers = append(cz.Servers, s.String())
			}
			out = append(out, cz)
		}
	}
	return out
}

// anchorLines describes the trust anchors: the RFC 5011 trust points with
// each key's state when they are managed, else the configured anchors.
func anchorLines(cfg *config.Config, shared *serveShared) []string {
	if cfg.DNSSEC.Validation == "off" {
		return []string{"validation is off"}
	}
	var out []string
	if shared.trust != nil {
		for _, tp := range shared.trust.Points() {
			for _, ds := range tp.Seed {
				out = append(out, fmt.Sprintf("%s DS %d (seed, not yet matched to a key)", tp.Zone, ds.KeyTag))
			}
			for _, k := range tp.Keys {
				out = append(out, fmt.Sprintf("%s DNSKEY %d %s since %s", tp.Zone, k.Key.KeyTag(), k.State, k.Since.UTC().Format(time.RFC3339)))
			}
		}
		return out
	}
	var rc resolver.Config
	if err := dnssecConfig(&rc, cfg); err != nil {
		return []string{"trust anchors: " + err.Error()}
	}
	for _, z := range rc.TrustAnchors.Zones() {
		ds, keys := rc.TrustAnchors.Lookup(z)
		for _, d := range ds {
			out = append(out, fmt.Sprintf("%s DS %d (static)", z, d.KeyTag))
		}
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%s DNSKEY %d (static)", z, k.KeyTag()))
		}
	}
	if len(out) == 0 {
		out = append(out, "no trust anchors configured")
	}
	return out
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 && (v == "" || v == "(devel)") {
			v = "devel-" + s.Value[:12]
		}
	}
	return strings.TrimSpace(v)
}
