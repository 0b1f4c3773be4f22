package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/resolver/resolvertest"
	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// maxWalkQueries bounds the queries of one walk, NS lookups included; the
// deepest example (the glueless PTR) needs about a dozen.
const maxWalkQueries = 64

// maxWalkDepth bounds nested NS-name resolutions of glueless delegations.
const maxWalkDepth = 4

// walker is a deliberately simple iterative resolver used to check that
// the simulation's hierarchy is consistent end to end: every delegation
// reaches a server that answers, glue matches the servers' addresses, and
// every example resolves as described. It is not the product's resolver.
type walker struct {
	t       *testing.T
	lab     *resolvertest.Lab
	roots   []netip.Addr
	queries int
}

// result is the outcome of a walk: the RCODE and every answer record
// collected along CNAME chains.
type result struct {
	Rcode  string
	Answer []string
}

func newWalker(t *testing.T, lab *resolvertest.Lab) *walker {
	w := &walker{t: t, lab: lab}
	zp := dns.NewZoneParser(strings.NewReader(lab.RootHints()), ".", "hints")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if a, isA := rr.(*dns.A); isA {
			addr, _ := netip.AddrFromSlice(a.A.To4())
			w.roots = append(w.roots, addr)
		}
	}
	if err := zp.Err(); err != nil || len(w.roots) == 0 {
		t.Fatalf("root hints: %v, %d addresses", err, len(w.roots))
	}
	return w
}

func (w *walker) resolve(name string, qtype uint16, depth int) (result, error) {
	if depth > maxWalkDepth {
		return result{}, errors.New("too deep")
	}
	var res result
	zone, servers := ".", w.roots
	for {
		resp, err := w.ask(servers, zone, name, qtype)
		if err != nil {
			return res, fmt.Errorf("%s in zone %s: %w", name, zone, err)
		}
		if resp.Authoritative || resp.Rcode == dns.RcodeNameError {
			res.Rcode = dns.RcodeToString[resp.Rcode]
			res.Answer = append(res.Answer, rrStrings(resp.Answer)...)
			target, final := follow(resp.Answer, name, qtype)
			if final || resp.Rcode != dns.RcodeSuccess || target == name {
				return res, nil
			}
			// A CNAME out of the zone: start again from the root.
			name, zone, servers = target, ".", w.roots
			continue
		}
		cut, nsNames := delegation(resp)
		zone = cut
		servers = nil
		for _, ns := range nsNames {
			servers = append(servers, glue(resp, ns)...)
		}
		if len(servers) == 0 { // glueless
			for _, ns := range nsNames {
				sub, err := w.resolve(ns, dns.TypeA, depth+1)
				if err != nil {
					continue
				}
				for _, s := range sub.Answer {
					if rr, _ := dns.NewRR(s); rr != nil && rr.Header().Rrtype == dns.TypeA {
						addr, _ := netip.AddrFromSlice(rr.(*dns.A).A.To4())
						servers = append(servers, addr)
					}
				}
			}
		}
		if len(servers) == 0 {
			return res, fmt.Errorf("no address for any name server of %s", cut)
		}
	}
}

// ask tries servers in order; it skips those that time out, refuse, fail
// or are lame (neither an answer nor a referral below zone).
func (w *walker) ask(servers []netip.Addr, zone, name string, qtype uint16) (*dns.Msg, error) {
	for _, addr := range servers {
		w.queries++
		if w.queries > maxWalkQueries {
			return nil, errors.New("too many queries")
		}
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		q.RecursionDesired = false
		q.SetEdns0(1232, false)
		ap := netip.AddrPortFrom(addr, w.lab.Port()).String()
		c := &dns.Client{Net: "udp", Timeout: deadTimeout}
		r, _, err := c.Exchange(q, ap)
		if err == nil && r.Truncated {
			c.Net = "tcp"
			r, _, err = c.Exchange(q, ap)
		}
		if err != nil || (r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError) {
			continue
		}
		if !r.Authoritative && r.Rcode == dns.RcodeSuccess {
			cut, ns := delegation(r)
			if len(ns) == 0 || cut == zone || !dns.IsSubDomain(zone, cut) {
				continue // lame
			}
		}
		return r, nil
	}
	return nil, errors.New("no server answered")
}

// follow walks the CNAMEs in answer from name and reports the name
// reached and whether records of qtype for it are present.
func follow(answer []dns.RR, name string, qtype uint16) (string, bool) {
	for range len(answer) + 1 {
		next := ""
		for _, rr := range answer {
			if !strings.EqualFold(rr.Header().Name, name) {
				continue
			}
			if rr.Header().Rrtype == qtype {
				return name, true
			}
			if c, ok := rr.(*dns.CNAME); ok {
				next = c.Target
			}
		}
		if next == "" {
			return name, len(answer) == 0
		}
		name = next
	}
	return name, false
}

// delegation returns the owner and targets of the NS records in the
// authority section.
func delegation(r *dns.Msg) (string, []string) {
	var cut string
	var ns []string
	for _, rr := range r.Ns {
		if v, ok := rr.(*dns.NS); ok {
			cut = dns.CanonicalName(v.Hdr.Name)
			ns = append(ns, v.Ns)
		}
	}
	return cut, ns
}

// glue returns the addresses the additional section gives for ns.
func glue(r *dns.Msg, ns string) []netip.Addr {
	var out []netip.Addr
	for _, rr := range r.Extra {
		if a, ok := rr.(*dns.A); ok && strings.EqualFold(a.Hdr.Name, ns) {
			addr, _ := netip.AddrFromSlice(a.A.To4())
			out = append(out, addr)
		}
	}
	return out
}

// TestWalkExamples resolves every example from the root hints through
// the simulation, as an iterative resolver would.
func TestWalkExamples(t *testing.T) {
	lab := startSim(t)
	want := map[string]result{
		"delegation": {"NOERROR", rrs(t, "www.example.org. 3600 IN A 192.0.2.10")},
		"glueless":   {"NOERROR", rrs(t, "www.quiet-harbor.org. 3600 IN A 192.0.2.60")},
		"cname": {"NOERROR", rrs(t,
			"alias.example.org. 3600 IN CNAME www.example.com.",
			"www.example.com. 3600 IN A 198.51.100.20")},
		"cname-chain": {"NOERROR", rrs(t,
			"go.example.com. 3600 IN CNAME start.example.com.",
			"start.example.com. 3600 IN CNAME hop.example.net.",
			"hop.example.net. 3600 IN CNAME end.example.org.",
			"end.example.org. 3600 IN A 192.0.2.99")},
		"dname": {"NOERROR", rrs(t,
			"products.example.org. 3600 IN DNAME catalog.example.com.",
			"widget.products.example.org. 3600 IN CNAME widget.catalog.example.com.",
			"widget.catalog.example.com. 3600 IN A 198.51.100.31")},
		"nxdomain":     {"NXDOMAIN", nil},
		"nodata":       {"NOERROR", nil},
		"dead-server":  {"NOERROR", rrs(t, "www.tideline.com. 3600 IN A 198.51.100.80")},
		"lame-refused": {"NOERROR", rrs(t, "www.lamplight.net. 3600 IN A 203.0.113.90")},
		"lame-upward":  {"NOERROR", rrs(t, "www.driftwood.org. 3600 IN A 192.0.2.110")},
		"mx": {"NOERROR", rrs(t,
			"example.org. 3600 IN MX 10 mail.example.org.",
			"example.org. 3600 IN MX 20 mail-backup.example.net.")},
		"aaaa": {"NOERROR", rrs(t, "www.example.org. 3600 IN AAAA 2001:db8::10")},
		"srv":  {"NOERROR", rrs(t, "_sip._tcp.example.org. 3600 IN SRV 10 60 5060 sip.example.org.")},
		"ptr":  {"NOERROR", rrs(t, "10.2.0.192.in-addr.arpa. 3600 IN PTR www.example.org.")},
		"bulk": {"NOERROR", rrs(t, "www.acme.test. 3600 IN A 198.18.1.10")},

		"dnssec-secure":              {"NOERROR", rrs(t, "www.dnssec-test.org. 3600 IN A 192.0.2.69")},
		"dnssec-nsec3":               {"NOERROR", rrs(t, "www.nsec3.dnssec-test.org. 3600 IN A 192.0.2.71")},
		"dnssec-wildcard":            {"NOERROR", rrs(t, "anything.wild.dnssec-test.org. 3600 IN A 192.0.2.79")},
		"dnssec-insecure":            {"NOERROR", rrs(t, "www.insecure.dnssec-test.org. 3600 IN A 192.0.2.70")},
		"dnssec-bogus-expired":       {"NOERROR", rrs(t, "www.expired.dnssec-test.org. 3600 IN A 192.0.2.72")},
		"dnssec-bogus-not-yet-valid": {"NOERROR", rrs(t, "www.not-yet-valid.dnssec-test.org. 3600 IN A 192.0.2.73")},
		"dnssec-bogus-wrong-ds":      {"NOERROR", rrs(t, "www.wrong-ds.dnssec-test.org. 3600 IN A 192.0.2.74")},
		"dnssec-bogus-missing-sig":   {"NOERROR", rrs(t, "www.missing-sig.dnssec-test.org. 3600 IN A 192.0.2.75")},
		"dnssec-bogus-bad-sig":       {"NOERROR", rrs(t, "www.bad-sig.dnssec-test.org. 3600 IN A 192.0.2.76")},
		"dnssec-bogus-no-nsec":       {"NOERROR", rrs(t, "anything.wild.no-nsec.dnssec-test.org. 3600 IN A 192.0.2.80")},
	}
	for _, ex := range Examples() {
		t.Run(ex.ID, func(t *testing.T) {
			got, err := newWalker(t, lab).resolve(ex.Name, ex.Type, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ex.ID == "tcp" {
				if len(got.Answer) != 8 {
					t.Errorf("%d TXT records, want 8", len(got.Answer))
				}
				return
			}
			w, ok := want[ex.ID]
			if !ok {
				t.Fatalf("no expectation for example %q", ex.ID)
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", ex.Name, dns.TypeToString[ex.Type], diff)
			}
		})
	}
}

// TestWalkWithLatency resolves the default name with latency on: it
// takes at least the sum of the latencies of one root, one org and one
// example.org server.
func TestWalkWithLatency(t *testing.T) {
	lab, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	start := time.Now()
	got, err := newWalker(t, lab).resolve(DefaultName, dns.TypeA, 0)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if len(got.Answer) != 1 {
		t.Errorf("answer %v", got.Answer)
	}
	// a.root (5 ms) + a0.org (15 ms) + ns1.example.org (20 ms).
	if floor := 40 * time.Millisecond; elapsed < floor {
		t.Errorf("walk took %v, want at least %v of simulated latency", elapsed, floor)
	}
}
