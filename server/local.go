package server

import (
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/zoneerr"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/hostsfile"
)

// HostsTTL is the TTL of records imported from a hosts file; Unbound uses
// the same default for its local-data.
const HostsTTL = 3600

// hostsError is an error AddHosts found in a line, already naming the
// file and line; errors about the file as a whole are wrapped with its
// name.
type hostsError struct{ err error }

func (e *hostsError) Error() string { return e.err.Error() }
func (e *hostsError) Unwrap() error { return e.err }

// Local is local data answered before the resolver, like Unbound's
// local-data in a "transparent" local zone: a name with local records is
// answered from them (with AA set, as Unbound does; NODATA for other types
// of that name); names without local records are resolved as usual.
// Build it with NewLocal, AddRecord and AddHosts; it must not change once
// given to a Handler.
type Local struct {
	// names maps lower-case wire-format names to their records by type.
	names map[string]map[uint16]*localSet
}

// localSet is the records of one name and type, packed once when added:
// the query path copies the bytes and never touches the records (packing
// writes to them).
type localSet struct {
	wire []byte // the records in wire format, uncompressed
	n    int
}

// wireKey returns the wire form of a canonical name.
func wireKey(name string) string {
	buf := make([]byte, maxNameLen+1)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return name // never matches a wire name; AddRecord checked it
	}
	return string(buf[:n])
}

// NewLocal returns empty local data.
func NewLocal() *Local { return &Local{names: map[string]map[uint16]*localSet{}} }

// Len returns the number of names with local data.
func (l *Local) Len() int {
	if l == nil {
		return 0
	}
	return len(l.names)
}

// AddRecord adds one record given as a zone-file line, e.g.
// "router.example.org. 3600 IN A 192.0.2.1". Names must be absolute.
func (l *Local) AddRecord(line string) error {
	rr, err := dns.NewRR(line)
	if err != nil {
		return fmt.Errorf("server: local record %q: %w", line, zoneerr.Explain(err, ""))
	}
	if rr == nil {
		return fmt.Errorf("server: local record %q: empty", line)
	}
	if rr.Header().Class != dns.ClassINET {
		return fmt.Errorf("server: local record %q: class must be IN", line)
	}
	return l.add(rr)
}

func (l *Local) add(rr dns.RR) error {
	name := dns.CanonicalName(rr.Header().Name)
	rr.Header().Name = name
	buf := make([]byte, dns.Len(rr)+maxNameLen)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return fmt.Errorf("server: local record %v: %w", rr, err)
	}
	k := wireKey(name)
	m := l.names[k]
	if m == nil {
		m = map[uint16]*localSet{}
		l.names[k] = m
	}
	set := m[rr.Header().Rrtype]
	if set == nil {
		set = &localSet{}
		m[rr.Header().Rrtype] = set
	}
	set.wire = append(set.wire, buf[:end]...)
	set.n++
	return nil
}

// AddHosts imports a hosts file (address, then names; '#' comments): an A
// or AAAA record for each name and a PTR record for the first name of each
// address. file names the input in errors.
func (l *Local) AddHosts(r io.Reader, file string) error {
	ptrDone := map[netip.Addr]bool{}
	err := hostsfile.Scan(r, func(e hostsfile.Entry) error {
		if e.Err != nil {
			return &hostsError{fmt.Errorf("server: %s:%d: %w", file, e.Line, e.Err)}
		}
		addr := e.Addr.WithZone("")
		for i, h := range e.Names {
			name := dns.CanonicalName(dns.Fqdn(h))
			if _, ok := dns.IsDomainName(name); !ok {
				return &hostsError{fmt.Errorf("server: %s:%d: %q is not a host name", file, e.Line, h)}
			}
			hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: HostsTTL}
			var rr dns.RR
			if addr.Unmap().Is4() {
				hdr.Rrtype = dns.TypeA
				rr = &dns.A{Hdr: hdr, A: addr.Unmap().AsSlice()}
			} else {
				hdr.Rrtype = dns.TypeAAAA
				rr = &dns.AAAA{Hdr: hdr, AAAA: addr.AsSlice()}
			}
			if err := l.add(rr); err != nil {
				return &hostsError{err}
			}
			if i == 0 && !ptrDone[addr] {
				ptrDone[addr] = true
				rev, _ := dns.ReverseAddr(addr.Unmap().String())
				ptr := &dns.PTR{Hdr: dns.RR_Header{Name: rev, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: HostsTTL}, Ptr: name}
				if err := l.add(ptr); err != nil {
					return &hostsError{err}
				}
			}
		}
		return nil
	})
	var bad *hostsError
	if err != nil && !errors.As(err, &bad) {
		err = fmt.Errorf("server: %w", fileerr.Reading("hosts file", file, err)) // the file itself: too long, unreadable
	}
	return err
}

// lookupWire returns the local records of the wire-format name qname
// (any case) and qtype; found is false when the name has no local data at
// all, set is nil for NODATA. A CNAME answers every other type.
func (l *Local) lookupWire(qname []byte, qtype uint16) (set *localSet, found bool) {
	if len(l.names) == 0 {
		return nil, false
	}
	var kb [maxNameLen + 1]byte
	m, ok := l.names[string(appendLowerName(kb[:0], qname))]
	if !ok {
		return nil, false
	}
	if set := m[qtype]; set != nil {
		return set, true
	}
	if qtype != dns.TypeCNAME {
		if c := m[dns.TypeCNAME]; c != nil {
			return c, true
		}
	}
	return nil, true
}
