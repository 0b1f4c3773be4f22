package cli

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"syscall"
)

// ExitInternal is the status of a crash (a bug): a panic caught by Run,
// as dig's 10 for an internal error.
const ExitInternal = 10

// exitRow is one line of a command's exit-status table.
type exitRow struct {
	code    int
	meaning string
}

// exitTable is the documented exit statuses of each runnable command, by
// its path in the command tree. Help, the man page and the README show it;
// TestExitStatuses checks every row. The scheme: dig's for DNS (9 no
// reply, 10 internal error), iputils arping's for neighbour discovery (1 no
// reply, 2 usage or privilege), and 3 for any other failure.
func exitTable() map[string][]exitRow {
	rowOK := exitRow{ExitOK, "success"}
	rowUsage := exitRow{ExitUsage, "usage error: a bad flag, argument or input file (configuration, root hints, trust anchor), an output file that cannot be written (checked first), or a missing privilege"}
	rowFailure := exitRow{ExitFailure, "the operation failed: a port in use, a socket or file that could not be opened"}
	rowInternal := exitRow{ExitInternal, "internal error: addrwalk crashed (a bug; the message says where)"}
	dnsNoReply := exitRow{ExitDNSNoReply, "no usable reply: SERVFAIL, every server dead or lame, a limit tripped, the deadline passed (as dig's 9)"}
	dnsOK := exitRow{ExitOK, "an answer came back: NOERROR with data, NODATA, or NXDOMAIN"}
	return map[string][]exitRow{
		"resolve":    {dnsOK, rowUsage, rowFailure, dnsNoReply, rowInternal},
		"demo":       {dnsOK, rowUsage, exitRow{ExitFailure, "the simulated internet could not start"}, dnsNoReply, rowInternal},
		"sim":        {exitRow{ExitOK, "stopped by a signal after serving"}, rowUsage, rowFailure, rowInternal},
		"serve":      {exitRow{ExitOK, "stopped by a signal, or --check-config found no error"}, rowUsage, rowFailure, rowInternal},
		"ctl":        {exitRow{ExitOK, "the server did the command"}, rowUsage, exitRow{ExitFailure, "the server is not reachable on its control socket, or refused the command; setup: the files could not be written once their directory passed its check (a full disk)"}, rowInternal},
		"arp probe":  {exitRow{ExitOK, "replies came (with -c: as many as sent; with -D: the address is free; -U and -A: sent)"}, exitRow{ExitNoReply, "no reply, or fewer than sent (with -D: the address is in use)"}, exitRow{ExitUsage, "usage error, no route, unknown interface, a missing privilege or any other error (as arping's 2)"}, rowInternal},
		"arp scan":   {exitRow{ExitOK, "the scan ran, whether or not hosts answered (as arp-scan)"}, exitRow{ExitUsage, "usage error, no route, unknown interface, a missing privilege or any other error (arping's 2)"}, rowInternal},
		"arp watch":  {exitRow{ExitOK, "stopped by a signal or -d"}, exitRow{ExitUsage, "usage error, unknown interface, a missing privilege or any other error (arping's 2)"}, rowInternal},
		"arp cache":  {rowOK, exitRow{ExitUsage, "usage error, unknown interface, or the kernel's neighbour table could not be read (arping's 2 for any error)"}, rowInternal},
		"ndp probe":  {exitRow{ExitOK, "an advertisement came (with -D: the address is free)"}, exitRow{ExitNoReply, "no advertisement (with -D: the address is in use)"}, exitRow{ExitUsage, "usage error, no route, unknown interface, a missing privilege or any other error (arping's 2)"}, rowInternal},
		"ndp scan":   {exitRow{ExitOK, "the scan ran, whether or not hosts answered (as arp-scan)"}, exitRow{ExitUsage, "usage error, no interface given, a missing privilege or any other error (arping's 2)"}, rowInternal},
		"ndp cache":  {rowOK, exitRow{ExitUsage, "usage error, unknown interface, or the kernel's neighbour table could not be read (arping's 2 for any error)"}, rowInternal},
		"path":       {exitRow{ExitOK, "the name was followed to a MAC address"}, exitRow{ExitNoReply, "the next hop did not answer ARP"}, rowUsage, exitRow{ExitFailure, "no route to the address"}, dnsNoReply, rowInternal},
		"help":       {rowOK, rowUsage},
		"completion": {rowOK, rowUsage},
		"man":        {rowOK, rowUsage},
	}
}

// exitStatusHelp is a command's table as help and the man page print it.
func exitStatusHelp(rows []exitRow) string {
	var b strings.Builder
	b.WriteString("Exit status:")
	for _, r := range rows {
		fmt.Fprintf(&b, "\n  %-3d %s", r.code, r.meaning)
	}
	return b.String()
}

// exitStatusText is every command's table, for the man page.
func exitStatusText() string {
	t := exitTable()
	var b strings.Builder
	for _, cmd := range slices.Sorted(maps.Keys(t)) {
		fmt.Fprintf(&b, "addrwalk %s:\n", cmd)
		for _, r := range t[cmd] {
			fmt.Fprintf(&b, "  %-3d %s\n", r.code, r.meaning)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// listenErr gives a failure to bind a listener its status: a missing
// privilege (a port below 1024 without CAP_NET_BIND_SERVICE) is a usage
// error with the setcap hint, as every command treats privileges; anything
// else (the port in use, an address not on this host) is a failure.
func listenErr(err error) error {
	if errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission) {
		return withExit(ExitUsage, fmt.Errorf("%w (ports below 1024 need root or CAP_NET_BIND_SERVICE: sudo setcap cap_net_bind_service+ep $(command -v addrwalk))", err))
	}
	return withExit(ExitFailure, err)
}

// otherFailure is the status of an error a command returns without one of
// its own: 3, or 2 for a command whose table has no 3 (the arping family,
// where 2 is any error).
func otherFailure(cmd string) int {
	rows, ok := exitTable()[cmd]
	if !ok || slices.ContainsFunc(rows, func(r exitRow) bool { return r.code == ExitFailure }) {
		return ExitFailure
	}
	return ExitUsage
}
