// Package labresolver points a resolver at a resolvertest lab: the lab's
// root hints and port, loopback servers allowed and, for validation, the
// lab's trust anchor. It is apart from resolvertest because the resolver's
// own tests use resolvertest, which therefore cannot import the resolver.
//
// Files: labresolver.go (Config, New, TrustAnchors, LabMinRTO).
package labresolver

import (
	"fmt"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// Config returns the part of a resolver's configuration that
// points it at a started lab: the lab's root servers as hints, its port
// and loopback servers allowed (every lab server is on 127.0.0.0/8). It
// does not validate: a test that wants validation adds TrustAnchors, so a
// signed lab can serve validating and non-validating resolvers alike.
func Config(lab *resolvertest.Lab) (resolver.Config, error) {
	hints, err := resolver.ParseHints(strings.NewReader(lab.RootHints()), "lab")
	if err != nil {
		return resolver.Config{}, fmt.Errorf("labresolver: root hints: %w", err)
	}
	return resolver.Config{Hints: hints, Port: lab.Port(), AllowLoopback: true}, nil
}

// TrustAnchors returns the lab's trust anchor (TrustAnchor) parsed for a
// validating resolver's Config.TrustAnchors. It fails the test if the lab
// signs no zone or the anchor does not parse.
func TrustAnchors(tb resolvertest.TB, lab *resolvertest.Lab) *dnssec.Anchors {
	tb.Helper()
	text := lab.TrustAnchor()
	if text == "" {
		tb.Fatalf("labresolver: the lab signs no zone, so it has no trust anchor")
	}
	a, err := dnssec.ParseAnchors(text)
	if err != nil {
		tb.Fatalf("labresolver: trust anchor %q: %v", text, err)
	}
	return a
}

// New returns a resolver pointed at a started lab (Config),
// its configuration changed by mod if not nil. It fails the test if the
// resolver cannot be made and closes it when the test ends.
//
// Unless mod gives an Infra or an InfraConfig.MinRTO, the smallest
// per-query timeout is the whole query timeout (LabMinRTO): a lab answers
// in microseconds on an idle machine and in hundreds of milliseconds on
// one loaded with other tests, so the RTO learnt from a fast reply (50 ms,
// or the floor outright under a fake clock, whose RTTs are 0) would make
// a slow reply time out and be asked again of another server, and a test
// counting queries would see it.
func New(tb resolvertest.TB, lab *resolvertest.Lab, mod func(*resolver.Config)) *resolver.Resolver {
	tb.Helper()
	cfg, err := Config(lab)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	if mod != nil {
		mod(&cfg)
	}
	if cfg.Infra == nil && cfg.InfraConfig.MinRTO == 0 {
		cfg.InfraConfig.MinRTO = LabMinRTO(cfg.QueryTimeout)
	}
	r, err := resolver.New(cfg)
	if err != nil {
		tb.Fatalf("resolver.New: %v", err)
	}
	tb.Cleanup(r.Close)
	return r
}

// LabMinRTO returns the smallest RTO a resolver on a test lab should use
// (its InfraConfig.MinRTO): its query timeout, resolver.DefaultQueryTimeout
// when that is 0. New sets it; a test that builds its resolver itself uses
// it for the same reason.
func LabMinRTO(queryTimeout time.Duration) time.Duration {
	if queryTimeout <= 0 {
		return resolver.DefaultQueryTimeout
	}
	return queryTimeout
}
