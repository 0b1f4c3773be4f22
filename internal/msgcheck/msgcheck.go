// Package msgcheck finds what is wrong with a line a user reads: a word
// repeated across consecutive ": " segments (a wrapper repeating what it
// wraps: "timeout: timeout:", "referral (NOERROR): referral to org."), a
// segment said twice, a package prefix inside the message ("resolving X
// A: resolver: …"), a Go library phrase ("open /x: no such file or
// directory", "ParseAddr(", "context deadline exceeded"), a negative or
// unrounded duration. Tests of every command's errors (TestBadInputs) and
// of every trace and walk-view line (TestTraceWording, TestGolden) use it.
//
// Files: msgcheck.go (Problems, Forbidden).
package msgcheck

import (
	"fmt"
	"regexp"
	"strings"
)

// Forbidden are Go library and dependency words that must never
// reach a user: they say where in Go's code something failed, not what
// was wrong with the input.
var Forbidden = []string{
	"route ip+net", "no such network interface", // net.InterfaceByName
	"strconv.", "invalid syntax", "value out of range", // strconv
	"ParseAddr(", "IPv4 field has value", "unexpected character", "missing IPv6 address", "not an ip:port", "parsing \"", "prefix length out of range", // net/netip
	"cannot decode TOML", "toml: line", "(last key", "struct field", // go-toml
	"dns: ", " at line: ", // miekg/dns zone parser
	"slog: level string",                             // log/slog
	"expected a valid", "bit uint", "bit int", "EOL", // kong
	"missing unit in duration", "time: ", // time
	": lookup ", "Name or service not known", "no such host", // net resolver
	"context deadline exceeded", "context canceled",
	"use of closed network connection",
	"listen udp ", "listen tcp ", "bind: ", // net.ListenConfig's *net.OpError (internal/listenerr words it)
	"open ", ": read /", ": write /", "mkdir /", "stat /", "rename /", "link /", ": is a directory", ": not a directory", "no such file or directory", "file does not exist", // *fs.PathError (internal/fileerr words it)
	"dial unix", "connect: ", // a Unix socket's *net.OpError
	"tls: ", "x509: ", // crypto/tls and crypto/x509
	"bufio.Scanner", "token too long", "invalid character", "unexpected end of JSON", "json: cannot", // bufio, encoding/json
	"*net.OpError", "%!", // fmt misuse
	"error: error", "timeout: timeout",
}

var (
	// negativeDuration matches "-1ms", "-0.5s", "-3µs": a time left or
	// an age below zero is a bug, never news for a user.
	negativeDuration = regexp.MustCompile(`(^|[^\w.])-\d+(\.\d+)?(ns|µs|us|ms|s|m|h)\b`)
	// unroundedDuration matches Go's full-precision durations such as
	// "1.234567ms" or "2.000310851s": a message rounds what it shows.
	unroundedDuration = regexp.MustCompile(`\d\.\d{4,}(ns|µs|us|ms|s)\b`)
	segmentWord       = regexp.MustCompile(`[a-z][a-z0-9]+`)
	// notWords are what a stutter check skips: quoted values, paths,
	// file names, dotted keys and flags, whose words are the user's.
	notWords = regexp.MustCompile(`"[^"]*"|'[^']*'|\S*[/.]\S*|--?[\w-]+`)
)

// prefixes are the package and command prefixes a message may start
// with ("addrwalk: resolver: …"); one found after a segment of the message
// itself ("resolving X A: resolver: …") is a wrapped error repeating its
// origin inside a sentence.
var prefixes = map[string]bool{
	"addrwalk": true, "resolver": true, "dnssec": true, "cache": true, "cachedb": true, "server": true, "config": true,
	"control": true, "setup": true, "sdnotify": true, "activation": true, "arptrace": true, "ndptrace": true,
	"sim": true, "path": true, "arp": true, "ndp": true, "scan": true, "watch": true,
}

// label reports whether a segment names where the rest comes from, as a
// prefix does: a flag ("--interface", "--trust-anchor FILE") or a
// command ("arp scan").
func label(s string) bool {
	if strings.HasPrefix(s, "-") {
		return true
	}
	f := strings.Fields(s)
	return len(f) == 2 && prefixes[f[0]] && prefixes[f[1]]
}

// stutterWords are too common to count as a repeat between segments.
var stutterWords = map[string]bool{
	"the": true, "and": true, "not": true, "for": true, "with": true, "want": true, "has": true, "have": true,
	"are": true, "was": true, "from": true, "this": true, "that": true, "any": true, "one": true, "all": true,
	"use": true, "like": true, "see": true, "its": true, "but": true, "none": true, "more": true, "than": true,
	"org": true, "example": true, "net": true, "lab": true, "com": true, "www": true, "toml": true, "txt": true,
	"addrwalk": true, "run": true, "help": true, "usage": true, "file": true,
}

// stem folds a plural so "anchor" and "anchors" count as one word.
func stem(w string) string {
	w = strings.ToLower(w)
	if len(w) > 4 && strings.HasSuffix(w, "s") {
		return w[:len(w)-1]
	}
	return w
}

// Problems lists what is wrong with one line a user reads: a word
// repeated across consecutive ": " segments (a wrapper repeating what it
// wraps), a raw library phrase, a negative or unrounded duration.
func Problems(line string) []string {
	var probs []string
	for _, f := range Forbidden {
		if strings.Contains(line, f) {
			probs = append(probs, fmt.Sprintf("raw library wording %q", f))
		}
	}
	if m := negativeDuration.FindString(line); m != "" {
		probs = append(probs, fmt.Sprintf("negative duration %q", strings.TrimSpace(m)))
	}
	if m := unroundedDuration.FindString(line); m != "" {
		probs = append(probs, fmt.Sprintf("unrounded duration %q", m))
	}
	segs := strings.Split(line, ": ")
	seen := map[string]int{}
	inText := false // a segment that is not a prefix came already
	for i, s := range segs {
		s = strings.TrimSpace(s)
		if prefixes[s] && inText {
			probs = append(probs, fmt.Sprintf("prefix %q inside the message (segment %d): a wrapped error repeats where it came from", s, i))
		}
		inText = inText || !(prefixes[s] || label(s))
		if j, ok := seen[strings.ToLower(s)]; ok && s != "" {
			probs = append(probs, fmt.Sprintf("segment %q repeated (segments %d and %d)", s, j, i))
		}
		seen[strings.ToLower(s)] = i
		if i == 0 {
			continue
		}
		prev := map[string]bool{}
		for _, w := range words(segs[i-1]) {
			prev[stem(w)] = true
		}
		for _, w := range words(s) {
			if w = stem(w); prev[w] && !stutterWords[w] && len(w) > 2 {
				probs = append(probs, fmt.Sprintf("stutter: %q in %q and %q", w, segs[i-1], s))
				break
			}
		}
	}
	return probs
}

// words are the words of a message segment that are the message's own.
func words(seg string) []string {
	return segmentWord.FindAllString(strings.ToLower(notWords.ReplaceAllString(seg, " ")), -1)
}
