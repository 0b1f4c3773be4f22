// Package forge sends blind (Kaminsky-style) forged DNS replies for the
// hostile-network tests: spoofed IPv4/UDP datagrams from an authoritative
// server's address and port, through a raw IPPROTO_RAW socket (IP_HDRINCL),
// to a resolver's address on guessed ports with guessed IDs (RFC 5452 §4
// describes the attack). Each carries a poisoned answer and an in-bailiwick
// NS + glue redirect of the whole zone (Reply).
//
// Files: forge_linux.go: the raw socket (Open, Build, Send); forge_others.go:
// the stub elsewhere; reply.go: the payload. Only tests and bench/hostile use
// it, and only towards loopback or a namespace they made.
package forge
