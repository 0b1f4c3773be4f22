// Package walkview draws a resolution as a picture: SVG generated in Go,
// deterministic and testable, from the same data the JSON output prints
// (a *resolver.Result and its *resolver.Trace, through FromResult).
//
// A picture has four parts:
//   - the delegation graph: zones from the root down, each with the
//     servers asked there (name, address, what was asked, RTT, why that
//     server, and the outcome as a word on a coloured pill), referral
//     arrows labelled with the NS set and glue learned, glueless
//     sub-resolutions as dashed branches, CNAME and DNAME hops as arrows
//     between owner names, cache lookups as diamond marks, and the result;
//   - the DNSSEC chain of trust (RFC 4033–4035): per zone the DS from the
//     parent (or the trust anchor), the DNSKEYs with tags and algorithms,
//     the RRSIGs over them, links from a DS to the key it matches and from
//     a key to what it signed, the status (Secure, Insecure, Bogus,
//     Indeterminate) and the reason for a Bogus verdict;
//   - a waterfall timeline: every upstream query as a bar from send to
//     reply, nested under the sub-resolution that caused it;
//   - a legend. Every colour also comes with a word, and all text is
//     real <text>, selectable and searchable.
//
// Elements carry class names by role and outcome (zone, server q-timeout,
// edge edge-referral, chain-zone sec-bogus …) and data-* attributes (zone,
// server, addr, tag), which the golden tests compare.
//
// Files:
//   - model.go: Resolution, FromResult, and the walk arranged for drawing
//   - graph.go: the delegation graph
//   - chain.go: the chain of trust
//   - waterfall.go: the timeline
//   - render.go: one SVG document with header and legend
//   - html.go: a self-contained HTML page of one or more pictures
//   - seq.go: the three-lane sequence diagram ARP and ND share
//   - arp.go: an ARP trace (RFC 826, RFC 5227) as a sequence diagram
//   - ndp.go: a Neighbor Discovery trace (RFC 4861, RFC 4862 DAD) as one
//   - path.go: `addrwalk path` as a strip of stages
//   - svg.go: the SVG writer, text metrics and escaping
//   - assets/: the style sheet and the page script, embedded
package walkview
