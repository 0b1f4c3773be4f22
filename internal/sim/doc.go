// Package sim is the built-in simulated internet of addrwalk: a root with
// three servers, the TLDs com, net, org, test, lab and arpa, and a couple
// of dozen zones below them, served by resolvertest on 127.x loopback
// addresses with per-server simulated latency.
//
// The zones are zone files (RFC 1035 section 5) embedded from zones/*.zone
// and written for this project; names are fictional or the reserved
// example.org, example.com and example.net (RFC 2606), and host addresses
// in answers come from the documentation and benchmarking ranges
// (RFC 5737, RFC 3849, RFC 2544). Name server addresses are always
// loopback, so a resolver walking the hierarchy never leaves the machine.
//
// Examples lists names that show one behaviour each: a plain delegation,
// a glueless one, CNAMEs across zones, DNAME (RFC 6672), NXDOMAIN and
// NODATA (RFC 2308), a dead server, lame delegations, an answer that needs
// TCP, several record types and a reverse zone. BulkNames lists 100 hosts
// under test. for benchmarks; Config.Hosts adds generated ones
// (GeneratedNames: five per zone under com., net., org. and test., every
// other zone signed) for benchmarks of thousands of names.
//
// DNSSEC (RFC 4033-4035): the root, every TLD, example.org, example.com,
// example.net and dnssec-test.org are signed when the lab starts, with
// keys New generates (ECDSA P-256; nothing is checked in); test. uses
// NSEC3 with opt-out, the others NSEC. The remaining zones are unsigned,
// so their delegations are Insecure. The children of dnssec-test.org show
// an NSEC3 zone, an unsigned zone and deliberately broken ones named after
// what is broken (expired, not-yet-valid, wrong-ds, missing-sig, bad-sig,
// no-nsec); the dnssec-* examples use them. A validating resolver takes
// its trust anchor from the lab's TrustAnchor.
package sim
