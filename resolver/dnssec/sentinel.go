package dnssec

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// SentinelKind is the kind of an RFC 8509 root key sentinel label.
type SentinelKind uint8

// Sentinel kinds.
const (
	// NotSentinel: the name has no sentinel label.
	NotSentinel SentinelKind = iota
	// SentinelIsTA: "root-key-sentinel-is-ta-<key-tag>".
	SentinelIsTA
	// SentinelNotTA: "root-key-sentinel-not-ta-<key-tag>".
	SentinelNotTA
)

// RFC 8509 §2 label prefixes; the key tag follows as 5 decimal digits.
const (
	sentinelIsTAPrefix  = "root-key-sentinel-is-ta-"
	sentinelNotTAPrefix = "root-key-sentinel-not-ta-"
	sentinelTagDigits   = 5
)

// String returns a short name of the kind.
func (k SentinelKind) String() string {
	switch k {
	case SentinelIsTA:
		return "is-ta"
	case SentinelNotTA:
		return "not-ta"
	}
	return "none"
}

// ParseSentinel parses the leftmost label of qname as an RFC 8509 root key
// sentinel label (case-insensitive, exactly five decimal digits, at most
// 65535). kind is NotSentinel when the label is anything else.
func ParseSentinel(qname string) (kind SentinelKind, keyTag uint16) {
	labels := dns.SplitDomainName(qname)
	if len(labels) == 0 {
		return NotSentinel, 0
	}
	l := strings.ToLower(labels[0])
	var digits string
	switch {
	case strings.HasPrefix(l, sentinelIsTAPrefix):
		kind, digits = SentinelIsTA, l[len(sentinelIsTAPrefix):]
	case strings.HasPrefix(l, sentinelNotTAPrefix):
		kind, digits = SentinelNotTA, l[len(sentinelNotTAPrefix):]
	default:
		return NotSentinel, 0
	}
	if len(digits) != sentinelTagDigits || strings.Trim(digits, "0123456789") != "" {
		return NotSentinel, 0
	}
	v, err := strconv.ParseUint(digits, 10, 16)
	if err != nil {
		return NotSentinel, 0
	}
	return kind, uint16(v)
}

// SentinelServfail applies RFC 8509 §3.2 to a query name whose response
// validated Secure: it reports whether the resolver must answer SERVFAIL
// instead, because the query asks "is key tag K a root trust anchor" and
// the answer is no (is-ta), or "is it not" and it is (not-ta). The trust
// anchors are those of the root in anchors.
func SentinelServfail(qname string, anchors *Anchors) bool {
	kind, tag := ParseSentinel(qname)
	switch kind {
	case SentinelIsTA:
		return !anchors.HasKeyTag(".", tag)
	case SentinelNotTA:
		return anchors.HasKeyTag(".", tag)
	}
	return false
}
