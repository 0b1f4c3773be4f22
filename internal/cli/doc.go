// Package cli implements the addrwalk command line (kong): resolve, demo,
// sim, serve, arp, ndp and path. main calls Run; tests call it too, with
// their own writers. Output for people and --json for machines come from
// the same data (resolver.Trace, arptrace.Trace, ndptrace.Trace).
//
// `path` lives in path.go (the steps: hosts file, A and AAAA walks, route,
// ARP or ND), path_choose.go (which address, as RFC 6724 sorts them) and
// path_doc.go (the --json document; its schema is path.schema.json).
//
// Exit statuses are stable: resolve follows dig (9 when no usable reply
// came), arp follows iputils arping (1 when no reply came, 2 for usage or
// permission errors).
package cli
