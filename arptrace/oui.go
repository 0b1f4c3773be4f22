package arptrace

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/addrwalk/addrwalk/internal/fileerr"
)

// DefaultOUIPaths returns the files LoadOUI reads by LoadOUI, first found wins. Debian's arp-scan
// package ships the first (about 1.4 MB, "XXXXXX<TAB>vendor"); Debian's
// ieee-data package the second (the IEEE registry's own text format).
//
// The database is read at run time rather than embedded: the IEEE
// registry is megabytes, grows every month and is kept current by the
// distribution; embedding it would bloat the binary and freeze it stale.
// Without a file, vendors show as "(unknown)" except locally
// administered addresses, which need no database.
func DefaultOUIPaths() []string {
	return []string{
		"/usr/share/arp-scan/ieee-oui.txt",
		"/usr/share/ieee-data/oui.txt",
	}
}

// maxOUILines bounds the database read: the IEEE MA-L registry has under
// 60,000 entries, and ieee-data's oui.txt is about 6 lines per entry.
const maxOUILines = 2_000_000

// OUIDB maps the first three bytes of a MAC address (the IEEE
// Organizationally Unique Identifier) to the vendor that owns it. A nil
// *OUIDB is valid and knows no vendor.
type OUIDB struct {
	vendors map[[3]byte]string
	Source  string // file it was read from, empty if none
}

// LoadOUI reads the first readable file of paths (DefaultOUIPaths when
// none are given). If none exists it returns an empty database and an
// error wrapping fs.ErrNotExist, so callers may go on without vendors.
func LoadOUI(paths ...string) (*OUIDB, error) {
	if len(paths) == 0 {
		paths = DefaultOUIPaths()
	}
	for _, p := range paths {
		db, err := LoadOUIFile("vendor registry", p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return db, err
	}
	return &OUIDB{}, fmt.Errorf("arptrace: no vendor registry in %s: %w", strings.Join(paths, ", "), fs.ErrNotExist)
}

// LoadOUIFile reads the vendor registry at path; name is what errors
// call the file (the flag that named it). An error comes with an empty
// database.
func LoadOUIFile(name, path string) (*OUIDB, error) {
	f, err := fileerr.Open(name, path)
	if err != nil {
		return &OUIDB{}, err
	}
	defer f.Close()
	db, err := ParseOUI(f)
	switch {
	case errors.Is(err, bufio.ErrTooLong):
		return &OUIDB{}, fileerr.Content(name, path, "a line is longer than 64 KiB: it is not a vendor registry", err)
	case err != nil:
		return &OUIDB{}, fileerr.Reading(name, path, err)
	}
	db.Source = path
	return db, nil
}

// ParseOUI reads arp-scan's "001122<TAB>Vendor" lines and IEEE's
// "00-11-22   (hex)<TAB>Vendor" lines; anything else is skipped.
func ParseOUI(r io.Reader) (*OUIDB, error) {
	db := &OUIDB{vendors: make(map[[3]byte]string)}
	sc := bufio.NewScanner(r)
	for n := 0; sc.Scan(); n++ {
		if n >= maxOUILines {
			return db, fmt.Errorf("it has more than %d lines, more than any vendor registry", maxOUILines)
		}
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		var key, vendor string
		if k, v, ok := strings.Cut(line, "(hex)"); ok {
			key, vendor = strings.ReplaceAll(strings.TrimSpace(k), "-", ""), v
		} else if k, v, ok := strings.Cut(line, "\t"); ok {
			key, vendor = k, v
		} else {
			continue
		}
		vendor = strings.TrimSpace(vendor)
		if len(key) != 6 || vendor == "" {
			continue
		}
		var oui [3]byte
		if _, err := hex.Decode(oui[:], []byte(key)); err != nil {
			continue
		}
		if _, dup := db.vendors[oui]; !dup {
			db.vendors[oui] = vendor
		}
	}
	if err := sc.Err(); err != nil {
		return db, err
	}
	return db, nil
}

// Len is the number of vendors known.
func (db *OUIDB) Len() int {
	if db == nil {
		return 0
	}
	return len(db.vendors)
}

// Vendor names the owner of m's OUI as arp-scan does: the registry's
// name, else "(Unknown: locally administered)" for addresses with the U/L
// bit set (veths, VMs, randomised MACs), else "(Unknown)".
func (db *OUIDB) Vendor(m MAC) string {
	if db != nil {
		if v, ok := db.vendors[[3]byte{m[0], m[1], m[2]}]; ok {
			return v
		}
	}
	if m[0]&0x02 != 0 {
		return "(Unknown: locally administered)"
	}
	return "(Unknown)"
}
