package sim

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// zoneFiles holds the zone files, named after their origin ("root.zone"
// for the root, "example.org.zone" for example.org.).
//
//go:embed zones/*.zone
var zoneFiles embed.FS

// Config configures the simulation. The zero value runs on a free port
// with realistic latency.
type Config struct {
	// Port all servers listen on; zero picks a free high port. 53 lets
	// ordinary tools query the servers (needs root).
	Port uint16
	// NoLatency turns simulated latency off, for fast tests.
	NoLatency bool
	// LatencyScale multiplies every server's latency; zero means 1.
	LatencyScale float64
	// OnQuery, if set, sees every query any server receives.
	OnQuery func(resolvertest.Query)
	// Logger receives the lab's debug messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock the signed zones are signed with at Start; nil
	// means time.Now. A validating resolver must use a clock within the
	// signatures' validity (an hour before to thirty days after).
	Now func() time.Time
	// Hosts adds that many generated hosts (GeneratedNames), five per
	// zone under com., net., org. and test., every other zone signed, on
	// 32 server pairs (generated.go); 0 adds none. At most
	// MaxGeneratedHosts.
	Hosts int
}

// New builds the simulated internet as an unstarted lab: call its Start
// (or resolvertest.Start in a test) and Close. lab.RootHints() gives the
// hints a resolver starts from, and lab.TrustAnchor() the DS of the
// signed root for a validating resolver (the keys are new every time).
func New(cfg Config) (*resolvertest.Lab, error) {
	zones, err := Zones()
	if err != nil {
		return nil, err
	}
	gen, err := generate(cfg.Hosts)
	if err != nil {
		return nil, err
	}
	h := resolvertest.Hierarchy{Zones: zones, Signed: signing()}
	gen.addTo(&h)
	all := append(servers(), gen.servers...)
	for _, s := range all {
		h.Servers = append(h.Servers, resolvertest.Host{Name: s.name, Addr: s.addr, Zones: s.zones})
	}
	lab, err := h.Lab(resolvertest.Config{
		Port:    cfg.Port,
		OnQuery: cfg.OnQuery,
		Logger:  cfg.Logger,
		Now:     cfg.Now,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	scale := cfg.LatencyScale
	if scale == 0 {
		scale = 1
	}
	for _, s := range all {
		f := s.faults
		if !cfg.NoLatency {
			f.Latency = time.Duration(float64(s.latency) * scale)
		}
		lab.Server(s.name).SetFaults(f)
	}
	return lab, nil
}

// Zones returns the text of every zone of the simulation by origin.
func Zones() (map[string]string, error) {
	entries, err := fs.Glob(zoneFiles, "zones/*.zone")
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	out := make(map[string]string, len(entries))
	for _, name := range entries {
		b, err := zoneFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		out[originOf(path.Base(name))] = string(b)
	}
	return out, nil
}

// originOf maps a zone file name to its origin: "root.zone" is ".",
// "example.org.zone" is "example.org.".
func originOf(file string) string {
	if file == "root.zone" {
		return "."
	}
	return strings.TrimSuffix(file, "zone")
}
