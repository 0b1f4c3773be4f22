// Package duration is the one rule for reading a length of time that a
// person typed, on the command line or in the configuration file:
//
//   - a bare number is seconds, fractions allowed ("5", "0.3", "1.5"), as
//     arping's -w and -i and as Unbound reads its integers;
//   - anything else is a number with a unit in Go's syntax ("200ms",
//     "90s", "1h30m"; units ns, us, ms, s, m, h);
//   - negative values, NaN, infinities, hex and exponent forms are refused.
//
// A few flags mirror a peer tool that counts in milliseconds (arp-scan's
// -t, ndisc6's -w); ParseUnit reads those with the bare-number unit they
// name, and the same grammar otherwise.
//
// Files:
//   - duration.go: Parse, ParseUnit and the error text.
package duration
