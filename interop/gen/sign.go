package main

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// signSpec says how a zone of the signed hierarchy is signed and broken:
// the same options and breakages as the test labs, so the signed zones NSD
// serves here are made by the signer the unit tests use.
type signSpec = resolvertest.SignOptions

// signZone signs z at time now as spec says (resolvertest.SignText: fresh
// ECDSA P-256 keys, signatures valid from an hour ago for thirty days
// unless broken, NSEC or NSEC3) and replaces z.rrs with the signed zone's
// records. It returns the DS of the zone's KSK for the parent, tampered
// with for BreakWrongDS.
func signZone(z *zone, spec signSpec, now time.Time) (*dns.DS, error) {
	signed, ds, err := resolvertest.SignText(z.name, strings.Join(dedupe(z.rrs), "\n"), spec, now)
	if err != nil {
		return nil, err
	}
	z.rrs = strings.Split(strings.TrimSuffix(signed, "\n"), "\n")
	ds.Hdr.Ttl = 3600
	return ds, nil
}

// parentName returns the name one label up (the root for a TLD).
func parentName(name string) string {
	if i, end := dns.NextLabel(name, 0); !end {
		return name[i:]
	}
	return "."
}
