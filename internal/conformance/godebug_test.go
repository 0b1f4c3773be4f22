// The conformance scenarios sign zones with 512-bit RSA keys, which Go
// refuses by default; the addrwalk binary sets the same (see
// cmd/addrwalk/main.go).
//
//go:debug rsa1024min=0
package conformance
