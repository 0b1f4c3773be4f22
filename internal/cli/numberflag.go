package cli

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
)

// numberMappers decode every integer flag and argument (int, uint16 for
// ports, uint64) with a message that names the value and the accepted
// range, instead of kong's "expected a valid 16 bit uint but got"; and
// every string flag, so a missing value says so instead of kong's
// `expected string value but got "EOL" (<EOL>)`.
func numberMappers() []kong.Option {
	return []kong.Option{
		kong.TypeMapper(reflect.TypeOf(""), kong.MapperFunc(func(ctx *kong.DecodeContext, target reflect.Value) error {
			t, err := popValue(ctx)
			if err != nil {
				return err
			}
			target.SetString(fmt.Sprint(t.Value))
			return nil
		})),
		kong.TypeMapper(reflect.TypeOf(int(0)), intMapper(math.MinInt, math.MaxInt)),
		kong.TypeMapper(reflect.TypeOf(uint16(0)), uintMapper(math.MaxUint16)),
		kong.TypeMapper(reflect.TypeOf(uint64(0)), uintMapper(math.MaxUint64)),
	}
}

// popNumber pops a value token as text. A negative number ("-1") reaches
// here as a short flag, which kong would report as "expected a value but
// got -1 (short flag)": it is taken as the value, so the caller can say
// what is wrong with it.
func popNumber(ctx *kong.DecodeContext) (string, error) {
	if t := ctx.Scan.Peek(); t.Type == kong.UntypedToken {
		if s, ok := t.Value.(string); ok && len(s) > 1 && s[0] == '-' && strings.ContainsAny(s[1:2], "0123456789.") {
			ctx.Scan.Pop()
			return s, nil
		}
	}
	t, err := popValue(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(t.Value), nil
}

// popValue is kong's Scan.PopValue with a message for people when the
// value is missing: "needs a value" at the end of the line, or the flag
// that came instead.
func popValue(ctx *kong.DecodeContext) (kong.Token, error) {
	t, err := ctx.Scan.PopValue("a")
	switch {
	case err == nil:
		return t, nil
	case t.IsEOL():
		return t, errors.New("needs a value")
	default:
		return t, fmt.Errorf("needs a value, but the next argument is the flag %s", t)
	}
}

func intMapper(lo, hi int64) kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popNumber(ctx)
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q is not a whole number", s)
		}
		target.SetInt(n)
		return nil
	}
}

func uintMapper(hi uint64) kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popNumber(ctx)
		if err != nil {
			return err
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n > hi {
			return fmt.Errorf("%q is not a whole number from 0 to %d", s, hi)
		}
		target.SetUint(n)
		return nil
	}
}
