package dnssec

import (
	"fmt"
	"github.com/addrwalk/addrwalk/internal/zoneerr"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The state of RFC 5011 trust points is kept in a text file that is also
// a valid zone file: one DNSKEY (or seed DS) record a line, its state in
// the comment, e.g.
//
//	. 172800 IN DNSKEY 257 3 8 AwEAAa… ; state=VALID since=2026-11-26T03:30:00Z
//	. 0 IN DS 20326 8 2 E06D44… ; state=SEED
//
// A file of plain DS or DNSKEY records (no state comments) is read as the
// initial anchors: DS records seed, DNSKEY records are Valid.

// stateHeader starts every file WriteTrustPoints writes.
const stateHeader = "; RFC 5011 trust anchor state, kept by addrwalk; edit only while it is stopped\n"

// WriteTrustPoints writes tps in the state-file format.
func WriteTrustPoints(w io.Writer, tps []*TrustPoint) error {
	var b strings.Builder
	b.WriteString(stateHeader)
	for _, tp := range tps {
		for _, d := range tp.Seed {
			fmt.Fprintf(&b, "%s ; state=SEED\n", d.String())
		}
		keys := slices.Clone(tp.Keys)
		sortKeys(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s ; state=%s since=%s\n", k.Key.String(), k.State, k.Since.UTC().Format(time.RFC3339))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ParseTrustPoints reads trust points written by WriteTrustPoints, or
// plain DS and DNSKEY anchors. now dates keys that carry no date.
func ParseTrustPoints(text string, now time.Time) ([]*TrustPoint, error) {
	byZone := map[string]*TrustPoint{}
	var order []string
	point := func(name string) *TrustPoint {
		z := dns.CanonicalName(name)
		tp := byZone[z]
		if tp == nil {
			tp = &TrustPoint{Zone: z}
			byZone[z] = tp
			order = append(order, z)
		}
		return tp
	}
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "trust-anchor-state")
	n := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if n++; n > maxAnchorRecords {
			return nil, fmt.Errorf("dnssec: more than %d trust anchor records", maxAnchorRecords)
		}
		state, since, err := parseStateComment(zp.Comment(), now)
		if err != nil {
			return nil, fmt.Errorf("dnssec: trust anchor state %s: %w", rr.Header().Name, err)
		}
		switch x := rr.(type) {
		case *dns.DS:
			tp := point(x.Hdr.Name)
			tp.Seed = append(tp.Seed, x)
		case *dns.DNSKEY:
			if x.Flags&dns.ZONE == 0 || x.Protocol != dnskeyProtocol {
				return nil, malformedAnchor("the DNSKEY of %s with tag %d is not a zone key", x.Hdr.Name, x.KeyTag())
			}
			if state == 0 {
				state = KeyValid // a plain DNSKEY anchor
			}
			tp := point(x.Hdr.Name)
			if len(tp.Keys) >= maxTrustPointKeys {
				return nil, fmt.Errorf("dnssec: more than %d keys for trust point %s", maxTrustPointKeys, tp.Zone)
			}
			tp.Keys = append(tp.Keys, AutoKey{Key: x, State: state, Since: since})
		default:
			return nil, malformedAnchor("a trust anchor is a DS or DNSKEY record, not %s (for %s)", dns.TypeToString[rr.Header().Rrtype], rr.Header().Name)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("dnssec: trust anchor state: %w", zoneerr.Explain(err, ""))
	}
	out := make([]*TrustPoint, 0, len(order))
	for _, z := range order {
		out = append(out, byZone[z])
	}
	return out, nil
}

// parseStateComment reads "; state=VALID since=…" (either part may be
// missing; a DS says state=SEED, which is its only state).
func parseStateComment(c string, now time.Time) (KeyState, time.Time, error) {
	var state KeyState
	since := now
	for _, f := range strings.Fields(strings.TrimLeft(c, "; ")) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "state":
			if v == "SEED" {
				continue
			}
			found := false
			for s, name := range keyStateNames {
				if name == v {
					state, found = s, true
				}
			}
			if !found {
				return 0, time.Time{}, fmt.Errorf("unknown state %q", v)
			}
		case "since":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return 0, time.Time{}, fmt.Errorf("since %q: %w", v, err)
			}
			since = t
		}
	}
	return state, since, nil
}

// AnchorsOf publishes what the trust points now trust into a: per zone
// the Trusted keys, or the seed DS while there are none yet.
func AnchorsOf(a *Anchors, tps []*TrustPoint) {
	for _, tp := range tps {
		a.Set(tp.Zone, tp.Seed, tp.Trusted())
	}
}
