package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/addrwalk/addrwalk/internal/control"
	"github.com/addrwalk/addrwalk/resolver"
)

// Exit statuses shared by every subcommand. resolve follows dig (9 for no
// reply); arp follows iputils arping (1 for no reply, 2 for usage).
const (
	ExitOK      = 0
	ExitNoReply = 1 // arp: no reply came
	ExitUsage   = 2 // bad command line, bad input file, missing privilege
	ExitFailure = 3 // an operation failed for a reason that is not "no reply"
	// ExitDNSNoReply is resolve's status when no usable answer came back
	// (SERVFAIL, every server dead, a limit tripped), as dig's 9.
	ExitDNSNoReply = 9
)

// Globals is bound into every subcommand's Run method.
type Globals struct {
	Ctx    context.Context
	Stdout io.Writer
	Stderr io.Writer
}

// exitError carries a specific exit status out of a subcommand.
type exitError struct {
	code  int
	err   error
	usage bool // a command-line mistake: point to the command's --help
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withExit wraps err so Run returns code. A nil err with a non-zero code
// means "already reported, just exit with code".
func withExit(code int, err error) error { return &exitError{code: code, err: err} }

// usageErr is a usage error with a message.
func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...), usage: true}
}

type cliRoot struct {
	Resolve ResolveCmd `cmd:"" help:"Resolve a name iteratively from the root, like dig."`
	Demo    DemoCmd    `cmd:"" help:"Resolve against a built-in simulated internet (works offline)."`
	Sim     SimCmd     `cmd:"" help:"Serve the simulated DNS hierarchy on 127.x addresses for other resolvers."`
	Arp     ArpCmd     `cmd:"" help:"Trace, scan, watch and show IPv4 neighbour (ARP) resolution."`
	Ndp     NdpCmd     `cmd:"" help:"Trace and show IPv6 neighbour discovery (NS/NA), the IPv6 twin of arp."`
	Path    PathCmd    `cmd:"" help:"Follow a name all the way: hosts file, DNS, route, next hop, MAC."`
	Serve   ServeCmd   `cmd:"" help:"Run a local recursive DNS server (UDP and TCP, loopback-only by default)."`
	Ctl     CtlCmd     `cmd:"" help:"Control a running serve over its control socket (status, stats, reload, flush, dump-cache...)."`

	Help       HelpCmd       `cmd:"" help:"Show the help of a command (the same as COMMAND --help)."`
	Completion CompletionCmd `cmd:"" help:"Print the shell completion script for bash, zsh or fish."`
	Man        ManCmd        `cmd:"" help:"Print the manual page (roff), generated from these command definitions."`

	Version kong.VersionFlag `name:"version" help:"Print the version, the VCS revision it was built from and the Go version, then exit."`
}

// kongExit is panicked by kong's exit hook (after --help) and recovered in Run.
type kongExit struct{ code int }

// Run parses args, runs the chosen subcommand and returns the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return guard(stderr, func() int { return run(ctx, args, stdout, stderr) })
}

// guard runs f and returns its status. Kong's exit after --help arrives as
// a kongExit panic; any other panic is a crash: a bug, not a usage error,
// reported with where it happened and ExitInternal.
func guard(stderr io.Writer, f func() int) (code int) {
	defer func() {
		if r := recover(); r != nil {
			if ke, ok := r.(kongExit); ok {
				code = ke.code
				return
			}
			fmt.Fprintf(stderr, "addrwalk: internal error (a bug; please report it with this message): %v\n%s", r, debug.Stack())
			code = ExitInternal
		}
	}()
	return f()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var root cliRoot
	parser, err := newParser(&root, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "addrwalk: %v\n", err)
		return ExitInternal
	}
	if len(args) == 0 {
		// Bare addrwalk: the help, as git and go print, and success.
		args = []string{"--help"}
	}
	complete(parser)
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "addrwalk: %v\n", err)
		var perr *kong.ParseError
		cmd := ""
		if errors.As(err, &perr) && perr.Context != nil {
			cmd = commandPath(perr.Context)
		}
		fmt.Fprintln(stderr, helpHint(cmd))
		return ExitUsage
	}
	err = kctx.Run(&Globals{Ctx: ctx, Stdout: stdout, Stderr: stderr})
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "addrwalk: %v\n", ee.err)
		}
		if ee.usage {
			fmt.Fprintln(stderr, helpHint(commandPath(kctx)))
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "addrwalk: %v\n", err)
	return otherFailure(commandPath(kctx))
}

// commandPath is the command a parse reached ("arp scan"), without its
// arguments; "" before any command.
func commandPath(k *kong.Context) string {
	var parts []string
	for _, p := range k.Path {
		if p.Command != nil {
			parts = append(parts, p.Command.Name)
		}
	}
	return strings.Join(parts, " ")
}

// helpHint points to the help of the command the user was typing.
func helpHint(cmd string) string {
	if cmd == "" {
		return "run 'addrwalk --help' for usage"
	}
	return fmt.Sprintf("run 'addrwalk %s --help' for usage", cmd)
}

// newParser builds the kong parser of the command tree; Run uses it, and
// so do the help, man page and completion generators and the tests that
// walk every flag.
func newParser(root *cliRoot, stdout, stderr io.Writer) (*kong.Kong, error) {
	p, err := plainParser(root, stdout, stderr)
	if err != nil {
		return nil, err
	}
	decorateHelp(p.Model)
	return p, nil
}

// plainParser is newParser without the help decorations: the man page
// gives the exit statuses and conventions sections of their own.
func plainParser(root *cliRoot, stdout, stderr io.Writer) (*kong.Kong, error) {
	bi, ok := debug.ReadBuildInfo()
	return kong.New(root, append(numberMappers(),
		kong.Name("addrwalk"),
		kong.Description("addrwalk shows how a name becomes an IP address and an IP address a MAC address."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(kongExit{c}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		// Defaults that belong to a package are read from it, never
		// written again here.
		kong.Vars{
			"control_socket":         control.DefaultSocket,
			"control_dir":            control.DefaultDir,
			"control_server_name":    control.ServerName,
			"resolver_port":          strconv.Itoa(resolver.DefaultPort),
			"resolver_timeout":       resolver.DefaultRequestTimeout.String(),
			"resolver_query_timeout": resolver.DefaultQueryTimeout.String(),
			"version":                versionText(bi, ok),
		},
	)...)
}
