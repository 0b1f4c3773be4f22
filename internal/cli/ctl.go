package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/addrwalk/addrwalk/internal/control"
	"github.com/addrwalk/addrwalk/internal/fileerr"
)

// CtlCmd is `addrwalk ctl`: commands to a running serve over its control
// socket, like unbound-control.
type CtlCmd struct {
	Socket  string       `name:"socket" short:"s" placeholder:"PATH" default:"${control_socket}" help:"Control socket of the running serve ([control] socket)."`
	JSON    bool         `name:"json" help:"JSON output (status, stats, trace-dump)."`
	Timeout durationFlag `name:"timeout" default:"60s" placeholder:"SECONDS" help:"Give up after this long, in seconds or with a unit (60, 1m)."`
	ctlRemoteFlags
	ctlSetupFlags
	Command string   `arg:"" name:"command" help:"The command; see the list below."`
	Args    []string `arg:"" optional:"" name:"args" help:"Its arguments."`
}

// Help lists the commands under `addrwalk ctl --help`.
func (c *CtlCmd) Help() string {
	return "Commands:\n" + control.Usage() + setupUsage + "\nload-cache reads the dump from FILE, or standard input when FILE is - or absent:\n  addrwalk ctl dump-cache > cache.txt; addrwalk ctl load-cache cache.txt"
}

// Run sends the command and prints its output.
func (c *CtlCmd) Run(g *Globals) error {
	if c.Command == "setup" {
		return c.setup(g)
	}
	req := control.Request{Cmd: c.Command, Args: c.Args, JSON: c.JSON}
	var upload io.Reader
	if c.Command == "load-cache" {
		if len(c.Args) > 1 {
			return usageErr("usage: addrwalk ctl load-cache [FILE]")
		}
		upload = os.Stdin
		if len(c.Args) == 1 && c.Args[0] != "-" {
			f, err := fileerr.Open("", c.Args[0])
			if err != nil {
				return withExit(ExitUsage, err)
			}
			defer f.Close()
			upload = f
		}
		req.Args = nil
	}
	ctx, cancel := context.WithTimeout(g.Ctx, c.Timeout.d())
	defer cancel()
	err := c.do(ctx, req, upload, g.Stdout)
	var se *control.ServerError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, control.ErrUsage):
		return withExit(ExitUsage, c.named(err))
	case errors.As(err, &se):
		return withExit(ExitFailure, c.named(err))
	case errors.Is(err, control.ErrInsecureSocket), errors.Is(err, control.ErrRemoteTLS), errors.Is(err, errRemoteUsage):
		return withExit(ExitUsage, err)
	}
	return withExit(ExitFailure, err)
}

// named puts "ctl COMMAND: " before the server's message, or "ctl "
// when the message names the command already ("flush: unknown type").
func (c *CtlCmd) named(err error) error {
	if strings.HasPrefix(err.Error(), c.Command+": ") {
		return fmt.Errorf("ctl %w", err)
	}
	return fmt.Errorf("ctl %s: %w", c.Command, err)
}
