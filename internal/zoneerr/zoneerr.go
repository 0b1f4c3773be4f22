// Package zoneerr rewords the zone-file parser's errors for people.
//
// miekg/dns reports a bad record as `file: dns: not a TTL: "here" at
// line: 1:12`; users of addrwalk read `file:1:12: not a TTL (at "here")`
// instead, the place first as compilers print it. Root hints, trust
// anchor files, the RFC 5011 state file and the configuration's local
// records all go through Explain.
//
// Files: zoneerr.go (Error, Explain).
package zoneerr

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/miekg/dns"
)

// Error is one zone-file syntax error: where, what, and the token.
type Error struct {
	File      string // "" when the text did not come from a file
	Line, Col int
	Msg       string // what was wrong, e.g. "not a TTL"
	Token     string // the text the parser stopped at
	err       error
}

func (e *Error) Error() string {
	where := fmt.Sprintf("line %d, column %d", e.Line, e.Col)
	switch {
	case e.File == "" && e.Line == 1:
		where = fmt.Sprintf("column %d", e.Col) // a one-line record
	case e.File != "":
		where = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	}
	if e.Token == "" {
		return where + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %s (at %q)", where, e.Msg, e.Token)
}

// Unwrap returns the parser's own error.
func (e *Error) Unwrap() error { return e.err }

// parseError is the text of miekg/dns's ParseError, whose fields are not
// exported: optional "file: ", "dns: ", the message, the quoted token and
// " at line: L:C".
var parseError = regexp.MustCompile(`^(?:.*: )?dns: (.*): ("(?:[^"\\]|\\.)*") at line: (\d+):(\d+)$`)

// sameWords is miekg/dns's "bad A A": the type named twice.
var sameWords = regexp.MustCompile(`^bad ([A-Z0-9]+) ([A-Za-z0-9]+)$`)

// Explain rewords err when it is a *dns.ParseError, with file as the
// place ("" for text that is not a file: the parser's own name for it is
// dropped); any other error is returned as it is.
func Explain(err error, file string) error {
	var pe *dns.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	m := parseError.FindStringSubmatch(pe.Error())
	if m == nil {
		return err
	}
	e := &Error{File: file, Msg: m[1], err: err}
	if tok, qerr := strconv.Unquote(m[2]); qerr == nil {
		e.Token = tok
	}
	e.Line, _ = strconv.Atoi(m[3])
	e.Col, _ = strconv.Atoi(m[4])
	if s := sameWords.FindStringSubmatch(e.Msg); s != nil && s[1] == s[2] {
		e.Msg = "bad " + s[1] + " record data"
	}
	return e
}
