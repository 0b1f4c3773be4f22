package main

import (
	"fmt"
	"strings"
)

// bigText returns n TXT character-strings of 200 bytes.
func bigText(tag string, n int) string {
	var b strings.Builder
	b.WriteString("TXT")
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("%s-%02d-", tag, i)
		s += strings.Repeat("abcdefghij", 20)[:200-len(s)]
		b.WriteString(` "` + s + `"`)
	}
	return b.String()
}

// fill adds the standard records of customer zone z (number i) and asks
// about some of them.
func fill(h *hier, i int, z *zone, ho hoster) {
	r := h.resolvable
	at := func(k int) string { return r[(i+k)%len(r)] }
	z.rr("", fmt.Sprintf("A 192.0.2.%d", i%200+1))
	z.rr("", fmt.Sprintf("AAAA 2001:db8::%x", i+1))
	z.rr("", "MX 10 mail")
	z.rr("", "MX 20 "+ho.mx)
	z.rr("", `TXT "v=spf1 -all"`)
	z.rr("", fmt.Sprintf(`TXT "zone %d" "second string"`, i))
	z.rr("", `CAA 0 issue "ca.example.net"`)
	z.rr("www", fmt.Sprintf("A 192.0.2.%d", i%200+1))
	z.rr("www", fmt.Sprintf("A 198.51.100.%d", i%200+1))
	z.rr("www", fmt.Sprintf("AAAA 2001:db8:1::%x", i+1))
	z.rr("mail", fmt.Sprintf("A 198.51.100.%d", i%250+1))
	z.rr("sip", fmt.Sprintf("A 203.0.113.%d", i%250+1))
	z.rr("_sip._tcp", "SRV 10 60 5060 sip")
	z.rr("_sip._tcp", "SRV 20 0 5060 "+ho.mx)
	z.rr("*.wild", "A 192.0.2.200")
	z.rr("real.wild", "A 192.0.2.202")
	z.rr("*.wild", fmt.Sprintf(`TXT "wildcard in zone %d"`, i))
	z.rr("*.wc", "CNAME www")
	z.rr("x.ent", "A 192.0.2.201")
	z.rr("alias", "CNAME www."+at(1))
	z.rr("hop", "CNAME www."+at(6))
	z.rr("chain", "CNAME hop."+at(7))
	z.rr("dangling", "CNAME nothere."+at(3))
	z.rr("tomail", "CNAME mail."+at(2))
	z.rr("towild", "CNAME any.wild."+at(5))
	z.rr("self", "CNAME www")
	if i%15 == 0 {
		z.rr("big", bigText("big", 8)) // about 1.6 kB: needs TCP
		z.rr("medium", bigText("med", 5))
		h.ask("big."+z.name, "TXT", "TXT RRset of 1.6 kB: TCP upstream and to the stub")
		h.ask("medium."+z.name, "TXT", "TXT RRset of 1 kB: fits in 1232 bytes")
	}
	if i%80 == 3 {
		z.rr("todead", "CNAME www.alldead.org.")
		h.ask("todead."+z.name, "A", "CNAME into a zone whose servers are all dead")
	}
	if i%15 == 0 {
		for k := 1; k <= 90; k++ {
			z.rr("many", fmt.Sprintf("A 192.0.2.%d", k))
		}
		h.ask("many."+z.name, "A", "90 A records: TCP upstream and to the stub")
	}
	if i%10 == 1 {
		// DNAME to another zone: the resolver synthesises the CNAME.
		z.rr("legacy", "DNAME "+at(4))
		h.ask("www.legacy."+z.name, "A", "DNAME to another zone")
		h.ask("nx.legacy."+z.name, "A", "DNAME to a name that does not exist")
		h.ask("legacy."+z.name, "DNAME", "the DNAME itself")
	}
	if i%20 == 5 {
		// CNAME loop across two zones.
		z.rr("xl", "CNAME xl2."+at(1))
		h.zones[at(1)].rr("xl2", "CNAME xl."+z.name)
		h.ask("xl."+z.name, "A", "CNAME loop across two zones")
		z.rr("loop", "CNAME loop")
		h.ask("loop."+z.name, "A", "CNAME to itself")
	}
	if i%40 == 7 {
		// CNAME chains of 8 and 12 hops over as many zones: the second
		// is longer than Unbound's (and addrwalk's) 11 restarts.
		for _, hops := range []int{8, 12} {
			for k := 0; k < hops; k++ {
				h.zones[at(k)].rr(fmt.Sprintf("long%d-%d-%d", hops, i, k), fmt.Sprintf("CNAME long%d-%d-%d.%s", hops, i, k+1, at(k+1)))
			}
			h.zones[at(hops)].rr(fmt.Sprintf("long%d-%d-%d", hops, i, hops), "A 192.0.2.123")
			h.ask(fmt.Sprintf("long%d-%d-0.%s", hops, i, at(0)), "A", fmt.Sprintf("CNAME chain of %d hops over %d zones", hops, hops+1))
		}
	}
	z.rr("leaf.l3.l2.l1", "TXT \"deep leaf\"")
	if i%30 == 2 {
		// Names that stress name handling: escaped dot and space inside
		// labels, upper case in the data, a 240-byte name, 20 labels.
		z.rr(`esc\.dot`, "A 192.0.2.31")
		z.rr(`sp\032ace`, "A 192.0.2.32")
		z.rr("MixCase", "CNAME WWW."+strings.ToUpper(at(2)))
		long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63)
		long += "." + strings.Repeat("d", 250-len(long)-len(z.name)-2)
		z.rr(long, "A 192.0.2.33")
		deep := "l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.l13.l14.l15.l16.l17.l18.l19.l20"
		z.rr(deep, "TXT \"twenty labels down\"")
		z.rr("ttl0", "A 192.0.2.34")
		z.rrs[len(z.rrs)-1] = z.owner("ttl0") + " 0 IN A 192.0.2.34"
		z.rr("huge", bigText("huge", 40)) // 8 kB: TCP only
		h.ask(`esc\.dot.`+z.name, "A", "escaped dot inside a label")
		h.ask(`sp\032ace.`+z.name, "A", "space inside a label")
		h.ask("mixcase."+z.name, "A", "upper-case CNAME target in the zone data")
		h.ask(long+"."+z.name, "A", "name of 250 bytes")
		h.ask("x."+long+"."+z.name, "TXT", "NXDOMAIN at 252 bytes")
		h.ask(deep+"."+z.name, "TXT", "twenty labels below the apex (QNAME minimisation limit)")
		h.ask("l15.l16.l17.l18.l19.l20."+z.name, "TXT", "empty non-terminal fifteen labels up")
		h.ask("ttl0."+z.name, "A", "record with TTL 0")
		h.ask("huge."+z.name, "TXT", "TXT RRset of 8 kB")
		h.ask("www."+z.name, "TYPE65534", "unknown type: NODATA")
		h.ask(z.name, "TYPE262", "unassigned type at the apex: NODATA")
	}
	switch {
	case strings.HasPrefix(z.name, "lp"):
		h.ask("www."+z.name, "A", "one name server lame (REFUSED), one working")
		h.ask(z.name, "MX", "one name server lame (REFUSED), one working")
		return
	case strings.HasPrefix(z.name, "dp"):
		h.ask("www."+z.name, "A", "one name server dead or silent, one working")
		h.ask(z.name, "TXT", "one name server dead or silent, one working")
		return
	case strings.HasPrefix(z.name, "bn."):
		h.ask("www."+z.name, "AAAA", "one name server name does not exist")
		return
	}
	type q struct{ rel, typ, why string }
	qs := []q{
		{"", "MX", "MX at the apex"},
		{"", "AAAA", "AAAA at the apex"},
		{"", "TXT", "two TXT records at the apex"},
		{"_sip._tcp", "SRV", "SRV"},
		{"abc.wild", "A", "wildcard A"},
		{"x.y.wild", "TXT", "wildcard two labels down"},
		{"abc.wild", "AAAA", "wildcard NODATA"},
		{"real.wild", "TXT", "existing name next to a wildcard: NODATA, no synthesis"},
		{"sub.real.wild", "A", "below an existing name next to a wildcard: NXDOMAIN"},
		{"wild", "A", "empty non-terminal above a wildcard: NODATA"},
		{"foo.wc", "A", "wildcard CNAME"},
		{"ent", "A", "empty non-terminal: NODATA"},
		{"nx", "A", "NXDOMAIN"},
		{"www", "MX", "NODATA"},
		{"alias", "A", "CNAME to another zone"},
		{"chain", "A", "CNAME chain over three zones"},
		{"dangling", "A", "CNAME to a name that does not exist"},
		{"tomail", "AAAA", "CNAME to a name without AAAA"},
		{"towild", "TXT", "CNAME to a wildcard in another zone"},
		{"alias", "CNAME", "the CNAME itself"},
		{"self", "A", "CNAME inside the zone"},
		{"", "CAA", "CAA"},
		{"", "NS", "apex NS"},
		{"", "SOA", "SOA"},
		{"www", "AAAA", "AAAA"},
		{"mail", "A", "A"},
		{"leaf.l3.l2.l1", "TXT", "four labels below the apex, through empty non-terminals"},
		{"l2.l1", "A", "empty non-terminal two labels down: NODATA"},
		{"nx.l2.l1", "A", "NXDOMAIN below an empty non-terminal"},
	}
	h.ask("www."+z.name, "A", "A, two addresses")
	for k := 0; k < 3; k++ {
		qq := qs[(i*3+k)%len(qs)]
		owner := z.name
		if qq.rel != "" {
			owner = qq.rel + "." + z.name
		}
		h.ask(owner, qq.typ, qq.why)
	}
}

// burstSize is how often a burst question is asked in a row: the comparer
// runs 8 questions at once, so the copies are in flight together.
const burstSize = 8

// bursts puts, before all other questions, burstSize copies of the first
// question of a few kinds: resolvers answer concurrent identical questions
// from one resolution (or several), slow ones included.
func (h *hier) bursts() {
	var front []string
	for _, kind := range []string{
		"one name server dead or silent, one working",
		"the only name server never answers",
		"CNAME chain of 8 hops over 9 zones",
		"TXT RRset of 8 kB",
		"DNAME to another zone",
		"wildcard A",
		"classless reverse zone directly",
		"referral of 60 NS with glue: TC, TCP to the TLD",
	} {
		for _, q := range h.questions {
			if strings.HasSuffix(q, "# "+kind) {
				for k := 0; k < burstSize; k++ {
					front = append(front, strings.Replace(q, "# ", "# burst: ", 1))
				}
				break
			}
		}
	}
	h.questions = append(front, h.questions...)
}
