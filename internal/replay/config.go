package replay

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// configLine parses one line of the CONFIG section (FORMAT.md §3): a
// "key: value" pair, with ';' and '#' comments and quotes stripped.
func (p *parser) configLine(raw string) error {
	line := strings.TrimSpace(stripComment(raw, true, true))
	if k, _, ok := strings.Cut(line, ":"); ok && keepsSemicolons(strings.TrimSpace(k)) {
		// ';' separates the pairs of features and is Lua in feature-list:
		// only '#' comments, as in Deckard.
		line = strings.TrimSpace(stripComment(raw, false, true))
	}
	if line == "" {
		return nil
	}
	f := strings.Fields(line)
	switch f[0] {
	case "CONFIG_END":
		p.state = stateBeforeScenario
		return nil
	case "SCENARIO_BEGIN": // a file without a CONFIG section
		return p.scenarioBegin(line, f)
	}
	key, value, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("config line without ':': %q", line)
	}
	key, value = strings.TrimSpace(key), unquote(strings.TrimSpace(value))
	p.sc.Config.Lines = append(p.sc.Config.Lines, ConfigLine{Line: p.line, Key: key, Value: value})
	err := p.sc.Config.set(key, value, p.sc.File)
	p.note(p.sc.Config.notes)
	p.sc.Config.notes = nil
	if err != nil {
		return fmt.Errorf("config %s: %w", key, err)
	}
	return nil
}

func keepsSemicolons(key string) bool { return key == "features" || key == "feature-list" }

// unquote strips the quotes around a config value the way Deckard does
// (Python's str.strip with both quote characters).
func unquote(v string) string { return strings.Trim(v, `"'`) }

// parseBool follows Deckard: yes, true, on and 1 are true, anything else false.
func parseBool(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		return true
	}
	return false
}

// valOverrideDateLayout is val-override-date's YYYYMMDDHHMMSS, in UTC.
const valOverrideDateLayout = "20060102150405"

func (c *Config) set(key, value, file string) error {
	switch key {
	case "stub-addr":
		a, err := netip.ParseAddr(value)
		if err != nil {
			return err
		}
		c.StubAddr = a.Unmap()
	case "stub-name":
		if _, ok := dns.IsDomainName(value); !ok || value == "" {
			return fmt.Errorf("bad domain name %q", value)
		}
		c.StubName = dns.Fqdn(value)
	case "do-ip4":
		c.DoIP4 = parseBool(value)
	case "do-ip6":
		c.DoIP6 = parseBool(value)
	case "trust-anchor":
		rr, notes, err := parseRR(value, file)
		if err != nil {
			return err
		}
		c.notes = append(c.notes, notes...)
		if t := rr.Header().Rrtype; t != dns.TypeDS && t != dns.TypeDNSKEY {
			return fmt.Errorf("want a DS or DNSKEY record, got %s", dns.TypeToString[t])
		}
		c.TrustAnchors = append(c.TrustAnchors, rr)
	case "val-override-date":
		t, err := time.ParseInLocation(valOverrideDateLayout, value, time.UTC)
		if err != nil {
			return err
		}
		c.Now = t
	case "val-override-timestamp":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return err
		}
		c.Now = time.Unix(n, 0).UTC()
	case "query-minimization":
		c.QueryMinimization = QMinOff
		if parseBool(value) {
			c.QueryMinimization = QMinOn
		}
	case "harden-glue":
		c.HardenGlue = parseBool(value)
	case "do-not-query-localhost":
		c.DoNotQueryLocalhost = parseBool(value)
	case "domain-insecure":
		if _, ok := dns.IsDomainName(value); !ok || value == "" {
			return fmt.Errorf("bad domain name %q", value)
		}
		c.DomainInsecure = append(c.DomainInsecure, dns.Fqdn(value))
	case "forward-addr":
		a, err := netip.ParseAddr(value)
		if err != nil {
			return err
		}
		c.ForwardAddr = a.Unmap()
	case "force-ipv6":
		// Deckard checks this one key against "true" only.
		c.ForceIPv6 = strings.EqualFold(value, "true")
	case "features":
		if c.Features == nil {
			c.Features = map[string]string{}
		}
		for kv := range strings.SplitSeq(value, ";") {
			k, v, _ := strings.Cut(kv, "=")
			if k = strings.TrimSpace(k); k != "" {
				c.Features[k] = strings.TrimSpace(v)
			}
		}
	case "feature-list":
		c.FeatureList = append(c.FeatureList, value)
	default:
		return errors.New("unsupported CONFIG key")
	}
	return nil
}
