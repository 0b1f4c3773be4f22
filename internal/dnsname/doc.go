// Package dnsname holds allocation-free versions of the domain-name
// comparisons of github.com/miekg/dns that the resolver's hot path makes
// on every reply (RFC 1034 §3.1: names compare label by label, ignoring
// ASCII case; RFC 4343). miekg/dns splits both names into slices of label
// offsets for each comparison: ten allocations per cache miss (#11).
//
// Files: dnsname.go (IsSubDomain, LastLabels).
package dnsname
