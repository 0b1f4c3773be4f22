package duration

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     time.Duration
		err      string
	}{
		{"integer seconds", "5", 5 * time.Second, ""},
		{"fraction", "0.3", 300 * time.Millisecond, ""},
		{"leading dot", ".5", 500 * time.Millisecond, ""},
		{"trailing dot", "2.", 2 * time.Second, ""},
		{"zero", "0", 0, ""},
		{"go duration", "1m30s", 90 * time.Second, ""},
		{"milliseconds", "200ms", 200 * time.Millisecond, ""},
		{"spaces trimmed", " 90s ", 90 * time.Second, ""},
		{"negative number", "-1", 0, `"-1" is negative; want a number of seconds`},
		{"negative duration", "-1s", 0, `"-1s" is negative`},
		{"no unit word", "5 seconds", 0, `"5 seconds" is not a duration; want a number of seconds (fractions allowed) or a number with a unit (200ms, 90s, 1h30m)`},
		{"unknown unit", "5d", 0, `"5d" is not a duration`},
		{"empty", "", 0, `"" is not a duration`},
		{"exponent", "1e3", 0, `"1e3" is not a duration`},
		{"hex", "0x10", 0, `"0x10" is not a duration`},
		{"infinity", "inf", 0, `"inf" is not a duration`},
		{"nan", "NaN", 0, `"NaN" is not a duration`},
		{"too large number", "99999999999999", 0, `"99999999999999" is too large`},
		{"too large duration", "9999999h", 0, `"9999999h" is not a duration`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				if strings.Contains(err.Error(), "time:") {
					t.Errorf("error shows the time package's words: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseUnit(t *testing.T) {
	got, err := ParseUnit("500", time.Millisecond, "milliseconds")
	if err != nil || got != 500*time.Millisecond {
		t.Fatalf("ParseUnit(500, ms) = %v, %v", got, err)
	}
	if _, err := ParseUnit("x", time.Millisecond, "milliseconds"); err == nil || !strings.Contains(err.Error(), "a number of milliseconds") {
		t.Fatalf("error %v does not name the unit", err)
	}
}
