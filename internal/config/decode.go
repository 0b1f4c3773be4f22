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

// decodeMessage rewords a decoding error: the key, what was wrong, and
// what is accepted, without Go's type names.
func decodeMessage(c *Config, de *toml.DecodeError) string {
	key := strings.Join(de.Key(), ".")
	t := keyType(reflect.TypeOf(c).Elem(), de.Key())
	want := ""
	if t != nil {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		want = accepted[t]
		if want == "" && t.Kind() == reflect.Slice {
			if w := accepted[t.Elem()]; w != "" {
				want = "a list of " + w
			}
		}
	}
	got := de.Error()
	// The cause as the value's own decoder put it, without Go names.
	if i := strings.Index(got, "not a"); i >= 0 {
		// One of this package's value types said what it wanted.
		got = got[i:]
	} else if i := strings.LastIndex(got, ": "); i >= 0 && !strings.Contains(got[i:], "struct field") {
		got = got[i+2:]
	} else {
		got = "wrong kind of value"
	}
	got = strings.TrimPrefix(got, "toml: ")
	if strings.Contains(got, "ParseAddr") || strings.Contains(got, "ParsePrefix") || strings.Contains(got, "netip.") ||
		strings.Contains(got, "slog:") || strings.Contains(got, "cannot decode") {
		got = "not accepted"
	}
	if key == "" {
		return got
	}
	if want == "" {
		return fmt.Sprintf("%s: %s", key, got)
	}
	return fmt.Sprintf("%s: %s; want %s", key, got, want)
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
