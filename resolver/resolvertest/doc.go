// Package resolvertest runs a lab of real authoritative DNS servers on
// loopback addresses, in the spirit of net/http/httptest: tests, demos and
// benchmarks of the iterative resolver talk to it over real UDP and TCP
// sockets bound to 127.x.y.z addresses, never to the internet.
//
// A Lab is built from zones given as zone-file text (RFC 1035 section 5,
// with $ORIGIN and $TTL) and servers, each with its own loopback address,
// hosting some of those zones on the lab's common port:
//
//	lab := resolvertest.New(resolvertest.Config{})
//	lab.AddZone(".", rootText)
//	lab.AddZone("example.org.", orgText)
//	lab.AddServer("a.root-servers.lab.", netip.MustParseAddr("127.0.0.1"), ".")
//	lab.AddServer("ns1.example.org.", netip.MustParseAddr("127.0.1.1"), "example.org.")
//	err := lab.Start(ctx)
//	defer lab.Close()
//
// Tests write a hierarchy as data, a Hierarchy (hierarchy.go): zone texts,
// the zones to sign and the hosts; Hierarchy.Start builds and starts its
// lab for a test. Package labresolver points a resolver at a started lab
// (it is apart because the resolver's own tests import this package):
//
//	lab := resolvertest.Hierarchy{Zones: zones, Servers: hosts}.Start(t, resolvertest.Config{})
//	r := labresolver.New(t, lab, func(c *resolver.Config) {
//		c.TrustAnchors = labresolver.TrustAnchors(t, lab)
//	})
//
// The authoritative engine implements the lookup algorithm of RFC 1034
// section 4.3.2 with the refinements real servers apply:
//
//   - authoritative answers carry AA; CNAME chains are followed inside the
//     zone (RFC 1034 section 3.6.2);
//   - DNAME redirection with a synthesized CNAME (RFC 6672);
//   - wildcards, including wildcard NODATA (RFC 4592);
//   - referrals at zone cuts with glue (RFC 1034 section 4.2.1), and DS
//     answered from the parent side of a cut (RFC 4035 section 3.1.4.1);
//   - NXDOMAIN and NODATA with the SOA in authority, its TTL capped by the
//     SOA MINIMUM (RFC 2308 section 3); empty non-terminals are NODATA
//     (RFC 8020);
//   - REFUSED for names outside every hosted zone;
//   - EDNS(0) echoed (RFC 6891) and UDP replies truncated with TC to the
//     client's payload size, 512 octets without EDNS (RFC 1035 section
//     4.2.1).
//
// Zones can be signed (SignZone, DNSSEC: RFC 4033-4035, NSEC3 RFC 5155)
// with keys generated in memory: ECDSA P-256 by default, a KSK and a ZSK,
// an NSEC or NSEC3 chain, and the DS of each signed child put into its
// signed parent. For queries with DO=1 the engine then returns the RRSIGs
// of every RRset, the DS or the NSEC/NSEC3 proof of no DS at referrals,
// and the NSEC/NSEC3 proofs of NXDOMAIN, NODATA and wildcard answers (RFC
// 4035 section 3.1); without DO answers are those of an unsigned zone
// except that DNSKEY and DS RRsets exist. TrustAnchor gives the root's DS
// for a validating resolver, and SignOptions.Break breaks a zone on
// purpose (expired or not yet valid signatures, a DS that matches no key,
// missing or tampered RRSIGs, missing NSEC proofs).
//
// RFC4035Example and RFC5155Example rebuild the example zones of RFC 4035
// and RFC 5155 Appendix A (rfcexamples.go) below a signed root, so the
// RFCs' example responses (their Appendix B) can be asked of a validator.
//
// Every server can be told at run time to misbehave (see Faults): latency,
// silence, REFUSED, SERVFAIL, lameness, forced truncation, malformed
// replies, forgeries (wrong ID, wrong question, wrong source address) and
// arbitrary rewriting of replies through a hook. The queries each server
// received are recorded for tests that count upstream traffic.
package resolvertest
