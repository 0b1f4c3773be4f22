package cli

import (
	"fmt"
	"io"

	"github.com/alecthomas/kong"
	mangokong "github.com/alecthomas/mango-kong"
	"github.com/muesli/roff"
	"github.com/willabides/kongplete"
)

// Shell completion and the man page both come from the kong model, the same
// definitions that parse the command line, so neither can drift from it.
//
// Completion is dynamic (kongplete, over posener/complete): the shell runs
// addrwalk itself with COMP_LINE set, and Run answers with the candidates
// before parsing anything. The scripts below only hook that up; they name
// the command, not a path, so `make install` can write them once.

// completionScripts hook each shell's completion to the binary on PATH.
var completionScripts = map[string]string{
	"bash": "complete -o default -C addrwalk addrwalk\n",
	"zsh": `autoload -U +X bashcompinit && bashcompinit
complete -o default -C addrwalk addrwalk
`,
	"fish": `function __complete_addrwalk
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    addrwalk
end
complete -f -c addrwalk -a "(__complete_addrwalk)"
`,
}

// CompletionCmd is `addrwalk completion SHELL`.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

// Help explains where the script goes.
func (c *CompletionCmd) Help() string {
	return `Print the shell's completion script. Load it for this shell with
  source <(addrwalk completion bash)
or install it: /usr/share/bash-completion/completions/addrwalk,
/usr/share/zsh/vendor-completions/_addrwalk (after compinit),
/usr/share/fish/vendor_completions.d/addrwalk.fish. The script runs addrwalk
itself to complete, so it follows the installed version.`
}

// Run prints the script.
func (c *CompletionCmd) Run(g *Globals) error {
	_, err := fmt.Fprint(g.Stdout, completionScripts[c.Shell])
	return err
}

// ManCmd is `addrwalk man`.
type ManCmd struct{}

// Help says how to read it.
func (c *ManCmd) Help() string {
	return "Print the manual page (roff, section 1), generated from the command definitions. Read it with\n  addrwalk man | man -l -"
}

// Run prints the man page.
func (c *ManCmd) Run(g *Globals) error {
	p, err := plainParser(&cliRoot{}, io.Discard, io.Discard)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(g.Stdout, manPage(p.Model))
	return err
}

// manPage renders the man page of the whole command tree.
func manPage(app *kong.Application) string {
	man := mangokong.NewManPage(1, app)
	man.WithSection("Durations", durationRuleText)
	man.WithSection("Help", "addrwalk help COMMAND, or addrwalk COMMAND --help, prints the help of a command with its exit statuses.")
	man.WithSection("Exit status", exitStatusText())
	man.WithSection("See also", "dig(1), kdig(1), unbound(8), arping(8), arp-scan(1), ndisc6(8), ip-neighbour(8)")
	return man.Build(roff.NewDocument())
}

// durationRuleText is the one duration rule, as help and the man page say it.
const durationRuleText = "Every duration, on the command line and in the configuration file: a bare number is seconds, fractions allowed (5, 0.3); anything else is a number with a unit (200ms, 90s, 1h30m). arp scan -t and ndp -w count bare numbers in milliseconds, as arp-scan and ndisc6 do."

// complete answers a shell's completion request (COMP_LINE set) and
// reports whether it did.
func complete(parser *kong.Kong) {
	kongplete.Complete(parser, kongplete.WithExitFunc(func(code int) { panic(kongExit{code}) }))
}
