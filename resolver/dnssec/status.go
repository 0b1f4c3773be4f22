package dnssec

import (
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// Status is the security status of an RRset or a response (RFC 4033 §5,
// RFC 4035 §4.3).
type Status uint8

// Security states. The zero value is Indeterminate: nothing was proved.
const (
	// Indeterminate: there is no trust anchor to say whether the data
	// should be signed.
	Indeterminate Status = iota
	// Secure: an unbroken chain of signed DNSKEY and DS RRs leads from a
	// trust anchor to the data.
	Secure
	// Insecure: there is proof that no chain of trust exists for the data
	// (unsigned delegation, unsupported algorithm, opt-out, negative trust
	// anchor, ...).
	Insecure
	// Bogus: a chain of trust should exist but the data failed to validate.
	Bogus
)

// String returns the RFC 4033 name of the status.
func (s Status) String() string {
	switch s {
	case Indeterminate:
		return "Indeterminate"
	case Secure:
		return "Secure"
	case Insecure:
		return "Insecure"
	case Bogus:
		return "Bogus"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// NoEDE is the Failure.EDE value when no RFC 8914 code applies (an insecure
// outcome is not an error for the client). 65535 lies in the RFC 8914 private
// range and is never put on the wire.
const NoEDE uint16 = 0xFFFF

// Sentinel errors; every *Failure wraps exactly one of them.
var (
	// Bogus outcomes.
	ErrRRSIGsMissing               = errors.New("dnssec: no RRSIG covers the RRset")                                  // EDE 10
	ErrSignatureExpired            = errors.New("dnssec: signature expired")                                          // EDE 7
	ErrSignatureNotYetValid        = errors.New("dnssec: signature not yet valid")                                    // EDE 8
	ErrSignatureExpiredBeforeValid = errors.New("dnssec: signature expires before its inception")                     // EDE 25
	ErrDNSKEYMissing               = errors.New("dnssec: no DNSKEY matches the RRSIG or DS")                          // EDE 9
	ErrNoZoneKeyBit                = errors.New("dnssec: DNSKEY has no zone key bit set")                             // EDE 11
	ErrInvalidSignature            = errors.New("dnssec: signature does not verify")                                  // EDE 6
	ErrSignerMismatch              = errors.New("dnssec: signer name is not the zone of the RRset")                   // EDE 6
	ErrRRSIGMismatch               = errors.New("dnssec: RRSIG does not match the RRset")                             // EDE 6
	ErrBudgetExceeded              = errors.New("dnssec: too many signatures or hashes to check (work budget spent)") // EDE 6
	ErrNSECMissing                 = errors.New("dnssec: denial of existence not proved")                             // EDE 12
	ErrWildcardProofMissing        = errors.New("dnssec: wildcard expansion not proved")                              // EDE 12
	ErrMalformed                   = errors.New("dnssec: malformed data (a DNSKEY, RRSIG, DS or NSEC record)")        // EDE 6

	// Insecure outcomes.
	ErrUnsupportedAlgorithm = errors.New("dnssec: unsupported DNSKEY algorithm")          // EDE 1
	ErrUnsupportedDigest    = errors.New("dnssec: unsupported DS digest type")            // EDE 2
	ErrUnsupportedNSEC3Hash = errors.New("dnssec: unsupported NSEC3 hash algorithm")      // no EDE
	ErrNSEC3Iterations      = errors.New("dnssec: NSEC3 iterations above limit")          // EDE 27
	ErrOptOut               = errors.New("dnssec: NSEC3 opt-out span")                    // no EDE
	ErrNegativeTrustAnchor  = errors.New("dnssec: name is below a negative trust anchor") // no EDE
)

// Failure is the error returned by every check in this package. It carries
// the security status the caller must give the data, the RFC 8914 Extended
// DNS Error code to report (NoEDE when none) and a human-readable reason.
type Failure struct {
	Status Status
	EDE    uint16
	Reason string
	// Err is the sentinel (ErrSignatureExpired, ...) for errors.Is.
	Err error
}

// Error implements error.
func (f *Failure) Error() string {
	if f.Reason == "" {
		return f.Err.Error()
	}
	return f.Err.Error() + ": " + f.Reason
}

// Unwrap returns the sentinel error.
func (f *Failure) Unwrap() error { return f.Err }

// bogus builds a Bogus failure.
func bogus(sentinel error, ede uint16, format string, args ...any) *Failure {
	return &Failure{Status: Bogus, EDE: ede, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// insecure builds an Insecure failure.
func insecure(sentinel error, ede uint16, format string, args ...any) *Failure {
	return &Failure{Status: Insecure, EDE: ede, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// StatusOf maps a result of this package to a Status: nil is Secure, a
// *Failure gives its Status, any other error is Bogus.
func StatusOf(err error) Status {
	if err == nil {
		return Secure
	}
	var f *Failure
	if errors.As(err, &f) {
		return f.Status
	}
	return Bogus
}

// EDEOf returns the RFC 8914 code for err, NoEDE when there is none.
func EDEOf(err error) uint16 {
	if err == nil {
		return NoEDE
	}
	var f *Failure
	if errors.As(err, &f) {
		return f.EDE
	}
	return dns.ExtendedErrorCodeDNSBogus
}
