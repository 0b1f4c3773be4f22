package arptrace

import (
	"errors"
	"fmt"
)

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrNotSupported is returned on platforms other than Linux.
	ErrNotSupported = errors.New("arptrace: not supported on this platform (Linux only: AF_PACKET and rtnetlink)")
	// ErrPermission means opening a raw packet socket was refused.
	ErrPermission = errors.New("arptrace: permission denied: raw ARP needs CAP_NET_RAW")
	// ErrInterface means the interface cannot carry ARP (loopback,
	// not Ethernet, down) or does not exist.
	ErrInterface = errors.New("arptrace: unusable interface")
	// ErrNoRoute means the kernel has no route to the address.
	ErrNoRoute = errors.New("arptrace: no route")
	// ErrTooLarge means a scan range exceeds MaxScanHosts (or, forced,
	// MaxForcedScanHosts).
	ErrTooLarge = errors.New("arptrace: scan range too large")
	// ErrInvalidAddress means the address is not a unicast IPv4 address.
	ErrInvalidAddress = errors.New("arptrace: invalid address")
)

// SetcapHint is the command that grants the capability to the binary.
const SetcapHint = "sudo setcap cap_net_raw+ep $(command -v addrwalk)"

// PermissionError is returned when the kernel refuses a raw socket. It
// wraps ErrPermission and the system error.
type PermissionError struct {
	Op  string // what was attempted, e.g. "open AF_PACKET socket on eth0"
	Err error  // the system error (EPERM)
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("arptrace: %s: %v: raw ARP needs the CAP_NET_RAW capability; run as root or grant it with: %s",
		e.Op, e.Err, SetcapHint)
}

// Unwrap returns both ErrPermission and the system error.
func (e *PermissionError) Unwrap() []error { return []error{ErrPermission, e.Err} }

// addressError is an ErrInvalidAddress whose text is its detail alone,
// so the detail ("… is not an IPv4 address") is not said twice.
type addressError struct {
	pkg string // the package prefix of the message
	err error
}

func (e *addressError) Error() string   { return e.pkg + ": " + e.err.Error() }
func (e *addressError) Unwrap() []error { return []error{ErrInvalidAddress, e.err} }

// InvalidAddressf returns an error wrapping ErrInvalidAddress (and any %w
// operand) whose message is pkg, then the formatted detail.
func InvalidAddressf(pkg, format string, args ...any) error {
	return &addressError{pkg: pkg, err: fmt.Errorf(format, args...)}
}
