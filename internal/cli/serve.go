package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/control"
	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/sdnotify"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/cachedb"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/server"
)

// ServeCmd is `addrwalk serve`: a local recursive DNS server.
type ServeCmd struct {
	Config        string   `name:"config" placeholder:"FILE" help:"TOML configuration file (see examples/serve/addrwalk.example.toml); flags override it."`
	Listen        []string `name:"listen" placeholder:"ADDR:PORT" help:"Address to serve on, UDP and TCP; repeatable (default 127.0.0.1:53 and [::1]:53)."`
	Metrics       string   `name:"metrics" placeholder:"ADDR:PORT" help:"HTTP listener for /metrics and /debug (e.g. 127.0.0.1:9153)."`
	Allow         []string `name:"allow" placeholder:"CIDR" help:"Client network allowed to query; repeatable (loopback is always allowed unless denied in the config)."`
	RootHints     string   `name:"root-hints" placeholder:"FILE" help:"Root hints file in named.root format (default: built-in IANA hints)."`
	AllowLoopback bool     `name:"allow-loopback" help:"Allow upstream servers on 127.0.0.0/8 and ::1."`
	Port          uint16   `name:"port" placeholder:"PORT" help:"Port of upstream servers (default 53)."`
	NoQmin        bool     `name:"no-qmin" help:"Send the full name to every server (no QNAME minimisation)."`
	TrustAnchor   string   `name:"trust-anchor" placeholder:"FILE" help:"Validate with the DS or DNSKEY records in FILE (any zone) instead of IANA's root keys."`
	NoValidate    bool     `name:"no-validate" help:"Do not validate DNSSEC."`
	LogLevel      string   `name:"log-level" placeholder:"LEVEL" help:"debug, info, warn or error (default info)."`
	QueryLog      bool     `name:"query-log" help:"Log every query."`
	CheckConfig   bool     `name:"check-config" help:"Validate the configuration and exit."`
	DoT           []string `name:"dot" placeholder:"ADDR:PORT" help:"Serve DNS over TLS (RFC 7858) on this address; repeatable (port 853 is standard). Needs --tls-cert/--tls-key or --self-signed."`
	DoH           []string `name:"doh" placeholder:"ADDR:PORT" help:"Serve DNS over HTTPS (RFC 8484, /dns-query) on this address; repeatable."`
	TLSCert       string   `name:"tls-cert" placeholder:"FILE" help:"PEM certificate chain for DoT and DoH (re-read on reload)."`
	TLSKey        string   `name:"tls-key" placeholder:"FILE" help:"PEM private key of --tls-cert."`
	SelfSigned    bool     `name:"self-signed" help:"Make a self-signed certificate for loopback tests of DoT and DoH (logged with its SPKI pin)."`
	SelfSignedOut string   `name:"self-signed-cert" placeholder:"FILE" help:"With --self-signed: write the certificate here, for clients to trust (curl --cacert, kdig +tls-ca)."`
	Control       string   `name:"control" placeholder:"PATH" help:"Listen for 'addrwalk ctl' on this Unix socket (mode 0600; \"default\" is /run/addrwalk/control.sock)."`
	UIRing        int      `name:"ui-ring" placeholder:"N" help:"Resolutions the debug listener's /ui/ page keeps with their traces (default 256; -1 turns the page and tracing off)."`

	// ready, when set (by tests), receives the bound addresses once the
	// server is serving.
	ready func(dns []netip.AddrPort, metrics netip.AddrPort) `kong:"-"`
	// readyEncrypted, when set (by tests), receives the bound DoT and DoH
	// addresses once the server is serving.
	readyEncrypted func(dot, doh []netip.AddrPort) `kong:"-"`
	// notify, when set (by tests), replaces $NOTIFY_SOCKET's notifier.
	notify *sdnotify.Notifier `kong:"-"`
	// setMemoryLimit and setGCPercent, when set (by tests), replace
	// debug.SetMemoryLimit and debug.SetGCPercent (memlimit.go,
	// gctarget.go).
	setMemoryLimit func(int64) int64 `kong:"-"`
	setGCPercent   func(int) int     `kong:"-"`
	// reload, when set (by tests), replaces SIGHUP as the reload trigger:
	// each request is answered with the reload's result once it is done.
	reload <-chan chan error `kong:"-"`
}

// Run serves until the context ends (SIGINT, SIGTERM); SIGHUP reloads.
func (c *ServeCmd) Run(g *Globals) error {
	cfg, err := c.load()
	if err != nil {
		return withExit(ExitUsage, err)
	}
	if c.SelfSigned {
		// Written at start-up, once the certificate is made.
		if err := checkOutput("--self-signed-cert", c.SelfSignedOut); err != nil {
			return err
		}
	}
	if c.CheckConfig {
		if err := checkReferenced(cfg); err != nil {
			return withExit(ExitUsage, err)
		}
		for _, w := range exposureWarnings(cfg) {
			fmt.Fprintf(g.Stderr, "addrwalk: warning: %s\n", w)
		}
		fmt.Fprintln(g.Stdout, "configuration OK")
		return nil
	}
	level := new(slog.LevelVar)
	level.Set(cfg.Log.Level)
	log := slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: level}))
	for _, w := range exposureWarnings(cfg) {
		log.Warn(w)
	}
	// Debug, not info: startup prints nothing but problems. /metrics
	// shows the limit in force (go_gc_gomemlimit_bytes).
	limiter := applyMemoryLimit(cfg, os.Getenv, c.setMemoryLimit)
	if limiter != nil {
		defer limiter.restore()
		log.Debug("memory limit set from [cache] size and the resolutions running (GOMEMLIMIT overrides)", "bytes", limiter.update(0))
	} else {
		log.Debug("memory limit left to GOMEMLIMIT", "GOMEMLIMIT", os.Getenv("GOMEMLIMIT"))
	}
	gc := applyGCTarget(cfg, os.Getenv, c.setGCPercent, nil, nil)
	if gc != nil {
		defer gc.restore()
		log.Debug("garbage collector target set from the live heap (GOGC overrides)", "percent", gc.update())
	}

	shared, err := newServeShared(cfg)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	defer shared.close()
	if shared.cachedb, err = openCacheDB(cfg, log); err != nil {
		return withExit(ExitUsage, err)
	}
	var metrics *server.Metrics
	if cfg.Server.Metrics != nil || cfg.Control.Enabled() {
		metrics = server.NewMetrics()
		if shared.cachedb != nil {
			metrics.Registry().MustRegister(shared.cachedb)
		}
	}
	res, err := buildResolver(cfg, shared, metrics, log)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	settings, err := buildSettings(cfg, res)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	metrics.SetCacheSource(res)
	ring := newUIRing(cfg, c.UIRing)
	h, err := server.NewHandler(server.HandlerConfig{
		Settings:           settings,
		UDPSize:            uint16(cfg.Server.UDPSize),
		MaxInflight:        cfg.Server.MaxInflight,
		JostleTimeout:      time.Duration(cfg.Server.JostleTimeout),
		ResolveTimeout:     resolveTimeout(cfg),
		PacketCacheEntries: cfg.Server.PacketCacheEntries,
		PacketCacheBytes:   cache.SplitBudget(int64(cfg.Cache.Size)).Packets,
		Metrics:            metrics,
		Logger:             log,
		Traces:             ring.sink(),
	})
	if err != nil {
		return withExit(ExitUsage, err)
	}
	defer h.Close()
	if limiter != nil || gc != nil {
		// Stopped before the limit and the target are put back (defers
		// run last first).
		followCtx, stopFollow := context.WithCancel(g.Ctx)
		ticker := time.NewTicker(memoryFollowInterval)
		done := make(chan struct{})
		go func() {
			defer close(done)
			followMemory(followCtx, ticker.C, h.Inflight, limiter, gc)
		}()
		defer func() { stopFollow(); <-done; ticker.Stop() }()
	}
	certs, err := newCertStore(cfg, c.SelfSigned, c.SelfSignedOut, log)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	shared.certs = certs
	act, err := activatedSockets(log)
	if err != nil {
		return withExit(ExitUsage, err)
	}
	srvCfg := server.Config{
		Encrypted: server.EncryptedConfig{
			DoT: cfg.Server.DoTListen, DoH: cfg.Server.DoHListen, TLS: certs.tlsConfig(),
			DoHPath: cfg.Server.DoHPath, DoHTrustedProxies: cfg.Server.DoHTrustedProxies,
		},
		Listen:               cfg.Server.Listen,
		Handler:              h,
		MaxInflight:          cfg.Server.MaxInflight,
		MaxTCPConns:          cfg.Server.MaxTCPConnections,
		MaxTCPConnsPerClient: cfg.Server.MaxTCPConnectionsPerClient,
		TCPIdleTimeout:       time.Duration(cfg.Server.TCPIdleTimeout),
		Logger:               log,
	}
	useActivated(&act, &srvCfg)
	srv, err := server.New(srvCfg)
	if err != nil {
		act.Close()
		return withExit(ExitUsage, err)
	}
	if err := srv.Start(g.Ctx); err != nil {
		if errors.Is(err, server.ErrNoCertificate) {
			return withExit(ExitUsage, err) // a configuration mistake
		}
		return listenErr(err)
	}
	var metricsAddr netip.AddrPort
	if cfg.Server.Metrics != nil {
		dbg, err := server.ServeDebug(g.Ctx, *cfg.Server.Metrics, debugHandler(h, metrics, ring))
		if err != nil {
			_ = srv.Shutdown(context.Background())
			return listenErr(err)
		}
		defer func() { _ = dbg.Shutdown(context.Background()) }()
		metricsAddr = dbg.Addr()
	}
	if shared.trust != nil {
		// Stopped with the context; waited for before the caches close.
		refreshCtx, stopRefresh := context.WithCancel(g.Ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			refreshTrustAnchors(refreshCtx, h, log)
		}()
		defer func() { stopRefresh(); <-done }()
	}
	ctl := &serveControl{reloads: make(chan chan error)}
	ctl.cfg.Store(cfg)
	if cfg.Control.Enabled() {
		var ls []control.Listener
		for _, a := range srv.Addrs() {
			ls = append(ls, control.Listener{Transport: "udp", Addr: a.String()}, control.Listener{Transport: "tcp", Addr: a.String()})
		}
		dot, doh := srv.EncryptedAddrs()
		for _, a := range dot {
			ls = append(ls, control.Listener{Transport: "dot", Addr: a.String()})
		}
		for _, a := range doh {
			ls = append(ls, control.Listener{Transport: "doh", Addr: "https://" + a.String() + dohPath(cfg)})
		}
		if metricsAddr.IsValid() {
			ls = append(ls, control.Listener{Transport: "metrics", Addr: metricsAddr.String()})
		}
		ctlCtx, stopCtl := context.WithCancel(g.Ctx)
		wait, err := ctl.start(ctlCtx, cfg, c.Config, shared, h, metrics, ls, log)
		if err != nil {
			stopCtl()
			_ = srv.Shutdown(context.Background())
			if errors.Is(err, control.ErrRemoteTLS) {
				return withExit(ExitUsage, err) // a configuration mistake
			}
			return listenErr(err)
		}
		defer func() { stopCtl(); wait() }()
	}
	log.Info("serving", "listen", srv.Addrs(), "metrics", metricsAddr, "control", cfg.Control.ControlSocket(), "remote_control", cfg.Control.Remote)
	if c.ready != nil {
		c.ready(srv.Addrs(), metricsAddr)
	}
	if c.readyEncrypted != nil {
		c.readyEncrypted(srv.EncryptedAddrs())
	}
	// systemd (Type=notify): every listener is bound and the trust
	// anchors are loaded.
	notify := c.notify
	if notify == nil {
		notify = sdnotify.FromEnv()
	}
	status := fmt.Sprintf("STATUS=serving on %v", srv.Addrs())
	if err := notify.Notify(sdnotify.Ready + "\n" + status); err != nil {
		log.Warn("systemd notification", "err", err)
	}
	// The watchdog is fed from the serve loop, so a wedged loop stops
	// feeding it and systemd restarts the service.
	var watchdog <-chan time.Time
	if iv, ok := sdnotify.WatchdogInterval(); ok && notify.Enabled() {
		tk := time.NewTicker(iv)
		defer tk.Stop()
		watchdog = tk.C
	}

	reload := c.reload
	if reload == nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		ch := make(chan chan error)
		go func() {
			for range hup {
				select {
				case ch <- make(chan error, 1): // nobody waits for a signal's result
				case <-g.Ctx.Done():
					return
				}
			}
		}()
		reload = ch
	}
	doReload := func() error {
		next, err := c.reloadConfig(cfg, shared, metrics, log, h)
		if err != nil {
			log.Error("reload failed; keeping the running configuration", "err", err)
			return err
		}
		level.Set(next.Log.Level)
		cfg = next
		ctl.cfg.Store(cfg)
		log.Info("configuration reloaded")
		return nil
	}
	for {
		select {
		case reply := <-reload:
			_ = notify.Notify(sdnotify.Reloading)
			reply <- doReload()
			_ = notify.Notify(sdnotify.Ready + "\n" + status)
		case reply := <-ctl.reloads:
			_ = notify.Notify(sdnotify.Reloading)
			reply <- doReload()
			_ = notify.Notify(sdnotify.Ready + "\n" + status)
		case <-watchdog:
			_ = notify.Notify(sdnotify.Watchdog)
		case <-g.Ctx.Done():
			_ = notify.Notify(sdnotify.Stopping)
			log.Info("shutting down", "grace", time.Duration(cfg.Server.ShutdownGrace))
			sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Server.ShutdownGrace))
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("shutdown", "err", err)
			}
			return nil
		}
	}
}

// resolveTimeout bounds a resolution the server starts: the resolver's
// request timeout (which it enforces itself) plus a margin, or the
// server's default when the resolver uses its own default.
func resolveTimeout(cfg *config.Config) time.Duration {
	if cfg.Resolver.RequestTimeout == 0 {
		return 0
	}
	return time.Duration(cfg.Resolver.RequestTimeout) + time.Second
}

// load reads the config file (if any), applies the flags and the defaults.
func (c *ServeCmd) load() (*config.Config, error) {
	cfg := &config.Config{}
	if c.Config != "" {
		var err error
		if cfg, err = config.Load(c.Config); err != nil {
			return nil, err
		}
	}
	if err := c.applyFlags(cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.ApplyDefaults()
	return cfg, nil
}

// applyFlags puts the flags that were given on top of cfg.
func (c *ServeCmd) applyFlags(cfg *config.Config) error {
	if len(c.Listen) > 0 {
		cfg.Server.Listen = nil
		for _, s := range c.Listen {
			ap, err := netip.ParseAddrPort(s)
			if err != nil {
				return fmt.Errorf("--listen %q: want ADDR:PORT, e.g. 127.0.0.1:53 or [::1]:53", s)
			}
			cfg.Server.Listen = append(cfg.Server.Listen, ap)
		}
	}
	if c.Metrics != "" {
		ap, err := netip.ParseAddrPort(c.Metrics)
		if err != nil {
			return fmt.Errorf("--metrics %q: want ADDR:PORT, e.g. 127.0.0.1:9153", c.Metrics)
		}
		cfg.Server.Metrics = &ap
	}
	if len(c.Allow) > 0 {
		cfg.Access.Allow = nil
		for _, s := range c.Allow {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return fmt.Errorf("--allow %q: want a CIDR prefix, e.g. 192.0.2.0/24", s)
			}
			cfg.Access.Allow = append(cfg.Access.Allow, p)
		}
	}
	if c.RootHints != "" {
		cfg.Resolver.RootHints = c.RootHints
		cfg.SetBy("resolver.root-hints", "--root-hints")
	}
	if c.AllowLoopback {
		cfg.Resolver.AllowLoopback = true
	}
	if c.Port != 0 {
		cfg.Resolver.Port = int(c.Port)
	}
	if c.NoQmin {
		off := false
		cfg.Resolver.QNAMEMinimisation = &off
	}
	if c.TrustAnchor != "" {
		cfg.DNSSEC.TrustAnchorFile, cfg.DNSSEC.TrustAnchors = c.TrustAnchor, nil
		cfg.SetBy("dnssec.trust-anchor-file", "--trust-anchor")
		if cfg.DNSSEC.Validation == "off" {
			cfg.DNSSEC.Validation = "on"
		}
	}
	if c.NoValidate {
		cfg.DNSSEC.Validation = "off"
	}
	if c.LogLevel != "" {
		if err := cfg.Log.Level.UnmarshalText([]byte(c.LogLevel)); err != nil {
			return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
		}
	}
	if c.QueryLog {
		cfg.Log.Queries = true
	}
	for _, l := range []struct {
		flag string
		in   []string
		out  *[]netip.AddrPort
	}{{"--dot", c.DoT, &cfg.Server.DoTListen}, {"--doh", c.DoH, &cfg.Server.DoHListen}} {
		if len(l.in) == 0 {
			continue
		}
		*l.out = nil
		for _, s := range l.in {
			ap, err := netip.ParseAddrPort(s)
			if err != nil {
				return fmt.Errorf("%s %q: want ADDR:PORT, e.g. 127.0.0.1:853", l.flag, s)
			}
			*l.out = append(*l.out, ap)
		}
	}
	if c.TLSCert != "" || c.TLSKey != "" {
		cfg.Server.TLSCert, cfg.Server.TLSKey = c.TLSCert, c.TLSKey
		cfg.SetBy("server.tls-cert", "--tls-cert")
		cfg.SetBy("server.tls-key", "--tls-key")
	}
	if c.Control != "" {
		cfg.Control.Socket = c.Control
		cfg.SetBy(control.SocketKey, "--control")
		if c.Control != "default" {
			abs, err := filepath.Abs(c.Control)
			if err != nil {
				return fmt.Errorf("--control %q: %w", c.Control, err)
			}
			cfg.Control.Socket = abs
		}
	}
	return nil
}

// serveShared is what outlives reloads: the caches, and the RFC 5011
// trust points (nil when not configured).
type serveShared struct {
	cache *cache.Cache
	infra *cache.Infra
	trust *dnssec.AutoTrust
	certs *certStore // DoT and DoH certificate; nil before Run sets it
	// cachedb is the [cachedb] shared second-level cache, or nil.
	cachedb *cachedb.Store
}

func newServeShared(cfg *config.Config) (*serveShared, error) {
	cc := cacheConfig(cfg)
	c, err := cache.New(&cc)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	in, err := cache.NewInfra(&cache.InfraConfig{MaxBytes: cache.SplitBudget(int64(cfg.Cache.Size)).Infra})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("cache: %w", err)
	}
	trust, err := loadAutoTrust(cfg)
	if err != nil {
		c.Close()
		in.Close()
		return nil, err
	}
	return &serveShared{cache: c, infra: in, trust: trust}, nil
}

func (s *serveShared) close() {
	if s.cachedb != nil {
		_ = s.cachedb.Close()
	}
	s.cache.Close()
	s.infra.Close()
}

// cacheConfig gives the resolver's cache its shares of the one memory
// budget, [cache] size (cache.SplitBudget: the packet cache and the infra
// cache get theirs in newServeShared and the handler).
func cacheConfig(cfg *config.Config) cache.Config {
	b := cache.SplitBudget(int64(cfg.Cache.Size))
	cc := cache.Config{
		MaxBytes:  b.Records,
		NSECBytes: b.NSEC,
		MinTTL:    time.Duration(cfg.Cache.MinTTL),
		MaxTTL:    time.Duration(cfg.Cache.MaxTTL),
		MaxNegTTL: time.Duration(cfg.Cache.MaxNegativeTTL),
	}
	if cfg.Cache.ServeStale {
		cc.StaleMax = time.Duration(cfg.Cache.StaleMax)
	}
	if cfg.Cache.PrefetchMinHits > 0 {
		cc.PrefetchMinHits = uint32(cfg.Cache.PrefetchMinHits)
	}
	if cfg.DNSSEC.BogusTTL != nil {
		cc.BogusTTL = time.Duration(*cfg.DNSSEC.BogusTTL)
	}
	return cc
}

// buildResolver is the one place where the configuration becomes a
// resolver.Config; the caches come from shared so a reload keeps them.
func buildResolver(cfg *config.Config, shared *serveShared, metrics *server.Metrics, log *slog.Logger) (*resolver.Resolver, error) {
	var exclude []resolver.PortRange
	for _, s := range cfg.Resolver.OutgoingPortExclude {
		pr, err := resolver.ParsePortRange(s)
		if err != nil {
			return nil, fmt.Errorf("config: resolver.outgoing-port-exclude: %w", err)
		}
		exclude = append(exclude, pr)
	}
	rc := resolver.Config{
		ExcludeSourcePorts:     exclude,
		UnwantedReplyThreshold: cfg.Resolver.UnwantedReplyThreshold,
		Hardening: resolver.Hardening{
			CaseRandomisation:       cfg.Resolver.UseCapsForID,
			Cookies:                 cfg.Resolver.Cookies,
			ZoneRateLimit:           cfg.Resolver.RateLimit,
			MaxOutstandingPerServer: cfg.Resolver.MaxOutstandingPerServer,
			MaxOutstandingPerZone:   cfg.Resolver.MaxOutstandingPerZone,
		},
		Port:                     uint16(cfg.Resolver.Port),
		QueryTimeout:             time.Duration(cfg.Resolver.QueryTimeout),
		RequestTimeout:           time.Duration(cfg.Resolver.RequestTimeout),
		DisableIPv4:              cfg.Resolver.IPv4 != nil && !*cfg.Resolver.IPv4,
		DisableIPv6:              cfg.Resolver.IPv6 != nil && !*cfg.Resolver.IPv6,
		AllowLoopback:            cfg.Resolver.AllowLoopback,
		DisableQNAMEMinimisation: !cfg.Resolver.QNAMEMinimisationOn(),
		Cache:                    shared.cache,
		Infra:                    shared.infra,
		Prefetch:                 cfg.Cache.Prefetch,
		Logger:                   log,
	}
	if metrics != nil {
		rc.Metrics = metrics
	}
	if shared.cachedb != nil {
		rc.Shared = shared.cachedb
	}
	if cfg.Resolver.RootHints != "" {
		b, err := fileerr.ReadFile(cfg.Name("resolver.root-hints"), cfg.Resolver.RootHints, fileerr.MaxSmall)
		if err != nil {
			return nil, err
		}
		h, err := resolver.ParseHints(bytes.NewReader(b), cfg.Resolver.RootHints)
		if err != nil {
			return nil, err
		}
		rc.Hints = h
	}
	if err := dnssecConfig(&rc, cfg); err != nil {
		return nil, err
	}
	up, err := upstreamTLS(cfg)
	if err != nil {
		return nil, err
	}
	rc.UpstreamTLS = up
	if shared.trust != nil && cfg.DNSSEC.Validation != "off" {
		// The trust points hold the anchors now, and keep them current.
		rc.TrustAnchors, rc.AutoTrust = nil, shared.trust
	}
	for _, zl := range []struct {
		in  []config.Zone
		out *[]resolver.ZoneConfig
	}{{cfg.Forward, &rc.Forward}, {cfg.Stub, &rc.Stub}} {
		for _, z := range zl.in {
			zc := resolver.ZoneConfig{Zone: z.Zone}
			for _, s := range z.Servers {
				zc.Servers = append(zc.Servers, s.AddrPort())
			}
			*zl.out = append(*zl.out, zc)
		}
	}
	return resolver.New(rc)
}

// buildSettings makes the reloadable server settings.
func buildSettings(cfg *config.Config, res server.Resolver) (server.Settings, error) {
	s := server.Settings{
		Resolver: res,
		ACL:      server.ACL{Allow: cfg.Access.Allow, Deny: cfg.Access.Deny},
		RateLimit: server.RateLimit{QPS: cfg.Access.RateLimit, Burst: cfg.Access.RateBurst, Entries: cfg.Access.RateLimitEntries,
			Slip: cfg.Access.RateSlip},
		QueryLog:  cfg.Log.Queries,
		MinTTL:    time.Duration(cfg.Cache.MinTTL),
		MaxTTL:    time.Duration(cfg.Cache.MaxTTL),
		MaxNegTTL: time.Duration(cfg.Cache.MaxNegativeTTL),
		Prefetch:  cfg.Cache.Prefetch,
	}
	if len(cfg.Local.Records) > 0 || cfg.Local.HostsFile != "" {
		l := server.NewLocal()
		for _, r := range cfg.Local.Records {
			if err := l.AddRecord(r); err != nil {
				return s, err
			}
		}
		if cfg.Local.HostsFile != "" {
			f, err := fileerr.Open("local.hosts-file", cfg.Local.HostsFile)
			if err != nil {
				return s, err
			}
			err = l.AddHosts(f, cfg.Local.HostsFile)
			f.Close()
			if err != nil {
				return s, err
			}
		}
		s.Local = l
	}
	return s, nil
}

// reloadConfig re-reads the configuration and installs it. The caches are
// kept; the packet cache is kept too unless what shapes answers changed.
func (c *ServeCmd) reloadConfig(old *config.Config, shared *serveShared, metrics *server.Metrics, log *slog.Logger, h *server.Handler) (*config.Config, error) {
	next, err := c.load()
	if err != nil {
		return nil, err
	}
	if shared.certs != nil {
		// First: a bad certificate fails the reload before anything
		// changed.
		if err := shared.certs.reload(next); err != nil {
			return nil, err
		}
	}
	var warn []string
	if !reflect.DeepEqual(old.Server, next.Server) {
		warn = append(warn, "[server]")
	}
	if !reflect.DeepEqual(old.Cache, next.Cache) {
		warn = append(warn, "[cache] size and TTL bounds")
	}
	if old.DNSSEC.AutoTrustAnchorFile != next.DNSSEC.AutoTrustAnchorFile {
		warn = append(warn, "[dnssec] auto-trust-anchor-file")
	}
	if !reflect.DeepEqual(old.CacheDB, next.CacheDB) {
		warn = append(warn, "[cachedb]")
	}
	if len(warn) > 0 {
		log.Warn("changes need a restart to take effect", "sections", strings.Join(warn, ", "))
	}
	res, err := buildResolver(next, shared, metrics, log)
	if err != nil {
		return nil, err
	}
	settings, err := buildSettings(next, res)
	if err != nil {
		res.Close()
		return nil, err
	}
	settings.KeepAnswers = reflect.DeepEqual(old.Resolver, next.Resolver) &&
		reflect.DeepEqual(old.Forward, next.Forward) && reflect.DeepEqual(old.Stub, next.Stub) &&
		reflect.DeepEqual(old.Cache, next.Cache)
	prev := h.Settings().Resolver
	if err := h.Reload(settings); err != nil {
		res.Close()
		return nil, err
	}
	metrics.SetCacheSource(res)
	if r, ok := prev.(*resolver.Resolver); ok {
		// Close drains it: the queries in flight on it finish (a
		// query that picks it after the swap is put to the new one),
		// then its prefetches are cancelled and waited for. The caches
		// belong to shared and stay open.
		go r.Close()
	}
	return next, nil
}

// dnssecConfig sets the trust anchors from the [dnssec] section: the
// configured ones, else IANA's root keys when the real root is used
// ("auto"), else none.
func dnssecConfig(rc *resolver.Config, cfg *config.Config) error {
	d := cfg.DNSSEC
	if d.Validation == "off" {
		return nil
	}
	text := strings.Join(d.TrustAnchors, "\n")
	if d.TrustAnchorFile != "" {
		b, err := fileerr.ReadFile(cfg.Name("dnssec.trust-anchor-file"), d.TrustAnchorFile, fileerr.MaxSmall)
		if err != nil {
			return err
		}
		text += "\n" + string(b)
	}
	switch {
	case strings.TrimSpace(text) != "":
		a, err := dnssec.ParseAnchors(text)
		if err != nil {
			return fmt.Errorf("configured trust anchors: %w", err)
		}
		rc.TrustAnchors = a
	case cfg.Resolver.RootHints == "":
		rc.TrustAnchors = dnssec.RootAnchors()
	}
	rc.KeyTagSignal = d.TrustAnchorSignaling
	if d.SigSkewMin != nil {
		rc.Validation.SigSkewMin = max(time.Duration(*d.SigSkewMin), time.Nanosecond) // 0 would mean the default
	}
	if d.SigSkewMax != nil {
		rc.Validation.SigSkewMax = time.Duration(*d.SigSkewMax)
		if rc.Validation.SigSkewMax == 0 {
			rc.Validation.SigSkewMax = -1 // exact: no allowance
		}
	}
	if n := d.NSEC3MaxIterations; n != nil {
		rc.Validation.NSEC3Iterations = *n
		if *n == 0 {
			rc.Validation.NSEC3Iterations = -1 // 0 in Limits means the default
		}
	}
	if names := append(slices.Clip(d.NegativeAnchors), d.DomainInsecure...); len(names) > 0 {
		n, err := dnssec.NewNegativeAnchors(names...)
		if err != nil {
			return fmt.Errorf("dnssec.negative-anchors or domain-insecure: %w", err)
		}
		rc.NegativeAnchors = n
	}
	return nil
}
