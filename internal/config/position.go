package config

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyLines maps each key path of a TOML document to the line that sets it:
// "server.udp-size", "forward-zone[1].zone", "local.records[2]" (an array
// element on its own line), and table headers ("server", "forward-zone[1]").
// Validation messages start with the key path they are about, so every one
// of them gets a line number without code of its own: a key added later
// gets it for free.
func keyLines(b []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(b)
	prefix := ""
	arrays := map[string]int{}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			name := joinKey(e.Key())
			if e.Kind == unstable.ArrayTable {
				i := arrays[name]
				arrays[name] = i + 1
				name += "[" + strconv.Itoa(i) + "]"
			}
			prefix = name
			if line := firstLine(&p, e.Key()); line > 0 {
				lines[name] = line
			}
		case unstable.KeyValue:
			key := joinKey(e.Key())
			if prefix != "" {
				key = prefix + "." + key
			}
			line := firstLine(&p, e.Key())
			lines[key] = line
			if v := e.Value(); v.Kind == unstable.Array {
				it := v.Children()
				for i := 0; it.Next(); i++ {
					l := line
					if n := it.Node(); n.Raw.Length > 0 {
						l = p.Shape(n.Raw).Start.Line
					}
					lines[key+"["+strconv.Itoa(i)+"]"] = l
				}
			}
		}
	}
	return lines
}

func joinKey(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

func firstLine(p *unstable.Parser, it unstable.Iterator) int {
	if it.Next() && it.Node().Raw.Length > 0 {
		return p.Shape(it.Node().Raw).Start.Line
	}
	return 0
}

// leadingKey matches the key path a validation message starts with.
var leadingKey = regexp.MustCompile(`^[a-z][a-z0-9-]*(\[[0-9]+\])?(\.[a-z0-9-]+(\[[0-9]+\])?)*`)

// lineFor finds the line of the key a message is about: the key itself,
// else the nearest enclosing key or table that the file sets. 0 when the
// file does not mention it (the value came from a flag or a default).
func lineFor(lines map[string]int, msg string) int {
	key := leadingKey.FindString(msg)
	for key != "" {
		if l, ok := lines[key]; ok {
			return l
		}
		if i := strings.LastIndexAny(key, ".["); i > 0 {
			key = key[:i]
		} else {
			key = ""
		}
	}
	return 0
}

// badValue finds the first key whose value decode rejects, for the errors
// go-toml reports without a position (those of UnmarshalTOML): it returns
// the key path, its line and decode's error.
func badValue(b []byte, decode func(key []string, raw []byte) error) (string, int, error) {
	var p unstable.Parser
	p.Reset(b)
	var prefix []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			prefix = keyParts(e.Key())
		case unstable.KeyValue:
			key := append(append([]string{}, prefix...), keyParts(e.Key())...)
			v := e.Value()
			raw := v.Data
			if v.Kind == unstable.String {
				raw = []byte(strconv.Quote(string(v.Data)))
			}
			if err := decode(key, raw); err != nil {
				return strings.Join(key, "."), firstLine(&p, e.Key()), err
			}
		}
	}
	return "", 0, nil
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}
