// Package dnssec holds the pure DNSSEC validation primitives used by the
// iterative resolver: signature verification, DNSKEY authentication against
// DS records or trust anchors, authenticated denial of existence with NSEC and
// NSEC3, trust anchors (including negative trust anchors) and root key
// sentinel parsing.
//
// The package performs no network I/O and keeps no mutable package-level
// state. Time is always passed in explicitly (a now time.Time argument), and
// the cryptographic work done for one request is bounded by a [Budget]
// (KeyTrap, CVE-2023-50387; NSEC3 hashing, CVE-2023-50868).
//
// Every check returns either nil (the data or proof is Secure) or an error.
// Errors are *[Failure] values carrying the resulting security [Status], an
// RFC 8914 Extended DNS Error code and a sentinel error usable with
// errors.Is; [StatusOf] maps any error to a Status.
//
// Implemented specifications:
//
//   - RFC 4033, RFC 4034, RFC 4035: DNSSEC protocol, resource records,
//     validation (§5.3 signatures, §5.4 NSEC denial, canonical form and
//     ordering of RFC 4034 §6).
//   - RFC 2536: DSA KEYs and SIGs (algorithms 3 and 6), verified here because
//     github.com/miekg/dns does not (note RFC 8624 §3.1 says validators MUST
//     NOT; see AlgorithmSupported).
//   - RFC 4509 (SHA-256 DS, preferred over SHA-1), RFC 6605 (ECDSA),
//     RFC 8080 (Ed25519), RFC 5702 (RSA/SHA-2).
//   - RFC 5011: automated updates of trust anchors ([TrustPoint],
//     [AutoTrust]: hold-down timers, revocation, a state file); the
//     probing itself is the resolver's.
//   - RFC 5155: NSEC3 (§8 validator behaviour, opt-out).
//   - RFC 6840: clarifications (§4.1 ancestor delegation NSEC/NSEC3, §4.3
//     CNAME bit in no-data proofs, §4.4 insecure delegation proofs with
//     opt-out, §5.1 canonical form without HINFO, §5.2 unknown DS digest
//     types, §5.11 any valid signature path suffices).
//   - RFC 7646: negative trust anchors.
//   - RFC 8509: root key trust anchor sentinel labels.
//   - RFC 8914: Extended DNS Errors reported by Failure.EDE.
//   - RFC 9276: NSEC3 iteration limits.
//   - RFC 9718: root zone trust anchor publication (built-in root anchors).
package dnssec
