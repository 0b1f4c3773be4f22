package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/control"
	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/resolver/cache"
	"github.com/addrwalk/addrwalk/resolver/cachedb"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// checkReferenced reads every file the configuration points at, the way
// serve reads them, without binding or writing anything: root hints,
// trust anchor files, the auto-trust-anchor file (or, when it does not
// exist yet, that its directory does and can be written), hosts files,
// the control socket's directory, the remote control
// certificates and the shared cache's password and TLS files.
func checkReferenced(cfg *config.Config) error {
	var errs []error
	if p := cfg.DNSSEC.AutoTrustAnchorFile; p != "" && cfg.DNSSEC.Validation != "off" {
		b, err := fileerr.ReadFile(autoTrustKey, p, fileerr.MaxSmall)
		switch {
		case err == nil:
			if _, err := dnssec.ParseTrustPoints(string(b), time.Now()); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", autoTrustKey, p, err))
			}
		case errors.Is(err, fs.ErrNotExist):
			// serve creates it: its directory must take a new file.
			if err := writableDir(filepath.Dir(p)); err != nil {
				errs = append(errs, fileerr.Write(autoTrustKey, p, err))
			}
		default:
			errs = append(errs, err)
		}
	}
	// The default socket's directory is made by systemd
	// (RuntimeDirectory=addrwalk) when the service starts.
	if s := cfg.Control.ControlSocket(); s != "" && s != config.DefaultControlSocket {
		if st, err := os.Stat(filepath.Dir(s)); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("%s %s: its directory %s does not exist", cfg.Name(control.SocketKey), s, filepath.Dir(s)))
		}
	}
	if c := &cfg.Control; c.Remote != nil {
		// serve does not start without them (ServerTLS reads them).
		if _, err := control.ServerTLS(remoteFiles(c)); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.CacheDB.Enabled() {
		if err := cacheDBFiles(&cfg.CacheDB, &cachedb.Config{}); err != nil {
			errs = append(errs, err)
		}
	}
	// The certificate DoT and DoH would serve with (not a self-signed
	// one, which is made at start).
	if cfg.Server.Encrypted.TLSCert != "" {
		if err := new(certStore).reload(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	// The resolver and the server settings read the root hints, the
	// trust anchors, the local records and the hosts file.
	c, err := cache.New(&cache.Config{})
	if err != nil {
		return err
	}
	defer c.Close()
	in, err := cache.NewInfra(&cache.InfraConfig{})
	if err != nil {
		return err
	}
	defer in.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := buildResolver(cfg, &serveShared{cache: c, infra: in}, nil, quiet)
	if err != nil {
		errs = append(errs, err)
	} else {
		defer res.Close()
		if _, err := buildSettings(cfg, res); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// exposureWarnings are the settings that make the server reachable beyond
// this machine, said once at start-up (and by --check-config).
func exposureWarnings(cfg *config.Config) []string {
	var w []string
	for _, p := range cfg.Access.Allow {
		if p.Bits() == 0 {
			w = append(w, fmt.Sprintf("access.allow has %v: this is an open resolver, usable for amplification attacks; allow only your networks", p))
		}
	}
	if m := cfg.Server.Metrics; m != nil && !m.Addr().IsLoopback() {
		w = append(w, fmt.Sprintf("server.metrics %v is not on loopback: /metrics, /debug/trace and /debug/pprof answer anyone who can reach it", *m))
	}
	return w
}
