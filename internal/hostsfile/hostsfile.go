package hostsfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// MaxLines bounds the lines read from a hosts file: real ones have a few
// dozen, ad-blocking lists a few hundred thousand; a million keeps a
// mistaken path (a disk image, /dev/zero) from being read forever.
const MaxLines = 1_000_000

// ErrTooLong is returned for a file of more than MaxLines lines. It and
// ErrLineTooLong say what is wrong with the file, to follow its name.
var ErrTooLong = fmt.Errorf("it has more than %d lines, more than any hosts file", MaxLines)

// ErrLineTooLong is returned for a line longer than bufio's token limit.
var ErrLineTooLong = errors.New("a line is longer than 64 KiB: it is not a hosts file")

// Entry is one line of a hosts file that is not blank or a comment.
type Entry struct {
	// Line is the line number, from 1.
	Line int
	// Addr is the address as written, with its IPv6 zone if it has one
	// (a local-data importer drops it, a lookup may refuse it).
	Addr netip.Addr
	// Names are the host names as written: the canonical name first,
	// then its aliases.
	Names []string
	// Err, when not nil, says why the line is not an address and names;
	// Addr and Names are then unset.
	Err error
}

// Scan calls fn with each entry of r in order and stops at the first
// error fn returns, which it returns. A line longer than bufio's token
// limit (64 KiB) or more than MaxLines lines are errors too.
func Scan(r io.Reader, fn func(Entry) error) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		if n > MaxLines {
			return ErrTooLong
		}
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		e := Entry{Line: n}
		switch addr, err := netip.ParseAddr(f[0]); {
		case len(f) < 2:
			e.Err = errors.New("address without names")
		case err != nil:
			e.Err = fmt.Errorf("%q is not an IPv4 or IPv6 address", f[0])
		default:
			e.Addr, e.Names = addr, f[1:]
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return ErrLineTooLong
	}
	return sc.Err() // the reader's own: the caller names the file
}
