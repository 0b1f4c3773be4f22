package cli

import (
	"time"

	"github.com/addrwalk/addrwalk/internal/duration"
	"github.com/alecthomas/kong"
)

// durationFlag is the type of every duration flag: package duration's one
// rule, the same as the configuration file's. A bare number is seconds,
// fractions allowed ("5", "0.2"), as arping's -w and -i; anything else is
// a Go duration ("200ms", "1m30s"). Negative durations are refused.
// TestDurationFlags finds every such flag in the command tree.
type durationFlag time.Duration

func (d *durationFlag) Decode(ctx *kong.DecodeContext) error {
	v, err := popDuration(ctx, time.Second, "seconds")
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}

func (d durationFlag) d() time.Duration { return time.Duration(d) }

// millisFlag is durationFlag with milliseconds as the bare-number unit,
// for the two flags that mirror a peer tool counting in milliseconds:
// arp-scan's -t/--timeout ("500" is half a second) and ndisc6's -w. Their
// placeholder is MS and their help says so; a number with a unit means
// the same as anywhere else.
type millisFlag time.Duration

func (d *millisFlag) Decode(ctx *kong.DecodeContext) error {
	v, err := popDuration(ctx, time.Millisecond, "milliseconds")
	if err != nil {
		return err
	}
	*d = millisFlag(v)
	return nil
}

func (d millisFlag) d() time.Duration { return time.Duration(d) }

// popDuration reads a duration flag's value by the one rule, with unit as
// the bare-number unit. Kong's message for a missing value names what was
// expected ("expected a duration value but got ...").
func popDuration(ctx *kong.DecodeContext, unit time.Duration, unitName string) (time.Duration, error) {
	s, err := popNumber(ctx)
	if err != nil {
		return 0, err
	}
	return duration.ParseUnit(s, unit, unitName)
}
