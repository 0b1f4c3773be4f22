package config

import (
	"strings"
	"testing"
	"time"
)

// TestDurations: every duration key takes a string with a unit or an
// integer number of seconds; anything else, or a value out of its range,
// is an error with the line number.
func TestDurations(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		want      time.Duration
		err       string
	}{
		{"integer is seconds", "[cache]\nmax-ttl = 3600\n", time.Hour, ""},
		{"underscores", "[cache]\nmax-ttl = 86_400\n", 24 * time.Hour, ""},
		{"string with unit", "[cache]\nmax-ttl = \"90s\"\n", 90 * time.Second, ""},
		{"literal string", "[cache]\nmax-ttl = '1h'\n", time.Hour, ""},
		{"bare number string is seconds", "[cache]\nmax-ttl = \"60\"\n", time.Minute, ""},
		{"fraction is seconds", "\n[cache]\nmax-ttl = 3600.5\n", 3600*time.Second + 500*time.Millisecond, ""},
		{"exponent", "[cache]\nmax-ttl = 3.6e3\n", 0, `t.toml:2: cache.max-ttl: "3.6e3" is not a duration`},
		{"negative", "[cache]\nmax-ttl = -5\n", 0, `t.toml:2: cache.max-ttl: "-5" is negative`},
		{"boolean", "[cache]\nmax-ttl = true\n", 0, "t.toml:2: cache.max-ttl: true is not a duration"},
		{"no unit word", "[cache]\nmax-ttl = \"an hour\"\n", 0, `t.toml:2: cache.max-ttl: "an hour" is not a duration`},
		{"below range", "[cache]\nmax-ttl = \"1ms\"\n", 0, `t.toml:2: cache.max-ttl = "1ms": must be between 1 (seconds)`},
		{"above range", "[resolver]\n\nquery-timeout = 3600\n", 0, `t.toml:3: resolver.query-timeout = "1h0m0s": must be between "10ms" and`},
		{"negative ttl above a week", "[cache]\nmax-negative-ttl = \"8760h\"\n", 0, "t.toml:2: cache.max-negative-ttl"},
		{"overflow", "[cache]\nmax-ttl = 99999999999999999\n", 0, `t.toml:2: cache.max-ttl: "99999999999999999" is too large`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "t.toml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := time.Duration(c.Cache.MaxTTL); got != tt.want {
				t.Errorf("max-ttl %v, want %v", got, tt.want)
			}
		})
	}
	for _, r := range durationRanges {
		if r.min > r.max {
			t.Errorf("%s: range %v..%v", r.key, r.min, r.max)
		}
	}
}

// TestErrorsHaveLines: every validation error names the file, the line
// and the key, and no decoding error shows Go's names.
func TestErrorsHaveLines(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"udp-size", "[server]\n\nudp-size = 100\n", "t.toml:3: server.udp-size"},
		{"local record", "[local]\nrecords = [\n  \"a.example. 60 IN A 192.0.2.1\",\n  \"bad\",\n]\n", `t.toml:4: local.records[1] "bad"`},
		{"relative owner", "[local]\nrecords = [\"a 60 IN A 192.0.2.1\"]\n", "t.toml:2: local.records[0]"},
		{"validation", "# c\n[dnssec]\nvalidation = \"maybe\"\n", "t.toml:3: dnssec.validation"},
		{"zone without servers", "[[forward-zone]]\nzone = \"a.\"\nservers=[\"192.0.2.1\"]\n[[forward-zone]]\nzone = \"b.\"\n", "t.toml:4: forward-zone[1]"},
		{"rate", "[access]\nrate-limit = -1\n", "t.toml:2: access.rate-limit"},
		{"listen address", "[server]\nlisten = [\"127.0.0.300:53\"]\n", `t.toml:2: server.listen: "127.0.0.300:53" is not accepted; want an address and port such as "127.0.0.1:53" or "[::1]:53"`},
		{"listen not a list", "[server]\nlisten = \"127.0.0.1:53\"\n", `t.toml:2: server.listen: "127.0.0.1:53" is the wrong kind of value; want a list of addresses such as ["127.0.0.1:53", "[::1]:53"]`},
		{"log level", "[log]\nlevel = \"verbose\"\n", `t.toml:2: log.level: "verbose" is not accepted; want one of "debug", "info", "warn" or "error"`},
		{"prefix", "[access]\nallow = [\"10.0.0.0/33\"]\n", `t.toml:2: access.allow: "10.0.0.0/33" is not accepted; want a network in CIDR form`},
		{"port", "[resolver]\nport = 70000\n", "t.toml:2: resolver.port"},
		{"metrics", "[server]\nmetrics = \"localhost\"\n", "t.toml:2: server.metrics: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "t.toml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			for _, goName := range []string{"netip.", "ParseAddr(", "struct field", "slog:", "config.Server", "[]", "toml:"} {
				if strings.Contains(err.Error(), goName) && !strings.Contains(tt.want, goName) {
					t.Errorf("error shows Go internals (%q): %v", goName, err)
				}
			}
		})
	}
}
