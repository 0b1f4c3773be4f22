package replay

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// defaultTTL is the TTL of RRs written without one, as in Deckard.
const defaultTTL = 3600

// parseRR parses one RR in zone-file syntax with origin ".", default TTL
// 3600 and class IN. $-directives and $INCLUDE are refused. When miekg/dns
// cannot convert an RFC 3597 "\# len hex" rdata to its type (for example
// rdata that is invalid for the type), the record is kept as *dns.RFC3597.
//
// The record is then normalised (see normalizeRR); what was changed is
// returned as notes.
func parseRR(s, file string) (dns.RR, []string, error) {
	rr, err := parseRRText(s, file)
	if err != nil {
		return nil, nil, err
	}
	return rr, normalizeRR(rr), nil
}

func parseRRText(s, file string) (dns.RR, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("zone-file directive not allowed: %q", s)
	}
	zp := dns.NewZoneParser(strings.NewReader(s), ".", file)
	zp.SetDefaultTTL(defaultTTL)
	rr, ok := zp.Next()
	err := zp.Err()
	if err == nil && ok {
		if _, more := zp.Next(); more || zp.Err() != nil {
			return nil, fmt.Errorf("more than one RR on a line: %q", s)
		}
		return rr, nil
	}
	if generic, gerr := parseGeneric(s); gerr == nil {
		return generic, nil
	}
	if err == nil {
		err = errors.New("no RR")
	}
	var pe *dns.ParseError
	if errors.As(err, &pe) {
		// The ParseError repeats file and line numbers of the one-line
		// input; keep only what is wrong.
		return nil, fmt.Errorf("bad RR %q: %s", s, rrParseReason(pe))
	}
	return nil, fmt.Errorf("bad RR %q: %w", s, err)
}

func rrParseReason(pe *dns.ParseError) string {
	msg := pe.Error()
	// miekg formats "dns: <err>: \"<token>\" at line: l:c".
	if i := strings.LastIndex(msg, " at line:"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimPrefix(msg, "dns: ")
}

// parseGeneric parses "<owner> [<ttl>] [<class>] <type> \# <len> <hex...>"
// into a *dns.RFC3597 without interpreting the rdata.
func parseGeneric(s string) (*dns.RFC3597, error) {
	f := strings.Fields(s)
	i := slices.Index(f, `\#`)
	if i < 2 || i+2 > len(f) {
		return nil, errors.New("not RFC 3597 syntax")
	}
	hdr := dns.RR_Header{Ttl: defaultTTL, Class: dns.ClassINET}
	if _, ok := dns.IsDomainName(f[0]); !ok {
		return nil, errors.New("bad owner")
	}
	hdr.Name = dns.Fqdn(f[0])
	t, ok := parseType(f[i-1])
	if !ok {
		return nil, errors.New("bad type")
	}
	hdr.Rrtype = t
	for _, tok := range f[1 : i-1] {
		if c, ok := parseClass(tok); ok {
			hdr.Class = c
		} else if n, err := strconv.ParseUint(tok, 10, 32); err == nil {
			hdr.Ttl = uint32(n)
		} else {
			return nil, fmt.Errorf("bad token %q", tok)
		}
	}
	n, err := strconv.Atoi(f[i+1])
	if err != nil || n < 0 {
		return nil, errors.New("bad rdata length")
	}
	rd, err := hex.DecodeString(strings.Join(f[i+2:], ""))
	if err != nil || len(rd) != n {
		return nil, errors.New("bad rdata hex")
	}
	rr := &dns.RFC3597{Hdr: hdr, Rdata: hex.EncodeToString(rd)}
	return rr, nil
}

// normalizeRR fixes, in place, zone-file text that miekg/dns accepts but
// cannot pack, in the way dnspython (Deckard) reads it:
//   - type bitmaps (NSEC, NSEC3, CSYNC) listed out of order or with
//     duplicates are sorted and deduplicated: they are sets;
//   - base64 fields with excess '=' padding (e.g. a signature "UNUSABLE==")
//     are decoded leniently and re-encoded.
//
// It returns a note for each lenient base64 decoding, and an error note for
// base64 it cannot decode at all (the record is kept; packing it fails).
func normalizeRR(rr dns.RR) []string {
	v := reflect.ValueOf(rr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	t := v.Type()
	var notes []string
	for i := range t.NumField() {
		f := v.Field(i)
		switch tag := t.Field(i).Tag.Get("dns"); {
		case tag == "nsec" && f.Kind() == reflect.Slice:
			bm := f.Interface().([]uint16)
			if !slices.IsSorted(bm) || len(slices.Compact(slices.Clone(bm))) != len(bm) {
				bm = slices.Compact(slices.Sorted(slices.Values(bm)))
				f.Set(reflect.ValueOf(bm))
			}
		case tag == "base64" && f.Kind() == reflect.String:
			s := f.String()
			if _, err := base64.StdEncoding.DecodeString(s); err == nil {
				continue
			}
			b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s %s: invalid base64 %q kept as is: %v",
					dns.TypeToString[rr.Header().Rrtype], t.Field(i).Name, s, err))
				continue
			}
			enc := base64.StdEncoding.EncodeToString(b)
			notes = append(notes, fmt.Sprintf("%s %s: base64 %q has bad padding, read as %q",
				dns.TypeToString[rr.Header().Rrtype], t.Field(i).Name, s, enc))
			f.SetString(enc)
		}
	}
	return notes
}

// rrKey returns a comparison key for rr: owner and domain names in rdata
// lower-cased, TTL ignored, rdata in uncompressed wire form (so that the
// presentation details, such as hex case, do not matter), and a readable
// form of the same normalised record for messages.
func rrKey(rr dns.RR) (key, text string) {
	c := dns.Copy(rr)
	h := c.Header()
	h.Name = strings.ToLower(h.Name)
	h.Ttl = 0
	lowerNames(reflect.ValueOf(c))
	text = strings.Join(strings.Fields(strings.Replace(c.String(), "\t0\t", "\t", 1)), " ")
	buf := make([]byte, dns.Len(c)+64)
	n, err := dns.PackRR(c, buf, 0, nil, false)
	if err != nil {
		return "text:" + strings.ToLower(text), text
	}
	return string(buf[:n]), text
}

// lowerNames lower-cases every domain-name field of a miekg/dns RR struct.
func lowerNames(v reflect.Value) {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("dns")
		if !strings.Contains(tag, "domain-name") {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(strings.ToLower(f.String()))
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				for j := range f.Len() {
					f.Index(j).SetString(strings.ToLower(f.Index(j).String()))
				}
			}
		}
	}
}
