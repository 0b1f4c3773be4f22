package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/server"
)

// autoTrustKey is the configuration key naming the RFC 5011 state file.
const autoTrustKey = "dnssec.auto-trust-anchor-file"

// loadAutoTrust opens the RFC 5011 state file named by
// [dnssec] auto-trust-anchor-file: its trust points if it exists, else
// trust points seeded with the configured anchors (IANA's root keys by
// default), written out at once so a path that cannot be written fails at
// start-up rather than at the first key change. nil when not configured
// or validation is off.
func loadAutoTrust(cfg *config.Config) (*dnssec.AutoTrust, error) {
	path := cfg.DNSSEC.AutoTrustAnchorFile
	if path == "" || cfg.DNSSEC.Validation == "off" {
		return nil, nil
	}
	var points []*dnssec.TrustPoint
	b, err := fileerr.ReadFile(autoTrustKey, path, fileerr.MaxSmall)
	switch {
	case err == nil:
		if points, err = dnssec.ParseTrustPoints(string(b), time.Now()); err != nil {
			return nil, fmt.Errorf("%s %s: %w", autoTrustKey, path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		var rc resolver.Config
		if err := dnssecConfig(&rc, cfg); err != nil {
			return nil, err
		}
		anchors := rc.TrustAnchors
		if anchors == nil {
			anchors = dnssec.RootAnchors()
		}
		for _, z := range anchors.Zones() {
			ds, keys := anchors.Lookup(z)
			tp := &dnssec.TrustPoint{Zone: z, Seed: ds}
			for _, k := range keys {
				tp.Keys = append(tp.Keys, dnssec.AutoKey{Key: k, State: dnssec.KeyValid, Since: time.Now()})
			}
			points = append(points, tp)
		}
		if err := saveTrustPoints(path, points); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return dnssec.NewAutoTrust(points, func(tps []*dnssec.TrustPoint) error { return saveTrustPoints(path, tps) }), nil
}

// saveTrustPoints writes the state file atomically: a temporary file in
// the same directory, synced, then renamed over the old one, so a crash
// never leaves half a file.
func saveTrustPoints(path string, tps []*dnssec.TrustPoint) error {
	var buf bytes.Buffer
	if err := dnssec.WriteTrustPoints(&buf, tps); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fileerr.Write(autoTrustKey, path, err)
	}
	_, werr := f.Write(buf.Bytes())
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
		return fileerr.Write(autoTrustKey, path, werr)
	}
	return nil
}

// refreshTrustAnchors runs the RFC 5011 active refresh until ctx ends,
// with whichever resolver the handler serves with (reloads replace it).
// A failed round is logged and retried on the RFC 5011 retry schedule.
func refreshTrustAnchors(ctx context.Context, h *server.Handler, log *slog.Logger) {
	for {
		next := time.Hour // until a resolver says otherwise
		if r, ok := h.Settings().Resolver.(*resolver.Resolver); ok {
			d, err := r.RefreshTrustAnchors(ctx)
			if err != nil && ctx.Err() == nil {
				log.Warn("trust anchor refresh (RFC 5011) failed; retrying", "err", err, "in", d)
			}
			if d > 0 {
				next = d
			}
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
