package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/dnssec"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest/labresolver"
)

// TestExamplesValidated resolves every example with a resolver that
// validates with the simulation's trust anchor.
func TestExamplesValidated(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lab, err := New(Config{NoLatency: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	r := labresolver.New(t, lab, func(c *resolver.Config) {
		c.TrustAnchors = labresolver.TrustAnchors(t, lab)
		c.Now = func() time.Time { return now.Add(time.Minute) }
	})

	// insecure lists the examples in unsigned zones (under signed
	// parents); every other example that is not dnssec-bogus-* is Secure.
	insecure := map[string]bool{
		"glueless": true, "dead-server": true, "lame-refused": true, "lame-upward": true,
		"ptr": true, "bulk": true, "dnssec-insecure": true,
	}
	// reasons are the dnssec sentinels the bogus examples fail with.
	reasons := map[string]error{
		"dnssec-bogus-expired":       dnssec.ErrSignatureExpired,
		"dnssec-bogus-not-yet-valid": dnssec.ErrSignatureNotYetValid,
		"dnssec-bogus-wrong-ds":      dnssec.ErrDNSKEYMissing,
		"dnssec-bogus-missing-sig":   dnssec.ErrRRSIGsMissing,
		"dnssec-bogus-bad-sig":       dnssec.ErrInvalidSignature,
		"dnssec-bogus-no-nsec":       dnssec.ErrWildcardProofMissing,
	}
	for _, ex := range Examples() {
		t.Run(ex.ID, func(t *testing.T) {
			res, err := r.Resolve(t.Context(), ex.Name, ex.Type)
			if strings.HasPrefix(ex.ID, "dnssec-bogus-") {
				if !errors.Is(err, resolver.ErrBogus) {
					t.Fatalf("%s %s: err %v, want ErrBogus", ex.Name, dns.TypeToString[ex.Type], err)
				}
				if reason, ok := reasons[ex.ID]; !ok || !errors.Is(err, reason) {
					t.Errorf("%s %s: err %v, want it to wrap %v", ex.Name, dns.TypeToString[ex.Type], err, reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s %s: %v", ex.Name, dns.TypeToString[ex.Type], err)
			}
			want := dnssec.Secure
			if insecure[ex.ID] {
				want = dnssec.Insecure
			}
			if res.Security != want {
				t.Errorf("%s %s: %v, want %v", ex.Name, dns.TypeToString[ex.Type], res.Security, want)
			}
		})
	}
}

// TestStartupTime reports how long building, signing and starting the
// simulation takes; the brief is well under a second.
func TestStartupTime(t *testing.T) {
	start := time.Now()
	lab, err := New(Config{NoLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	resolvertest.Start(t, lab)
	total := time.Since(start)
	t.Logf("sim.New %v (key generation), New+Start %v (signing, binding)", built, total)
	if total > 5*time.Second {
		t.Errorf("start-up took %v", total)
	}
}
