// Package report is the one JSON form of a resolution and of the
// server-selection table, wherever addrwalk prints them: `addrwalk resolve
// --json`, `addrwalk demo --json`, and the server's /debug/trace and
// /debug/infra.
//
// The conventions, which every JSON output of addrwalk follows: keys in
// snake_case; durations in milliseconds as numbers, with a _ms suffix
// (RFC 8259 numbers, microsecond precision); points in time as RFC 3339
// strings; DNS records as presentation-format strings (RFC 1035 §5.1,
// fields separated by one space); a value that is absent is left out, never
// null. The JSON Schema (draft 2020-12) is resolution.schema.json beside
// this file, also available as Schema.
//
// Files:
//   - report.go: Resolution, Step and Trace, built from a resolver.Result.
//   - infra.go: Infra, built from the resolver's infrastructure cache.
//   - schema.go: the embedded JSON Schema.
package report
