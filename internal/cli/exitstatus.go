package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"
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
	rowUsage := exitRow{ExitUsage, "usage error: a bad flag, argument or input file (configuration, root hints, trust anchor), or a missing privilege"}
	rowFailure := exitRow{ExitFailure, "the operation failed: a port in use, a socket or file that could not be opened"}
	rowInternal := exitRow{ExitInternal, "internal error: addrwalk crashed (a bug; the message says where)"}
	dnsNoReply := exitRow{ExitDNSNoReply, "no usable reply: SERVFAIL, every server dead or lame, a limit tripped, the deadline passed (as dig's 9)"}
	dnsOK := exitRow{ExitOK, "an answer came back: NOERROR with data, NODATA, or NXDOMAIN"}
	return map[string][]exitRow{
		"resolve":    {dnsOK, rowUsage, rowFailure, dnsNoReply, rowInternal},
		"demo":       {dnsOK, rowUsage, exitRow{ExitFailure, "the simulated internet could not start"}, dnsNoReply, rowInternal},
		"sim":        {exitRow{ExitOK, "stopped by a signal after serving"}, rowUsage, rowFailure, rowInternal},
		"serve":      {exitRow{ExitOK, "stopped by a signal, or --check-config found no error"}, rowUsage, rowFailure, rowInternal},
		"ctl":        {exitRow{ExitOK, "the server did the command"}, rowUsage, exitRow{ExitFailure, "the server is not reachable on its control socket, or refused the command"}, rowInternal},
		"arp probe":  {exitRow{ExitOK, "replies came (with -c: as many as sent; with -D: the address is free; -U and -A: sent)"}, exitRow{ExitNoReply, "no reply, or fewer than sent (with -D: the address is in use)"}, exitRow{ExitUsage, "usage error, no route, unknown interface or a missing privilege (as arping's 2)"}, rowInternal},
		"arp scan":   {exitRow{ExitOK, "the scan ran, whether or not hosts answered (as arp-scan)"}, exitRow{ExitUsage, "usage error, no route, unknown interface or a missing privilege"}, rowInternal},
		"arp watch":  {exitRow{ExitOK, "stopped by a signal or -d"}, exitRow{ExitUsage, "usage error, unknown interface or a missing privilege"}, rowInternal},
		"arp cache":  {rowOK, exitRow{ExitUsage, "usage error or unknown interface"}, exitRow{ExitFailure, "the kernel's neighbour table could not be read"}, rowInternal},
		"ndp probe":  {exitRow{ExitOK, "an advertisement came (with -D: the address is free)"}, exitRow{ExitNoReply, "no advertisement (with -D: the address is in use)"}, exitRow{ExitUsage, "usage error, no route, unknown interface or a missing privilege"}, rowInternal},
		"ndp cache":  {rowOK, exitRow{ExitUsage, "usage error or unknown interface"}, exitRow{ExitFailure, "the kernel's neighbour table could not be read"}, rowInternal},
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
