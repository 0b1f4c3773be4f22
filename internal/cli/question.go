package cli

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"

	"github.com/addrwalk/addrwalk/resolver"
)

// maxNameInput bounds the text read as a name before any conversion: a
// domain name is at most 255 octets on the wire (RFC 1035 §2.3.4), and an
// IDN's Unicode form is at most a few times longer.
const maxNameInput = 1024

// parseQuestion validates a name and a type typed by a person. A label
// that is all ASCII is taken as it is (as dig and kdig do: service labels
// such as _sip._tcp and _dmarc are not host names, and IDNA would reject
// their underscore); a label with non-ASCII letters is converted with
// IDNA 2008's lookup rules (RFC 5891). The type is a mnemonic miekg/dns
// knows or TYPEnnn (RFC 3597); types that cannot be resolved (AXFR, OPT,
// ...) are refused with the reason from the resolver's one table.
func parseQuestion(name, typ string) (string, uint16, error) {
	fqdn, err := parseName(name)
	if err != nil {
		return "", 0, err
	}
	qtype, err := parseType(typ)
	if err != nil {
		return "", 0, err
	}
	return fqdn, qtype, nil
}

// parseName returns name in presentation form, fully qualified.
func parseName(name string) (string, error) {
	if len(name) > maxNameInput {
		return "", usageErr("name %.40q... is too long (a domain name is at most 255 octets)", name)
	}
	if !utf8.ValidString(name) {
		return "", usageErr("name %q is not valid UTF-8", name)
	}
	if name == "." {
		return ".", nil
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		// dig and kdig send "192.0.2.1." or "fe80::1%eth0." as they
		// are, and get NXDOMAIN from the root (no top-level domain is
		// all digits, RFC 3696 §2): a silent misreading of what was
		// surely meant, the address's PTR name.
		bare := ip.WithZone("").String()
		rev, _ := dns.ReverseAddr(ip.Unmap().WithZone("").String())
		return "", usageErr("name %q is an IP address, not a domain name; its PTR name is %s (addrwalk resolve -x %s)", name, rev, bare)
	}
	// The dots IDNA treats as label separators (UTS #46 §2.3).
	dots := strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")
	s := dots.Replace(name)
	if dns.IsFqdn(s) {
		s = s[:len(s)-1] // the root's dot; an escaped one ("a\.") stays
	}
	if trailing := len(s) - len(strings.TrimRight(s, `\`)); trailing%2 == 1 {
		return "", usageErr(`name %q ends in a backslash that escapes nothing (a backslash in a label is written \\)`, name)
	}
	if s == "" {
		return "", usageErr("name %q is empty; give a domain name such as www.example.org", name)
	}
	labels := strings.Split(s, ".")
	for i, l := range labels {
		if isASCII(l) {
			continue
		}
		a, err := idna.Lookup.ToASCII(l)
		if err != nil {
			return "", usageErr("name %q: label %q is not a valid internationalised name (IDNA 2008): %v", name, l, strings.TrimPrefix(err.Error(), "idna: "))
		}
		labels[i] = a
	}
	ascii := strings.Join(labels, ".")
	if _, ok := dns.IsDomainName(ascii); !ok || strings.Contains(ascii, "..") || strings.HasPrefix(ascii, ".") {
		return "", usageErr("name %q is not a domain name (labels of 1 to 63 octets, at most 255 in all, separated by single dots)", name)
	}
	return dns.Fqdn(ascii), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// parseType returns the type code of a mnemonic or TYPEnnn.
func parseType(typ string) (uint16, error) {
	ut := strings.ToUpper(strings.TrimSpace(typ))
	qtype, ok := dns.StringToType[ut]
	if !ok {
		n, err := strconv.ParseUint(strings.TrimPrefix(ut, "TYPE"), 10, 16)
		if !strings.HasPrefix(ut, "TYPE") || err != nil {
			return 0, usageErr("type %q: unknown; use a mnemonic (A, AAAA, MX, TXT, SRV, ...) or TYPEnnn with nnn 1..65535", typ)
		}
		qtype = uint16(n)
	}
	if rule, refused := resolver.RuleForType(qtype); refused {
		return 0, usageErr("type %s: %s", typeName(qtype), rule.Reason)
	}
	return qtype, nil
}

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok && t != 0 {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// reverseName is the PTR name of an IPv4 or IPv6 address, as dig -x
// makes it (RFC 1035 §3.5, RFC 3596 §2.5). A zone (fe80::1%eth0) names a
// link, which a reverse name has no place for: note says it was left out.
func reverseName(addr string) (name, note string, err error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "", "", usageErr("-x %q: not an IPv4 or IPv6 address (like 192.0.2.1 or 2001:db8::1)", addr)
	}
	if z := ip.Zone(); z != "" {
		note = fmt.Sprintf("-x %s: the zone %%%s is left out: a reverse name (ip6.arpa.) is the same on every link", addr, z)
	}
	if ip.Is4In6() {
		// A mapped address stands for an IPv4 host (RFC 4291 §2.5.5.2),
		// whose PTR lives under in-addr.arpa.: say which is asked.
		note = fmt.Sprintf("-x %s: an IPv4-mapped IPv6 address: the IPv4 address %s is looked up (in-addr.arpa.)", addr, ip.Unmap().WithZone(""))
	}
	name, err = dns.ReverseAddr(ip.Unmap().WithZone("").String())
	if err != nil {
		return "", "", usageErr("-x %q: no reverse name for it", addr)
	}
	return name, note, nil
}
