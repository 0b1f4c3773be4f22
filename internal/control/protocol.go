package control

import (
	"fmt"
	"strings"
)

// Request is one command.
type Request struct {
	Cmd  string   `json:"cmd"`
	Args []string `json:"args,omitempty"`
	// JSON asks for machine-readable output where a command has one
	// (stats, status).
	JSON bool `json:"json,omitempty"`
}

// Response is the server's verdict, sent before the command's output.
type Response struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Usage marks an error in the request itself (unknown command, wrong
	// arguments), as opposed to a failure of the command.
	Usage bool `json:"usage,omitempty"`
}

// command describes one command for dispatch and usage text.
type command struct {
	name    string
	args    string // usage of the arguments, "" when none
	minArgs int
	maxArgs int
	help    string
}

// commands lists every command, in the order the usage text shows them.
var commands = []command{
	{"status", "", 0, 0, "version, uptime, listeners and configuration file"},
	{"stats", "", 0, 0, "the counters of /metrics, human-readable (--json for JSON)"},
	{"reload", "", 0, 0, "re-read the configuration, as SIGHUP; reports the error with its line"},
	{"flush", "NAME [TYPE]", 1, 2, "forget what is cached for NAME (every type, or TYPE)"},
	{"flush-zone", "NAME", 1, 1, "forget everything cached at and below NAME"},
	{"flush-infra", "ADDR|all", 1, 1, "forget the RTT and lameness of a server, or of all"},
	{"flush-bogus", "", 0, 0, "forget data that failed validation and remembered failures"},
	{"flush-negative", "", 0, 0, "forget cached NXDOMAIN and NODATA answers"},
	{"dump-cache", "", 0, 0, "write the cache as text (load-cache reads it back)"},
	{"load-cache", "", 0, 0, "read a dump-cache text (on the connection) into the cache"},
	{"lookup", "NAME", 1, 1, "which servers the resolver would ask for NAME, and why"},
	{"list-forwards", "", 0, 0, "forward and stub zones and their servers"},
	{"list-local-data", "", 0, 0, "local data records"},
	{"anchors", "", 0, 0, "trust anchors and their RFC 5011 states"},
	{"trace-on", "NAME [COUNT [DURATION]]", 1, 3, "record the next COUNT resolutions of NAME (10, at most 100) for DURATION (10m, at most 1h), in the log and for trace-dump"},
	{"trace-off", "NAME|all", 1, 1, "stop recording the resolutions of NAME, or of every name"},
	{"trace-dump", "[NAME]", 0, 1, "the names traced and the resolutions recorded, with their walks (--json for JSON)"},
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// checkArgs validates the number of arguments of req.
func checkArgs(req Request) (command, error) {
	c, ok := findCommand(req.Cmd)
	if !ok {
		return c, fmt.Errorf("unknown command %q; commands:\n%s", req.Cmd, Usage())
	}
	if len(req.Args) < c.minArgs || len(req.Args) > c.maxArgs {
		return c, fmt.Errorf("usage: %s", strings.TrimSpace(c.name+" "+c.args))
	}
	return c, nil
}

// Usage lists the commands, one a line.
func Usage() string {
	var b strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-28s %s\n", strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	return b.String()
}
