package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/internal/duration"
)

// Duration is a time.Duration in the configuration, read by the one rule
// of package duration that the command line's flags follow too: a number
// of seconds (an integer, as Unbound reads it, or a fraction: 3600, 1.5,
// "90") or a string with a unit ("1500ms", "90s", "1h").
type Duration time.Duration

// UnmarshalTOML implements go-toml's unstable.Unmarshaler: data is the raw
// TOML value, a quoted string, an integer or a float.
func (d *Duration) UnmarshalTOML(data []byte) error {
	s := strings.TrimSpace(string(data))
	switch {
	case strings.HasPrefix(s, `"`):
		u, err := strconv.Unquote(s)
		if err != nil {
			return errDuration(s)
		}
		return d.UnmarshalText([]byte(u))
	case strings.HasPrefix(s, `'`) && strings.HasSuffix(s, `'`) && len(s) >= 2:
		return d.UnmarshalText([]byte(s[1 : len(s)-1]))
	}
	// A bare TOML number: underscores group digits (86_400).
	if s == "" || strings.ContainsAny(s[:1], "tf[{") { // true, false, arrays, tables
		return errDuration(s)
	}
	v, err := duration.Parse(strings.ReplaceAll(s, "_", ""))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalText implements encoding.TextUnmarshaler: a Go duration with a
// unit, or a bare number meaning seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := duration.Parse(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func errDuration(s string) error {
	return fmt.Errorf("%s is not a duration; want %s", s, duration.Syntax)
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// String returns the duration as time.Duration prints it.
func (d Duration) String() string { return time.Duration(d).String() }

// durationRange is the sane range of one duration key; zero always means
// "the default" and is allowed.
type durationRange struct {
	key      string
	v        func(*Config) *Duration
	min, max time.Duration
	why      string
}

const day = 24 * time.Hour

// durationRanges bounds every duration key. A value outside is almost
// always a unit mistake (3600 meant as seconds but read as something
// else, "1ms" for "1m"), so it is an error rather than clamped.
var durationRanges = []durationRange{
	{"resolver.query-timeout", func(c *Config) *Duration { return &c.Resolver.QueryTimeout }, 10 * time.Millisecond, time.Minute,
		"one upstream round trip: below 10ms nothing answers, above a minute a dead server stalls the walk"},
	{"resolver.request-timeout", func(c *Config) *Duration { return &c.Resolver.RequestTimeout }, 100 * time.Millisecond, 10 * time.Minute,
		"a whole resolution; clients give up after seconds"},
	{"cache.min-ttl", func(c *Config) *Duration { return &c.Cache.MinTTL }, 0, day,
		"raising TTLs beyond a day keeps changed data for too long"},
	{"cache.max-ttl", func(c *Config) *Duration { return &c.Cache.MaxTTL }, time.Second, time.Duration(math.MaxInt32) * time.Second,
		"RFC 2181 §8: a TTL is at most 2^31-1 seconds; below a second the cache is off"},
	{"cache.max-negative-ttl", func(c *Config) *Duration { return &c.Cache.MaxNegativeTTL }, time.Second, 7 * day,
		"RFC 2308 §5: values above a day are problematic"},
	{"cache.stale-max", func(c *Config) *Duration { return &c.Cache.StaleMax }, time.Second, 30 * day,
		"RFC 8767 §5 suggests one to three days"},
	{"server.jostle-timeout", func(c *Config) *Duration { return &c.Server.JostleTimeout }, time.Millisecond, time.Minute,
		"about one upstream round trip (Unbound: 200ms); beyond a minute nothing is ever jostled"},
	{"server.tcp-idle-timeout", func(c *Config) *Duration { return &c.Server.TCPIdleTimeout }, 100 * time.Millisecond, time.Hour,
		"RFC 7766 §6.2.3: idle connections are closed after seconds"},
	{"server.shutdown-grace", func(c *Config) *Duration { return &c.Server.ShutdownGrace }, 0, 5 * time.Minute,
		"systemd stops a unit after 90 s by default"},
	{"dnssec.sig-skew-min", func(c *Config) *Duration { return c.DNSSEC.SigSkewMin }, 0, 7 * day,
		"beyond a week a replayed old signature would be accepted long after its zone withdrew it"},
	{"dnssec.sig-skew-max", func(c *Config) *Duration { return c.DNSSEC.SigSkewMax }, 0, 7 * day,
		"beyond a week a replayed old signature would be accepted long after its zone withdrew it"},
}

// validateDurations checks every duration key against its range.
func (c *Config) validateDurations() error {
	for _, r := range durationRanges {
		p := r.v(c)
		if p == nil || *p == 0 {
			continue
		}
		if d := time.Duration(*p); d < r.min || d > r.max {
			return invalid("%s = %q: must be between %s and %s (%s)", r.key, d.String(), fmtLimit(r.min), fmtLimit(r.max), r.why)
		}
	}
	return nil
}

// fmtLimit prints a range limit the way it can be written in the file.
func fmtLimit(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Hour == 0:
		return fmt.Sprintf("%q", fmt.Sprintf("%dh", d/time.Hour))
	case d%time.Second == 0:
		return fmt.Sprintf("%d (seconds)", d/time.Second)
	default:
		return fmt.Sprintf("%q", d.String())
	}
}
