// Command addrwalk shows how a name becomes an IP address (an iterative DNS
// walk from the root) and how an IP address becomes a MAC address (ARP).
//
// main only wires the process to internal/cli; everything else is testable
// through cli.Run.
//
// rsa1024min=0: Go refuses RSA keys under 1024 bits by default, but
// DNSSEC zones signed with such keys still exist (and the conformance
// scenarios use 512-bit keys); refusing them would turn those zones bogus
// where Unbound and Knot Resolver validate them.
//
//go:debug rsa1024min=0
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
