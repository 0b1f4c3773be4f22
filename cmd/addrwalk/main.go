// Command addrwalk shows how a name becomes an IP address (an iterative DNS
// walk from the root) and how an IP address becomes a MAC address (ARP).
//
// main only wires the process to internal/cli; everything else is testable
// through cli.Run.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/addrwalk/addrwalk/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
