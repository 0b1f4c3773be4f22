package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// accepted says, for each type a key can have, what a value must look
// like, in the words of the configuration file (not Go's).
var accepted = map[reflect.Type]string{
	reflect.TypeFor[netip.AddrPort]():   `an address and port such as "127.0.0.1:53" or "[::1]:53"`,
	reflect.TypeFor[netip.Prefix]():     `a network in CIDR form such as "192.0.2.0/24" or "2001:db8::/32"`,
	reflect.TypeFor[netip.Addr]():       `an IP address such as "192.0.2.1" or "2001:db8::1"`,
	reflect.TypeFor[ServerAddr]():       `a server address such as "192.0.2.53" or "[2001:db8::53]:5353" (port 53 when left out)`,
	reflect.TypeFor[Duration]():         `a duration: a string with a unit ("1500ms", "90s", "1h") or an integer number of seconds`,
	reflect.TypeFor[ByteSize]():         `a size such as "64MiB", "512KiB" or a number of bytes`,
	reflect.TypeFor[slog.Level]():       `one of "debug", "info", "warn" or "error"`,
	reflect.TypeFor[string]():           "a string in double quotes",
	reflect.TypeFor[bool]():             "true or false",
	reflect.TypeFor[int]():              "an integer",
	reflect.TypeFor[float64]():          "a number",
	reflect.TypeFor[[]string]():         `a list of strings such as ["a", "b"]`,
	reflect.TypeFor[[]netip.AddrPort](): `a list of addresses such as ["127.0.0.1:53", "[::1]:53"]`,
	reflect.TypeFor[[]netip.Prefix]():   `a list of networks such as ["127.0.0.0/8", "192.0.2.0/24"]`,
	reflect.TypeFor[[]ServerAddr]():     `a list of server addresses such as ["192.0.2.53", "[2001:db8::53]:5353"]`,
}

// decodeMessage rewords a decoding error: the key, the value as written
// in doc, what was wrong, and what is accepted, without Go's type names
// or the words of the parser that refused it (netip, slog, go-toml).
func decodeMessage(c *Config, de *toml.DecodeError, doc []byte) string {
	key := strings.Join(de.Key(), ".")
	t := keyType(reflect.TypeOf(c).Elem(), de.Key())
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	row, col := de.Position()
	val := valueAt(doc, row, col)
	cause := strings.TrimPrefix(de.Error(), "toml: ")
	var got, want string
	switch {
	case strings.Contains(cause, "cannot decode") || val == "":
		// A TOML value of the wrong kind: a string for a list, a
		// string for a number.
		got = "wrong kind of value"
		if val != "" {
			got = val + " is the wrong kind of value"
		}
		want = acceptedFor(t)
	case strings.Contains(cause, " is not a"):
		// One of this package's value types said what it wanted.
		got = cause
	default:
		// A value rejected by its parser: name it, and what one
		// element of the key looks like.
		got = val + " is not accepted"
		if t != nil && t.Kind() == reflect.Slice && !strings.HasPrefix(val, "[") {
			t = t.Elem()
		}
		want = acceptedFor(t)
	}
	if key == "" {
		return got
	}
	if want == "" {
		return fmt.Sprintf("%s: %s", key, got)
	}
	return fmt.Sprintf("%s: %s; want %s", key, got, want)
}

// acceptedFor is what a value of type t must look like, or "".
func acceptedFor(t reflect.Type) string {
	if t == nil {
		return ""
	}
	if w := accepted[t]; w != "" {
		return w
	}
	if t.Kind() == reflect.Slice {
		if w := accepted[t.Elem()]; w != "" {
			return "a list of " + w
		}
	}
	return ""
}

// maxQuotedValue bounds how much of a rejected value a message repeats:
// a whole line of a config file is enough to recognise it.
const maxQuotedValue = 80

// valueAt is the TOML value that starts at row:col (1-based) of doc, as
// written: a quoted string with its quotes, or a bare token up to the
// next separator; "" when the position is outside doc.
func valueAt(doc []byte, row, col int) string {
	lines := strings.Split(string(doc), "\n")
	if row < 1 || row > len(lines) || col < 1 || col > len(lines[row-1]) {
		return ""
	}
	s := lines[row-1][col-1:]
	end := strings.IndexAny(s, " \t,]#")
	if s[0] == '"' || s[0] == '\'' {
		if i := strings.IndexByte(s[1:], s[0]); i >= 0 {
			end = i + 2
		}
	} else if s[0] == '[' {
		end = len(s)
	}
	if end < 0 {
		end = len(s)
	}
	v := strings.TrimSpace(s[:end])
	if len(v) > maxQuotedValue {
		v = v[:maxQuotedValue] + "…"
	}
	return v
}

// keyType finds the Go type a TOML key path decodes into, following the
// toml tags; nil if unknown.
func keyType(t reflect.Type, path []string) reflect.Type {
	for _, k := range path {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		var next reflect.Type
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if strings.Split(f.Tag.Get("toml"), ",")[0] == k {
				next = f.Type
				break
			}
		}
		if next == nil {
			return nil
		}
		t = next
	}
	return t
}
