package arptrace

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// NotAHostName reports whether s cannot be a host name and so must not be
// looked up: it has a character no host name has (':' or '/'), or it is
// made of digits and dots only (RFC 3696 §2: a top-level domain is never
// all-numeric), so "1.2.3", "300.1.1.1" and "10.0.0.0/40" are bad
// addresses, not names for the system resolver to search for.
func NotAHostName(s string) bool {
	if strings.ContainsAny(s, ":/") {
		return true
	}
	return strings.Trim(s, "0123456789.") == ""
}

// HostLookupError says why the system resolver found no address for host,
// without Go's "lookup X on 10.0.0.53:53:" wording.
func HostLookupError(host string, err error) error {
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return fmt.Errorf("no host named %q (system resolver)", host)
	case errors.As(err, &de) && de.IsTimeout:
		return fmt.Errorf("host %q: the system resolver did not answer in time", host)
	case errors.As(err, &de):
		return fmt.Errorf("host %q: system resolver: %s", host, de.Err)
	}
	return fmt.Errorf("host %q: %w", host, err)
}
