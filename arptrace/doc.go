// Package arptrace shows how an IPv4 address becomes a MAC address on an
// Ethernet link: the route the kernel would take, the kernel's neighbour
// cache, and the ARP exchange on the wire.
//
// It implements the parts of these specifications that a prober, a scanner
// and a passive monitor need:
//
//   - RFC 826, An Ethernet Address Resolution Protocol: the who-has request
//     (broadcast to ff:ff:ff:ff:ff:ff) and the is-at reply.
//   - RFC 5227, IPv4 Address Conflict Detection: the ARP probe (sender IP
//     0.0.0.0) used by Trace with TraceOptions.DAD, and the announcement
//     (sender IP = target IP) used with TraceOptions.Announce. Watch labels
//     both when it sees them.
//   - RFC 5944 section 4.6, gratuitous ARP: a request or reply whose sender
//     and target protocol addresses are equal; Watch reports unsolicited ones.
//
// The kernel's routing and neighbour tables are read over rtnetlink
// (rtnetlink(7)); frames are sent and received on an AF_PACKET socket
// (packet(7)), which needs CAP_NET_RAW. Only Linux is supported: elsewhere
// every function that touches the network returns an error wrapping
// ErrNotSupported.
//
// Everything a Trace, Scan or Watch learns is returned as plain data (with
// times as offsets, RTTs and Millis durations) so that a command line or a
// visualisation renders text, JSON or pictures from the same values; a
// TraceObserver and ScanOptions.OnResponse stream it as it happens.
//
// Files: trace.go (Trace: arping's schedule and rules), scan.go (Scan:
// arp-scan's algorithm), scan_targets.go (arp-scan's target syntax),
// watch.go (Monitor, Watch: arpwatch's events), frame.go (Ethernet/ARP
// codec), oui.go (vendor registry), types.go (routes, neighbours),
// millis.go (durations in ms), iface.go (interfaces, the link seam),
// ifname.go (InterfaceByName: a missing interface named plainly),
// hostname.go (what is never a host name; the system resolver's failure
// in words),
// link_linux.go (ARP on internal/rawlink's AF_PACKET link, which ndptrace
// shares), netlink_linux.go (routes and neighbours over
// rtnetlink), neigh.go, errors.go, and *_others.go stubs.
package arptrace
