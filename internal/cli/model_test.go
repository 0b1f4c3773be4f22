package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// modelFlag is one flag of one command, found by walking the kong model.
type modelFlag struct {
	cmd  string // "resolve", "arp scan"; "" for the top level
	flag *kong.Flag
}

func (m modelFlag) String() string {
	return strings.TrimSpace(m.cmd + " --" + m.flag.Name)
}

// testParser builds the real command tree, as Run does.
func testParser(t *testing.T) *kong.Kong {
	t.Helper()
	p, err := newParser(&cliRoot{}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// modelCommands lists every command node (leaves and groups) below the root.
func modelCommands(t *testing.T) []*kong.Node {
	t.Helper()
	var out []*kong.Node
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, c := range n.Children {
			out = append(out, c)
			walk(c)
		}
	}
	walk(testParser(t).Model.Node)
	return out
}

// modelFlags lists every flag of every command, inherited ones once (at
// the node that declares them), hidden and built-in ones (--help) left out.
func modelFlags(t *testing.T) []modelFlag {
	t.Helper()
	p := testParser(t)
	var out []modelFlag
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, f := range n.Flags {
			if f.Hidden || f.Name == "help" {
				continue
			}
			out = append(out, modelFlag{cmd: n.Path(), flag: f})
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(p.Model.Node)
	if len(out) < 50 {
		t.Fatalf("found only %d flags: the walk is broken", len(out))
	}
	return out
}
