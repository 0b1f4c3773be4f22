package cli

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/internal/config"
)

// durationTypes are the flag types that read a duration by package
// duration's rule, with the unit a bare number is in.
var durationTypes = map[reflect.Type]time.Duration{
	reflect.TypeFor[durationFlag](): time.Second,
	reflect.TypeFor[intervalFlag](): time.Second,
	reflect.TypeFor[millisFlag]():   time.Millisecond,
}

// notDurations are flags whose name or help looks like a time but that are
// not read by the one rule, each with the reason.
var notDurations = map[string]string{
	"arp scan --interval":  "arp-scan's own syntax: milliseconds, or microseconds with a u suffix (500u); the rest is duration.ParseUnit",
	"sim --latency-scale":  "a factor, not a time",
	"arp scan --backoff":   "a factor, not a time",
	"serve --control":      "a path",
	"arp --no-cache":       "a switch",
	"ndp --no-cache":       "a switch",
	"arp scan --bandwidth": "bits per second",
}

// looksLikeTime matches a flag whose name or help speaks of a length of time.
var looksLikeTime = regexp.MustCompile(`(?i)timeout|wait|deadline|interval|duration|latency|ttl|grace|delay`)

// TestDurationFlags walks every flag of every command in the kong model:
// each one that holds a time uses one of durationTypes (never kong's own
// time.Duration mapper, which refuses "5"), and each reads the same table
// of inputs the same way, the way the configuration file reads them.
func TestDurationFlags(t *testing.T) {
	var durFlags []modelFlag
	for _, mf := range modelFlags(t) {
		typ := mf.flag.Target.Type()
		if _, ok := durationTypes[typ]; ok {
			durFlags = append(durFlags, mf)
			continue
		}
		if typ == reflect.TypeFor[time.Duration]() {
			t.Errorf("%s is a time.Duration: use durationFlag (the one rule)", mf)
			continue
		}
		if _, ok := notDurations[mf.String()]; ok {
			continue
		}
		if typ.Kind() != reflect.Bool && looksLikeTime.MatchString(mf.flag.Name) {
			t.Errorf("%s (%v) looks like a time but is not a durationFlag; make it one or list it in notDurations with the reason", mf, typ)
		}
	}
	// The flags known today; the walk must find at least these.
	for _, want := range []string{"resolve --timeout", "resolve --query-timeout", "path --timeout", "path --arp-timeout", "ctl --timeout", "arp probe --deadline", "arp probe --interval", "arp scan --timeout", "arp watch --duration", "ndp probe --wait"} {
		found := false
		for _, mf := range durFlags {
			found = found || mf.String() == want
		}
		if !found {
			t.Errorf("duration flag %s not found in the model", want)
		}
	}

	type row struct {
		in   string
		want float64 // in units of the flag's bare-number unit; <0: an error
		err  string
	}
	rows := []row{
		{"5", 5, ""},
		{"0.3", 0.3, ""},
		{"1m30s", -2, ""}, // -2: 90 s whatever the unit
		{"200ms", -3, ""}, // -3: 200 ms whatever the unit
		{"-1", -1, "is negative"},
		{"5 parsecs", -1, "is not a duration"},
		{"1e3", -1, "is not a duration"},
	}
	for _, mf := range durFlags {
		unit := durationTypes[mf.flag.Target.Type()]
		for _, r := range rows {
			t.Run(mf.String()+"="+r.in, func(t *testing.T) {
				target := reflect.New(mf.flag.Target.Type()).Elem()
				err := mf.flag.Value.Parse(kong.ScanFromTokens(kong.Token{Type: kong.FlagValueToken, Value: r.in}), target)
				if r.err != "" {
					if err == nil || !strings.Contains(err.Error(), r.err) {
						t.Fatalf("error %v, want %q", err, r.err)
					}
					if !strings.Contains(err.Error(), "--"+mf.flag.Name) {
						t.Errorf("error %q does not name the flag", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want := time.Duration(r.want * float64(unit))
				switch r.want {
				case -2:
					want = 90 * time.Second
				case -3:
					want = 200 * time.Millisecond
				}
				if diff := cmp.Diff(want, time.Duration(target.Int())); diff != "" {
					t.Errorf("value (-want +got):\n%s", diff)
				}
				// The configuration file reads the same text the same
				// way (for flags whose bare unit is the second).
				if unit == time.Second {
					var c config.Duration
					if err := c.UnmarshalText([]byte(r.in)); err != nil || time.Duration(c) != want {
						t.Errorf("config reads %q as %v, %v; the flag as %v", r.in, time.Duration(c), err, want)
					}
				}
			})
		}
		if mf.flag.PlaceHolder == "" {
			t.Errorf("%s has no placeholder", mf)
		}
		if want := map[time.Duration]string{time.Second: "SECONDS", time.Millisecond: "MS"}[unit]; mf.flag.PlaceHolder != want {
			t.Errorf("%s placeholder %q, want %q (the bare-number unit)", mf, mf.flag.PlaceHolder, want)
		}
	}
}

// TestDurationFlagsCLI runs the rule through the whole command line.
func TestDurationFlagsCLI(t *testing.T) {
	hints, port := simHints(t)
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		stderr   string
	}{
		{"resolve bare seconds", []string{"resolve", "--root-hints", hints, "--port", port, "--allow-loopback", "--no-validate", "--timeout", "5", "--query-timeout", "0.5", "www.example.org"}, ExitOK, ""},
		// The flags are accepted; what the walk finds is not this test's business.
		{"path bare seconds", []string{"path", "--sim", "--no-hosts", "--timeout", "5", "--arp-timeout", "0.001", "nonexistent.example.org"}, ExitDNSNoReply, "NXDOMAIN"},
		{"resolve unit word", []string{"resolve", "--timeout", "5 seconds", "www.example.org"}, ExitUsage, `--timeout: "5 seconds" is not a duration; want a number of seconds (fractions allowed) or a number with a unit (200ms, 90s, 1h30m)`},
		{"resolve zero", []string{"resolve", "--root-hints", hints, "--timeout", "0", "www.example.org"}, ExitUsage, "--timeout must be more than 0"},
		{"path arp-timeout fraction zero", []string{"path", "--sim", "--arp-timeout", "0", "www.example.org"}, ExitUsage, "--arp-timeout must be more than 0"},
		{"ctl negative", []string{"ctl", "--timeout=-1", "status"}, ExitUsage, `--timeout: "-1" is negative`},
		{"ctl negative as a flag", []string{"ctl", "--timeout", "-1", "status"}, ExitUsage, `--timeout: "-1" is negative`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.wantCode, tt.stderr)
			}
		})
	}
}
