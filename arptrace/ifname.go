package arptrace

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// maxListedInterfaces bounds the names a NoInterfaceError lists: a host
// with hundreds of veths would otherwise print them all; 12 names fit on
// one terminal line and show the naming scheme.
const maxListedInterfaces = 12

// NoInterfaceError means no interface of that name exists. It lists the
// ones that do, so a typo is plain to see. It wraps ErrInterface.
type NoInterfaceError struct {
	Name string
	Have []string // the host's interfaces, at most maxListedInterfaces
	More int      // how many more the host has
}

func (e *NoInterfaceError) Error() string {
	if len(e.Have) == 0 {
		return fmt.Sprintf("arptrace: no interface named %q (this host has none; see 'ip link')", e.Name)
	}
	have := strings.Join(e.Have, ", ")
	if e.More > 0 {
		have += fmt.Sprintf(" and %d more", e.More)
	}
	return fmt.Sprintf("arptrace: no interface named %q (this host has %s; see 'ip link')", e.Name, have)
}

// Unwrap makes errors.Is(err, ErrInterface) true.
func (e *NoInterfaceError) Unwrap() error { return ErrInterface }

// InterfaceByName is net.InterfaceByName with an error for people: a
// name that does not exist gives a *NoInterfaceError listing the ones that
// do, instead of Go's "route ip+net: no such network interface". Every
// lookup of a user-given interface name goes through it.
func InterfaceByName(name string) (*net.Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err == nil {
		return ifi, nil
	}
	ifs, lerr := net.Interfaces()
	if lerr != nil {
		return nil, fmt.Errorf("%w %q: the kernel's interface list could not be read: %w", ErrInterface, name, errors.Join(err, lerr))
	}
	e := &NoInterfaceError{Name: name}
	for _, x := range ifs {
		if x.Name == name {
			// It exists, yet could not be read: say so, with the cause.
			return nil, fmt.Errorf("%w %q: could not be read: %w", ErrInterface, name, err)
		}
		if len(e.Have) < maxListedInterfaces {
			e.Have = append(e.Have, x.Name)
		} else {
			e.More++
		}
	}
	return nil, e
}
