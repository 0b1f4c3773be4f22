package resolver

import (
	"fmt"

	"github.com/miekg/dns"
)

// TypeRule is what addrwalk does with a question whose type is a
// meta-type, a question-only type or an obsolete one (RFC 6895 §3.1): one
// table shared by the library (Query and Refresh refuse them), the CLI
// (a usage error) and the server (the reply code below).
type TypeRule struct {
	// Rcode is the server's reply: FORMERR for types that cannot be a
	// question at all, REFUSED for zone transfers (a resolver holds no
	// zone), NOTIMP for types addrwalk does not implement.
	Rcode int
	// EDE is the Extended DNS Error code sent with it (RFC 8914), or
	// NoEDE.
	EDE uint16
	// Reason says why, in words a user of the CLI reads.
	Reason string
}

// NoEDE marks a TypeRule without an Extended DNS Error.
const NoEDE = 0xffff

// typeRules holds every type that is not resolved. ANY is not here: it is
// resolved, and the authoritative server's reply (RFC 8482 allows a
// subset, often one RRset or an HINFO) is passed on as it came.
var typeRules = map[uint16]TypeRule{
	0:             {dns.RcodeFormatError, NoEDE, "type 0 is reserved and cannot be asked for"},
	dns.TypeOPT:   {dns.RcodeFormatError, NoEDE, "OPT is the EDNS pseudo-record (RFC 6891), not a question"},
	dns.TypeTSIG:  {dns.RcodeFormatError, NoEDE, "TSIG is a transaction signature (RFC 8945), only ever in the additional section"},
	dns.TypeTKEY:  {dns.RcodeNotImplemented, NoEDE, "TKEY key negotiation (RFC 2930) is between a client and a server it shares keys with, not resolved"},
	dns.TypeAXFR:  {dns.RcodeRefused, dns.ExtendedErrorCodeNotSupported, "zone transfers (AXFR) are not served by a resolver; ask the zone's primary server over TCP (dig AXFR @server)"},
	dns.TypeIXFR:  {dns.RcodeRefused, dns.ExtendedErrorCodeNotSupported, "zone transfers (IXFR) are not served by a resolver; ask the zone's primary server (dig IXFR=serial @server)"},
	dns.TypeMAILA: {dns.RcodeNotImplemented, NoEDE, "MAILA is obsolete (RFC 973 replaced it with MX)"},
	dns.TypeMAILB: {dns.RcodeNotImplemented, NoEDE, "MAILB is obsolete (its MB, MG and MR records are experimental and unused)"},
}

// RuleForType reports whether questions of type t are refused, and how.
func RuleForType(t uint16) (TypeRule, bool) {
	r, ok := typeRules[t]
	return r, ok
}

// CheckRequest validates and normalises a request the way Query and
// Refresh do: the name must be a domain name (made fully qualified), the
// class defaults to IN, and the type must be one that can be resolved.
// The error is an *Error wrapping ErrInvalidQuestion.
func CheckRequest(req *Request) error {
	if _, ok := dns.IsDomainName(req.Name); !ok || req.Name == "" {
		return &Error{Name: req.Name, Type: req.Type, Err: ErrInvalidQuestion, Detail: fmt.Sprintf("%q is not a domain name", req.Name), EDE: edeOther}
	}
	req.Name = dns.Fqdn(req.Name)
	if req.Class == 0 {
		req.Class = dns.ClassINET
	}
	if rule, ok := typeRules[req.Type]; ok {
		return &Error{Name: req.Name, Type: req.Type, Err: ErrInvalidQuestion, Detail: rule.Reason, EDE: edeOther}
	}
	return nil
}
