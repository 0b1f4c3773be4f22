package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/addrwalk/addrwalk/internal/control"
)

// ctlSetupFlags are the flags of `addrwalk ctl setup`.
type ctlSetupFlags struct {
	Dir   string `name:"dir" short:"d" placeholder:"DIR" default:"${control_dir}" help:"setup: the directory to write the CA, keys and certificates to."`
	Force bool   `name:"force" help:"setup: replace files that already exist."`
}

// setupUsage is setup's line in `addrwalk ctl --help`: it runs here, not
// in the server.
const setupUsage = "  setup [-d DIR] [--force]     make the remote control CA, server and client keys and certificates (no server needed)\n"

// setup is `addrwalk ctl setup`, after unbound-control-setup: it writes
// the files and prints the configuration that uses them.
func (c *CtlCmd) setup(g *Globals) error {
	if len(c.Args) > 0 {
		return usageErr("usage: addrwalk ctl setup [-d DIR] [--force]")
	}
	// The directory is checked before any key is made, as every
	// command checks its output files first: one that cannot be made or
	// written is a usage error (2), like existing files without --force.
	if err := checkOutputDir("--dir", c.Dir); err != nil {
		return err
	}
	files, err := control.Setup("--dir", c.Dir, c.Force, time.Now())
	if errors.Is(err, control.ErrExists) {
		return withExit(ExitUsage, err)
	}
	if err != nil {
		return withExit(ExitFailure, err)
	}
	w := g.Stdout
	fmt.Fprintf(w, "wrote in %s:\n", files.Dir)
	for _, f := range []struct{ name, what string }{
		{control.CAFile, "0644  the CA both sides check the other against"},
		{control.ServerCertFile, "0644  the server's certificate (name " + control.ServerName + ")"},
		{control.ServerKeyFile, "0600  the server's key"},
		{control.ClientCertFile, "0644  the client's certificate"},
		{control.ClientKeyFile, "0600  the client's key"},
	} {
		fmt.Fprintf(w, "  %-20s %s\n", f.name, f.what)
	}
	fmt.Fprintf(w, "\nAdd to the server's configuration (then restart it):\n\n[control]\nremote = \"127.0.0.1:%d\"\nserver-cert = %q\nserver-key = %q\nclient-ca = %q\n",
		control.DefaultRemotePort, files.Server.Cert, files.Server.Key, files.Server.CA)
	fmt.Fprintf(w, "\nThen, as a user who may read %s:\n  addrwalk ctl --remote 127.0.0.1", control.ClientKeyFile)
	if files.Dir != control.DefaultDir {
		fmt.Fprintf(w, " --cert %s --key %s --ca %s", files.Client.Cert, files.Client.Key, files.Client.CA)
	}
	fmt.Fprintln(w, " status")
	return nil
}
