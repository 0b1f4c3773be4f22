package cli

import (
	"fmt"
	"strconv"
	"time"
)

// durationFlag is the value of a duration flag: a bare number is seconds,
// fractions allowed ("5", "0.2"), as arping's -w and -i; anything else is a
// Go duration ("200ms", "1m30s"). Negative durations are refused.
type durationFlag time.Duration

func (d *durationFlag) UnmarshalText(b []byte) error {
	v, err := parseDurationUnit(string(b), time.Second, "seconds")
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}

func (d durationFlag) d() time.Duration { return time.Duration(d) }

// millisFlag is durationFlag with milliseconds as the bare-number unit:
// arp-scan's documented habit for -t/--timeout ("500" is half a second).
type millisFlag time.Duration

func (d *millisFlag) UnmarshalText(b []byte) error {
	v, err := parseDurationUnit(string(b), time.Millisecond, "milliseconds")
	if err != nil {
		return err
	}
	*d = millisFlag(v)
	return nil
}

func (d millisFlag) d() time.Duration { return time.Duration(d) }

// parseDurationUnit reads a bare number in unit, or a Go duration.
func parseDurationUnit(v string, unit time.Duration, unitName string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f*float64(unit) > float64(1<<62) {
			return 0, fmt.Errorf("%q is out of range (a non-negative number of %s)", v, unitName)
		}
		return time.Duration(f * float64(unit)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (a number of %s like 1.5, or Go syntax like 200ms)", v, unitName)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", v)
	}
	return d, nil
}
