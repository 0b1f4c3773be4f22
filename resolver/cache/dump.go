package cache

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// The dump format is text, one entry per block, records in zone-file
// syntax with their remaining TTL, so a dump can be read, edited and
// grepped:
//
//	; addrwalk cache dump 1
//	+rrset example.org. A IN answer-auth secure
//	rr example.org. 299 IN A 192.0.2.1
//	sig example.org. 299 IN RRSIG A 13 2 300 ...
//	+nodata example.org. TXT IN authority-auth insecure
//	soa example.org. 59 IN SOA ns.example.org. ...
//	proof example.org. 59 IN NSEC ...
//	+nxdomain nope.example.org. - IN authority-auth unchecked
//	soa ...
//
// Remembered failures are not dumped: they are short-lived (RFC 9520) and
// their reasons are errors, not data. Expired (stale) entries are not
// dumped either.

// dumpHeader is the first line of a dump; the number is the format's
// version.
const dumpHeader = "; addrwalk cache dump 1"

// maxDumpLine bounds one line of a dump: an RR's text form is at most a
// few times its 64 KiB wire form; 1 MiB leaves room for any real record.
const maxDumpLine = 1 << 20

// Dump writes every fresh entry to w in the dump format and returns how
// many entries it wrote.
func (c *Cache) Dump(w io.Writer) (int, error) {
	type item struct {
		k key
		e *entry
	}
	now := c.tick(c.now())
	var items []item
	for k, e := range c.store.All() {
		if k.kind != kindFailure && e.fresh(now) {
			items = append(items, item{k, e})
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.k.name, b.k.name), cmp.Compare(a.k.kind, b.k.kind),
			cmp.Compare(a.k.qtype, b.k.qtype), cmp.Compare(a.k.class, b.k.class))
	})
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, dumpHeader)
	n := 0
	for _, it := range items {
		ttl := ttlSeconds(it.e.left(now))
		if ttl == 0 {
			continue
		}
		k, e := it.k, it.e
		rrs, sigs, proof, soa, err := e.records(k, ttl)
		if err != nil {
			continue // unreachable: the cache decodes what it packed
		}
		n++
		typ := "-"
		if k.kind != kindNXDomain {
			typ = dns.Type(k.qtype).String()
		}
		fmt.Fprintf(bw, "+%s %s %s %s %s %s\n", kindNames[k.kind], k.name, typ, dns.Class(k.class), e.rank, e.sec)
		if soa != nil {
			writeRRs(bw, "soa", []dns.RR{soa}, ttl)
		}
		writeRRs(bw, "rr", rrs, ttl)
		if k.kind != kindRRset {
			writeRRs(bw, "proof", proof, ttl)
		}
		writeRRs(bw, "sig", sigs, ttl)
		if k.kind == kindRRset {
			writeRRs(bw, "proof", proof, ttl)
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("cache: dump: %w", err)
	}
	return n, nil
}

var kindNames = map[kind]string{kindRRset: "rrset", kindNoData: "nodata", kindNXDomain: "nxdomain"}

func writeRRs(w io.Writer, tag string, rrs []dns.RR, ttl uint32) {
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		rr.Header().Ttl = ttl
		// dns.RR.String separates fields with tabs; one space reads as
		// well and keeps lines short.
		fmt.Fprintf(w, "%s %s\n", tag, strings.Join(strings.Fields(rr.String()), " "))
	}
}

// ErrDump is wrapped by Load's errors about the input.
var ErrDump = errors.New("not a cache dump")

// LoadStats says what Load did.
type LoadStats struct {
	Entries int // entries read
	Stored  int // entries stored (others were outranked or had TTL 0)
}

// pending is an entry read from a dump, not yet inserted.
type pending struct {
	line  int
	kind  kind
	name  string
	qtype uint16
	class uint16
	rank  Rank
	sec   Security
	rrs   []dns.RR
	sigs  []dns.RR
	proof []dns.RR
	soa   *dns.SOA
}

// Load reads a dump written by Dump and inserts its entries, with the
// TTLs they had left when dumped. The whole input is parsed before
// anything is inserted: a malformed dump changes nothing, and the error
// names its line.
func (c *Cache) Load(r io.Reader) (LoadStats, error) {
	entries, err := parseDump(r)
	if err != nil {
		return LoadStats{}, err
	}
	st := LoadStats{Entries: len(entries)}
	for _, p := range entries {
		var res InsertResult
		switch p.kind {
		case kindRRset:
			res, err = c.Insert(RRset{RRs: p.rrs, Sigs: p.sigs, Proof: p.proof, Rank: p.rank, Security: p.sec})
		case kindNoData, kindNXDomain:
			nk := NoData
			if p.kind == kindNXDomain {
				nk = NXDomain
			}
			res, err = c.InsertNegative(p.name, p.qtype, p.class, Negative{Kind: nk, SOA: p.soa, Proof: append(p.proof, p.sigs...), Rank: p.rank, Security: p.sec})
		}
		if err != nil {
			return st, fmt.Errorf("cache: load: line %d: %w", p.line, err)
		}
		if res == Stored || res == Replaced {
			st.Stored++
		}
	}
	return st, nil
}

func parseDump(r io.Reader) ([]*pending, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxDumpLine)
	var out []*pending
	var cur *pending
	line := 0
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cache: load: line %d: %w: %s", line, ErrDump, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			if text != dumpHeader {
				return nil, bad("want %q as the first line", dumpHeader)
			}
			continue
		}
		if text == "" || text[0] == ';' {
			continue
		}
		if text[0] == '+' {
			p, err := parseEntryHeader(text[1:])
			if err != nil {
				return nil, bad("%v", err)
			}
			p.line = line
			out = append(out, p)
			cur = p
			continue
		}
		tag, rest, _ := strings.Cut(text, " ")
		if cur == nil {
			return nil, bad("record before any +entry line")
		}
		rr, err := dns.NewRR(rest)
		if err != nil || rr == nil {
			return nil, bad("not a record: %v", err)
		}
		h := rr.Header()
		switch tag {
		case "rr":
			if cur.kind != kindRRset || h.Rrtype != cur.qtype || h.Class != cur.class || canonicalName(h.Name) != cur.name {
				return nil, bad("%s %s does not belong to the entry of line %d", h.Name, dns.Type(h.Rrtype), cur.line)
			}
			cur.rrs = append(cur.rrs, rr)
		case "sig":
			if _, ok := rr.(*dns.RRSIG); !ok {
				return nil, bad("sig line without an RRSIG")
			}
			cur.sigs = append(cur.sigs, rr)
		case "proof":
			cur.proof = append(cur.proof, rr)
		case "soa":
			soa, ok := rr.(*dns.SOA)
			if !ok || cur.kind == kindRRset || cur.soa != nil {
				return nil, bad("unexpected soa line")
			}
			cur.soa = soa
		default:
			return nil, bad("unknown line tag %q (want rr, sig, proof or soa)", tag)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cache: load: line %d: %w", line+1, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("cache: load: %w: empty input", ErrDump)
	}
	for _, p := range out {
		if p.kind == kindRRset && len(p.rrs) == 0 {
			return nil, fmt.Errorf("cache: load: line %d: %w: entry without records", p.line, ErrDump)
		}
		if p.kind != kindRRset && p.soa == nil {
			return nil, fmt.Errorf("cache: load: line %d: %w: negative entry without soa", p.line, ErrDump)
		}
	}
	return out, nil
}

// parseEntryHeader reads "KIND NAME TYPE CLASS RANK SECURITY".
func parseEntryHeader(s string) (*pending, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("entry line needs kind, name, type, class, rank and security, got %q", s)
	}
	p := &pending{}
	for k, n := range kindNames {
		if n == f[0] {
			p.kind = k
		}
	}
	if p.kind == 0 {
		return nil, fmt.Errorf("unknown entry kind %q", f[0])
	}
	if _, ok := dns.IsDomainName(f[1]); !ok || !dns.IsFqdn(f[1]) {
		return nil, fmt.Errorf("bad name %q", f[1])
	}
	p.name = canonicalName(f[1])
	if f[2] != "-" {
		t, ok := dns.StringToType[strings.ToUpper(f[2])]
		if !ok {
			return nil, fmt.Errorf("unknown type %q", f[2])
		}
		p.qtype = t
	} else if p.kind != kindNXDomain {
		return nil, fmt.Errorf("%s entry needs a type", f[0])
	}
	cl, ok := dns.StringToClass[strings.ToUpper(f[3])]
	if !ok {
		return nil, fmt.Errorf("unknown class %q", f[3])
	}
	p.class = cl
	if p.rank = rankFromString(f[4]); p.rank == 0 {
		return nil, fmt.Errorf("unknown rank %q", f[4])
	}
	sec, ok := securityFromString(f[5])
	if !ok {
		return nil, fmt.Errorf("unknown security %q", f[5])
	}
	p.sec = sec
	return p, nil
}

func rankFromString(s string) Rank {
	for r, n := range rankNames {
		if n != "" && n == s {
			return Rank(r)
		}
	}
	return 0
}

func securityFromString(s string) (Security, bool) {
	for i, n := range securityNames {
		if n == s {
			return Security(i), true
		}
	}
	return 0, false
}
