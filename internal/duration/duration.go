package duration

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Syntax is the accepted form, for messages that list what is accepted.
const Syntax = "a number of seconds (fractions allowed: 5, 0.3) or a number with a unit (200ms, 90s, 1h30m)"

// bareNumber is a plain decimal: no sign, exponent, hex, "inf" or "nan",
// which strconv.ParseFloat would take but nobody means as a time.
var bareNumber = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// Parse reads s by the one rule: a bare number is seconds, anything else a
// Go duration with a unit. Negative values are an error.
func Parse(s string) (time.Duration, error) {
	return ParseUnit(s, time.Second, "seconds")
}

// ParseUnit is Parse with unit as the bare-number unit; unitName is how
// messages name it ("milliseconds").
func ParseUnit(s string, unit time.Duration, unitName string) (time.Duration, error) {
	v := strings.TrimSpace(s)
	want := fmt.Sprintf("a number of %s (fractions allowed) or a number with a unit (200ms, 90s, 1h30m)", unitName)
	if bareNumber.MatchString(v) {
		f, err := strconv.ParseFloat(v, 64)
		// 1<<62 ns is about 146 years: anything above is a typo, and
		// float64 → int64 conversion past 1<<63 is undefined.
		if err != nil || f*float64(unit) > float64(1<<62) {
			return 0, fmt.Errorf("%q is too large; want %s", s, want)
		}
		return time.Duration(math.Round(f * float64(unit))), nil
	}
	if strings.HasPrefix(v, "-") {
		return 0, fmt.Errorf("%q is negative; want %s", s, want)
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		// time's own words ("time: missing unit in duration") are not
		// repeated: the value and what is accepted say it all.
		return 0, fmt.Errorf("%q is not a duration; want %s", s, want)
	}
	return d, nil
}
