package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
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

// start listens for control commands as configured (the Unix socket, the
// mutual-TLS remote listener, or both) and serves them until ctx ends;
// the returned func waits for it to finish. listeners are the DNS and
// metrics listeners status reports; the control listeners are added.
func (sc *serveControl) start(ctx context.Context, cfg *config.Config, file string, shared *serveShared, h *server.Handler,
	metrics *server.Metrics, listeners []control.Listener, log *slog.Logger) (wait func(), err error) {
	lns, ctlListeners, err := listenControl(ctx, &cfg.Control, cfg.Name(control.SocketKey), log)
	if err != nil {
		return nil, err
	}
	listeners = append(slices.Clip(listeners), ctlListeners...)
	b := control.Backend{
		Version:     buildVersion(),
		ConfigFile:  file,
		Started:     time.Now(),
		Listeners:   func() []control.Listener { return listeners },
		Cache:       shared.cache,
		Infra:       shared.infra,
		Handler:     h,
		Metrics:     metrics,
		Reload:      sc.reload,
		Forwards:    sc.forwards,
		Anchors:     func() []string { return anchorLines(sc.cfg.Load(), shared) },
		FormatTrace: formatTrace,
	}
	if shared.cachedb != nil {
		addrs := sc.cfg.Load().CacheDB.Addresses
		b.SharedCache = func() string { return cacheDBStatus(shared.cachedb, addrs) }
	}
	srv := control.NewServer(b, log)
	var wg sync.WaitGroup
	for _, ln := range lns {
		wg.Go(func() {
			if err := srv.Serve(ctx, ln); err != nil {
				log.Error("control channel", "err", err)
			}
		})
	}
	return wg.Wait, nil
}

// listenControl binds the configured control listeners: the Unix socket,
// and the remote listener, which needs its certificates (a missing or
// unreadable one is an error wrapping control.ErrRemoteTLS: the server
// does not start without it).
func listenControl(ctx context.Context, c *config.Control, socketName string, log *slog.Logger) ([]net.Listener, []control.Listener, error) {
	var lns []net.Listener
	var status []control.Listener
	fail := func(err error) ([]net.Listener, []control.Listener, error) {
		for _, ln := range lns {
			_ = ln.Close()
		}
		return nil, nil, err
	}
	if path := c.ControlSocket(); path != "" {
		ln, err := control.Listen(socketName, path)
		if err != nil {
			return fail(err)
		}
		lns = append(lns, ln)
		status = append(status, control.Listener{Transport: "control", Addr: path})
	}
	if c.Remote != nil {
		tcfg, err := control.ServerTLS(remoteFiles(c))
		if err != nil {
			return fail(err)
		}
		ln, err := control.ListenRemote(ctx, *c.Remote, tcfg)
		if err != nil {
			return fail(err)
		}
		lns = append(lns, ln)
		addr := ln.Addr().String()
		status = append(status, control.Listener{Transport: "control-tls", Addr: addr})
		if !c.Remote.Addr().IsLoopback() {
			log.Warn("remote control listener reachable from the network: every holder of a certificate from control.client-ca can flush and reload this server",
				"addr", addr, "client_ca", c.ClientCA)
		}
	}
	return lns, status, nil
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

// formatTrace prints a recorded walk (trace-dump) as resolve prints one
// live: the recorded tree is replayed into the same printer.
func formatTrace(w io.Writer, t *resolver.Trace) {
	replaySteps(newTracePrinter(w), t.Steps)
}

// replaySteps sends steps to o as the events they were recorded from. A
// sub-resolution's step carries how it ended (the recorder folds the end
// event into it), so its beginning is told in words of its own.
func replaySteps(o resolver.Observer, steps []*resolver.Step) {
	for _, s := range steps {
		if s.Kind != resolver.EventSubBegin {
			o.Observe(s.Event)
			continue
		}
		begin := s.Event
		begin.Detail = fmt.Sprintf("resolve the address of %s, a name server for %s", s.Name, s.Zone)
		o.Observe(begin)
		replaySteps(o, s.Steps)
		o.Observe(resolver.Event{Kind: resolver.EventSubEnd, Depth: s.Depth, Name: s.Name, Outcome: s.Outcome, Detail: s.Detail, Err: s.Err})
	}
}

// remoteFiles are the remote control listener's certificate files, named
// by their [control] keys.
func remoteFiles(c *config.Control) control.RemoteFiles {
	return control.RemoteFiles{Cert: c.ServerCert, Key: c.ServerKey, CA: c.ClientCA,
		Names: [3]string{"control.server-cert", "control.server-key", "control.client-ca"}}
}
