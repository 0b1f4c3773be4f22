// Package ndptrace shows how an IPv6 address becomes a MAC address on an
// Ethernet link: the route, the kernel's neighbour cache entry with its
// NUD state, the Neighbor Solicitation on the wire and the Neighbor
// Advertisement that answers it, with timings. It is arptrace's IPv6 twin.
//
// It implements the parts of these specifications that a prober needs:
//
//   - RFC 4861, Neighbor Discovery for IP version 6: the NS sent to the
//     target's solicited-node multicast address (section 7.2.2) with a
//     Source Link-Layer Address option, hop limit 255 (section 7.1.1), and
//     the NA with its R, S and O flags and Target Link-Layer Address.
//   - RFC 4862, IPv6 Stateless Address Autoconfiguration, section 5.4:
//     duplicate address detection, an NS from the unspecified address ::
//     without a source link-layer option; an NA for the target means the
//     address is in use.
//   - RFC 4291 section 2.7.1 (solicited-node multicast addresses) and RFC
//     2464 section 7 (33:33:xx:xx:xx:xx multicast MACs).
//
// Frames are built and parsed here (Ethernet and IPv6 headers; the ICMPv6
// message and its checksum by github.com/mdlayher/ndp) and sent on an
// AF_PACKET socket, so the trace shows exactly what went on the wire and a
// DAD probe really leaves from ::, which the kernel's ICMPv6 sockets would
// not allow. That needs CAP_NET_RAW, as arptrace. Routes and neighbours
// come from arptrace's rtnetlink code.
//
// An IPv6 link cannot be swept as arp-scan sweeps a /24 (a /64 holds 2^64
// addresses), so Scan sends an ICMPv6 Echo Request (RFC 4443) to ff02::1,
// the all-nodes group (RFC 4291 2.7.1), lists who answers with the MAC
// each reply came from, and adds the kernel's neighbour cache.
//
// Files: frame.go (Ethernet/IPv6/ICMPv6 codec, pure and fuzzed), echo.go
// (echo request and reply codec), trace.go (Solicit: route, cache, NS/NA
// exchange, cache), scan.go (Scan: echo to ff02::1, replies, cache),
// link_linux.go (the AF_PACKET link of internal/rawlink with a BPF filter
// for one ICMPv6 type), link_others.go (stub).
package ndptrace
