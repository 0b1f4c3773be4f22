package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"
)

// HelpCmd is `addrwalk help [COMMAND...]`: the same text as
// `addrwalk COMMAND... --help`.
type HelpCmd struct {
	Command []string `arg:"" optional:"" placeholder:"COMMAND" help:"The command to explain (arp scan, resolve, ...); none: every command."`
}

// Run prints the help of the command named, by parsing "COMMAND... --help".
func (c *HelpCmd) Run(k *kong.Context) error {
	if _, err := k.Kong.Parse(append(append([]string{}, c.Command...), "--help")); err != nil {
		return usageErr("help: no command %q; 'addrwalk help' lists them", strings.Join(c.Command, " "))
	}
	return nil
}

// versionText is what --version prints: the module version, the VCS
// revision and time the binary was built from, and the Go toolchain, all
// from the build information Go records in the binary.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "addrwalk (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "addrwalk %s", v)
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "\nrevision %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(", modified")
		}
	}
	fmt.Fprintf(&b, "\nbuilt with %s for %s/%s", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// decorateHelp adds each command's exit-status table to its help text, and
// the conventions every command shares to the top-level help.
func decorateHelp(app *kong.Application) {
	table := exitTable()
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, c := range n.Children {
			if rows, ok := table[c.Path()]; ok {
				c.Detail = strings.TrimSpace(c.Detail + "\n\n" + exitStatusHelp(rows))
			}
			walk(c)
		}
	}
	walk(app.Node)
	app.Detail = strings.TrimSpace(app.Detail+"\n\n"+durationRuleText) +
		"\n\nRun \"addrwalk help COMMAND\" for a command's help and exit statuses, \"addrwalk man | man -l -\" for the manual."
}
