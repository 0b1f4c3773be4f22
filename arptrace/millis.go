package arptrace

import (
	"strconv"
	"time"
)

// Millis is a duration that marshals to JSON as a number of milliseconds
// (with microsecond precision), the project's convention for durations in
// JSON. Convert with time.Duration(m).
type Millis time.Duration

// MarshalJSON writes m as milliseconds, e.g. 0.546.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Duration(m).Microseconds())/1e3, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*m = Millis(f * float64(time.Millisecond))
	return nil
}

// String formats m the way arping prints times: milliseconds with three
// decimals, e.g. "0.546ms".
func (m Millis) String() string { return FormatMillis(time.Duration(m)) }

// FormatMillis formats d as milliseconds with three decimals ("12.729ms"),
// the one unit family every ARP and ND time is printed in.
func FormatMillis(d time.Duration) string {
	us := (d + 500*time.Nanosecond) / time.Microsecond
	neg := ""
	if us < 0 {
		neg, us = "-", -us
	}
	frac := strconv.FormatInt(int64(us%1000), 10)
	for len(frac) < 3 {
		frac = "0" + frac
	}
	return neg + strconv.FormatInt(int64(us/1000), 10) + "." + frac + "ms"
}
