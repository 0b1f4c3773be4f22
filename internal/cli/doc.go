// Package cli implements the addrwalk command line (kong): resolve, demo,
// sim, serve, ctl, arp, ndp and path, plus help, completion and man. main
// calls Run; tests call it too, with their own writers. Output for people
// and --json for machines come from the same data (resolver.Trace,
// arptrace.Trace, ndptrace.Trace).
//
// `path` lives in path.go (the steps: hosts file, A and AAAA walks, route,
// ARP or ND), path_choose.go (which address, as RFC 6724 sorts them) and
// path_doc.go (the --json document; its schema is path.schema.json).
//
// `ctl` lives in ctl.go (a command to a running serve), ctl_remote.go
// (--remote: the mutual-TLS listener) and ctl_setup.go (ctl setup, the
// control channel's CA and certificates); serve's side of the channel is
// servectl.go.
//
// Conventions every command shares, each in one file:
//   - cli.go: Run, the kong parser, exit-status plumbing, the help hint;
//   - durationflag.go: the type of every duration flag (package duration's
//     one rule, as the configuration file);
//   - numberflag.go: integer, port and string flag values read with a
//     message that names the value and what is accepted (not kong's);
//     TestBadInputs checks every command's messages for stutter and Go's
//     words;
//   - every file a flag or configuration key names is read (and written)
//     through internal/fileerr: "cannot read --trust-anchor /x: no such
//     file", size-bounded; serve names a key by its flag when a flag set
//     it (config.Config.Name);
//   - outputcheck.go: every file a flag names for writing (--svg, --html,
//     --state, --hints, --anchor, --self-signed-cert) is checked before the
//     work starts (checkOutput): its directory exists and takes a file;
//     so is a directory a command writes its files into (ctl setup's
//     --dir: checkOutputDir);
//     TestSentinelWording renders every package's sentinel wrappings a user
//     can reach and checks them with msgcheck;
//   - exitstatus.go: each command's exit-status table (dig's 9 and 10,
//     arping's 1 and 2, 3 for other failures), shown in help and the man page;
//   - help.go: help [COMMAND], --version from the build information, the
//     help decorations;
//   - completion.go: completion bash|zsh|fish and man, generated from the
//     kong model.
//
// serve's Go soft memory limit, from [cache] size and max-inflight, is in
// memlimit.go; the collector's target it moves with the live heap, in
// gctarget.go.
package cli
