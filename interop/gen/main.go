// Command gen writes the DNS hierarchy of the interop check (issue 5): NSD
// configurations and zone files for every authoritative server, the root
// hints both resolvers start from, and the list of questions asked.
//
// Every server lives on 127.53.x.y:53 inside the check's network
// namespace; answer data uses documentation addresses (192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), never queried. Each
// server role is its own NSD instance on its own addresses, so a
// delegation is a real referral to a different process.
//
// Output layout under -out:
//
//	root.hints            the root hints (named.root format)
//	questions.txt         "NAME TYPE  # what it exercises", one a line
//	instances.txt         "NAME CONF ADDR..." for every NSD instance
//	silent.txt            addresses where a server takes queries, never answers
//	nsd/NAME/nsd.conf     one NSD instance: config, zone files, pid, log
//	dnssec/               the signed hierarchy (issue 7, see dnssec.go), its
//	                      own root on 127.54.x.y, in the same layout, and
//	                      root.ds, its root trust anchor
//
// Usage: gen -out DIR [-zones N]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Addresses of the server roles. Nothing listens on deadAddrs (queries get
// ICMP port unreachable); silentAddrs take queries and never answer.
var (
	rootAddrs = []string{"127.53.0.1", "127.53.0.2"}
	gtldAddrs = []string{"127.53.1.1", "127.53.1.2"}
	nicAddrs  = []string{"127.53.2.1", "127.53.2.2"}
	rirAddrs  = []string{"127.53.3.1", "127.53.3.2"}
	lameAddr  = "127.53.20.1"
	deadAddrs = []string{"127.53.30.1", "127.53.30.2"}
	silentIP  = "127.53.31.1"
)

// hoster is a DNS hosting provider: one NSD instance serving many customer
// zones under two (or one) name server names.
type hoster struct {
	inst  string   // NSD instance name
	ns    []string // name server host names
	addrs []string // their addresses, same order
	mx    string   // an out-of-zone mail exchanger name
}

var hosters = []hoster{
	{"hosta", []string{"ns1.hosta.com.", "ns2.hosta.com."}, []string{"127.53.10.1", "127.53.10.2"}, "mx.hosta.com."},
	{"hostb", []string{"ns1.hostb.net.", "ns2.hostb.net."}, []string{"127.53.11.1", "127.53.11.2"}, "mx.hostb.net."},
	{"hostc", []string{"ns.hostc.org."}, []string{"127.53.12.1"}, "mail.hostc.org."},
	{"hostd", []string{"ns1.hostd.test.", "ns2.hostd.example."}, []string{"127.53.13.1", "127.53.13.2"}, "mx.hostd.test."},
}

// tlds are the top-level domains; the first three are served by the gtld
// servers, the others by the nic servers.
var tlds = []string{"com", "net", "org", "test", "example"}

type zone struct {
	name  string // absolute, lower case
	insts []string
	rrs   []string
}

type hier struct {
	zones     map[string]*zone
	order     []string
	instAddrs map[string][]string
	questions []string
	// resolvable lists customer zones whose names resolve, as CNAME targets.
	resolvable []string
	tld        map[string]*zone  // TLD zones by label
	customers  []*zone           // zones that get the standard records
	hostedBy   map[string]hoster // customer zone → its hoster
	// rootNS and addr give the root hints: the root's name servers and
	// every name server's address.
	rootNS []string
	addr   map[string]string
}

func newHier() *hier {
	return &hier{zones: map[string]*zone{}, instAddrs: map[string][]string{},
		tld: map[string]*zone{}, hostedBy: map[string]hoster{}, rootNS: rootNS, addr: hostAddr}
}

// zone creates zone name served by the instances insts, with an SOA and
// the apex NS records ns.
func (h *hier) zone(name string, ns []string, insts ...string) *zone {
	if _, dup := h.zones[name]; dup {
		panic("duplicate zone " + name)
	}
	z := &zone{name: name, insts: insts}
	h.zones[name] = z
	h.order = append(h.order, name)
	z.rr("", fmt.Sprintf("SOA %s hostmaster.%s 1 3600 900 604800 300", ns[0], nameOrRoot(name)))
	for _, n := range ns {
		z.rr("", "NS "+n)
	}
	return z
}

func nameOrRoot(name string) string {
	if name == "." {
		return ""
	}
	return name
}

// owner returns the absolute owner name of label rel in z ("" is the apex).
func (z *zone) owner(rel string) string {
	switch {
	case rel == "":
		return z.name
	case strings.HasSuffix(rel, "."):
		return rel
	case z.name == ".":
		return rel + "."
	default:
		return rel + "." + z.name
	}
}

func (z *zone) rr(rel, data string) {
	z.rrs = append(z.rrs, fmt.Sprintf("%s 3600 IN %s", z.owner(rel), data))
}

// delegate adds the NS records of child to z and the glue of each name
// server that lies inside z.
func (z *zone) delegate(child string, ns []string, addr map[string]string) {
	for _, n := range ns {
		z.rr(child, "NS "+n)
	}
	for _, n := range ns {
		if a, ok := addr[n]; ok && inZone(n, z.name) {
			z.rr(n, "A "+a)
		}
	}
}

func inZone(name, zone string) bool {
	return zone == "." || name == zone || strings.HasSuffix(name, "."+zone)
}

func (h *hier) ask(name, typ, why string) {
	h.questions = append(h.questions, fmt.Sprintf("%s %s  # %s", name, typ, why))
}

// Name server names of the root, TLD and reverse-tree servers.
var (
	rootNS = []string{"a.root-servers.net.", "b.root-servers.net."}
	gtldNS = []string{"a.gtld-servers.net.", "b.gtld-servers.net."}
	nicNS  = []string{"ns1.nic.test.", "ns2.nic.example."}
	rirNS  = []string{"ns1.rir.org.", "ns2.rir.org."}
)

// hostAddr maps every name server host name to its address.
var hostAddr = map[string]string{
	"a.root-servers.net.": rootAddrs[0],
	"b.root-servers.net.": rootAddrs[1],
	"a.gtld-servers.net.": gtldAddrs[0],
	"b.gtld-servers.net.": gtldAddrs[1],
	"ns1.nic.test.":       nicAddrs[0],
	"ns2.nic.example.":    nicAddrs[1],
	"ns1.rir.org.":        rirAddrs[0],
	"ns2.rir.org.":        rirAddrs[1],
	"lame.hostb.net.":     lameAddr,
	"dead1.hostc.org.":    deadAddrs[0],
	"dead2.hostc.org.":    deadAddrs[1],
	"silent.hostc.org.":   silentIP,
	"ns1.hosta.com.":      "127.53.10.1",
	"ns2.hosta.com.":      "127.53.10.2",
	"ns1.hostb.net.":      "127.53.11.1",
	"ns2.hostb.net.":      "127.53.11.2",
	"ns.hostc.org.":       "127.53.12.1",
	"ns1.hostd.test.":     "127.53.13.1",
	"ns2.hostd.example.":  "127.53.13.2",
}

func main() {
	out := flag.String("out", "", "output directory (created)")
	perTLD := flag.Int("zones", 40, "customer zones of each kind per TLD, roughly")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gen: -out is required")
		os.Exit(2)
	}
	h := build(*perTLD)
	if err := h.write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Printf("gen: %d zones, %d NSD instances, %d questions\n", len(h.zones), len(h.instAddrs), len(h.questions))
	s, err := writeSigned(filepath.Join(*out, "dnssec"), time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen: signed hierarchy:", err)
		os.Exit(1)
	}
	fmt.Printf("gen: signed hierarchy: %d zones, %d NSD instances, %d questions\n", len(s.zones), len(s.instAddrs), len(s.questions))
}

// build returns the whole hierarchy and its questions; perTLD sizes the
// customer zones of each TLD.
func build(perTLD int) *hier {
	h := newHier()
	h.core()
	h.customerZones(perTLD)
	h.edgeCases()
	h.records()
	h.reverse()
	h.globalQuestions()
	h.bursts()
	return h
}

// core builds the root, the TLDs, the reverse tree's top and the hosting
// providers' own zones.
func (h *hier) core() {
	h.instAddrs["root"] = rootAddrs
	h.instAddrs["gtld-a"] = gtldAddrs[:1]
	h.instAddrs["gtld-b"] = gtldAddrs[1:]
	h.instAddrs["nic-a"] = nicAddrs[:1]
	h.instAddrs["nic-b"] = nicAddrs[1:]
	h.instAddrs["rir-a"] = rirAddrs[:1]
	h.instAddrs["rir-b"] = rirAddrs[1:]
	h.instAddrs["lame"] = []string{lameAddr}
	for _, ho := range hosters {
		h.instAddrs[ho.inst] = ho.addrs
	}

	root := h.zone(".", rootNS, "root")
	rsn := h.zone("root-servers.net.", rootNS, "root")
	for _, n := range rootNS {
		rsn.rr(n, "A "+hostAddr[n])
	}
	root.delegate("root-servers.net.", rootNS, hostAddr)
	arpa := h.zone("arpa.", rootNS, "root")
	root.delegate("arpa.", rootNS, hostAddr)

	for _, t := range tlds[:3] {
		h.tld[t] = h.zone(t+".", gtldNS, "gtld-a", "gtld-b")
		root.delegate(t+".", gtldNS, hostAddr)
	}
	for _, t := range tlds[3:] {
		h.tld[t] = h.zone(t+".", nicNS, "nic-a", "nic-b")
		root.delegate(t+".", nicNS, hostAddr)
	}
	// The TLD servers' own names: gtld-servers.net is delegated to the
	// gtld servers (in-bailiwick glue in net), nic.test and nic.example
	// are plain names in their TLD zones.
	gsn := h.zone("gtld-servers.net.", gtldNS, "gtld-a", "gtld-b")
	for _, n := range gtldNS {
		gsn.rr(n, "A "+hostAddr[n])
	}
	h.tld["net"].delegate("gtld-servers.net.", gtldNS, hostAddr)
	h.tld["test"].rr("ns1.nic.test.", "A "+hostAddr["ns1.nic.test."])
	h.tld["example"].rr("ns2.nic.example.", "A "+hostAddr["ns2.nic.example."])

	// Hosting providers' own zones.
	for _, ho := range hosters {
		dom := ho.ns[0][strings.Index(ho.ns[0], ".")+1:]
		z := h.zone(dom, ho.ns, ho.inst)
		for i, n := range ho.ns {
			if inZone(n, dom) {
				z.rr(n, "A "+ho.addrs[i])
			}
		}
		z.rr("", "A 192.0.2.250")
		z.rr("mx", "A 192.0.2.251")
		z.rr("mail", "A 192.0.2.252")
		t := dom[strings.LastIndex(strings.TrimSuffix(dom, "."), ".")+1 : len(dom)-1]
		h.tld[t].delegate(dom, ho.ns, hostAddr)
		h.ask(dom, "NS", "hoster apex NS")
	}
	// hostd's second name server is in another TLD.
	ex := h.zone("hostd.example.", []string{"ns1.hostd.test.", "ns2.hostd.example."}, "hostd")
	ex.rr("ns2.hostd.example.", "A "+hostAddr["ns2.hostd.example."])
	h.tld["example"].delegate("hostd.example.", []string{"ns1.hostd.test.", "ns2.hostd.example."}, hostAddr)
	// hostb's extra names: the lame server's address.
	h.zones["hostb.net."].rr("lame", "A "+lameAddr)
	// hostc's names for dead and silent servers.
	hc := h.zones["hostc.org."]
	hc.rr("dead1", "A "+deadAddrs[0])
	hc.rr("dead2", "A "+deadAddrs[1])
	hc.rr("silent", "A "+silentIP)

	// The lame instance serves one unrelated zone.
	lz := h.zone("lame-only.test.", []string{"lame.hostb.net."}, "lame")
	lz.rr("www", "A 192.0.2.99")
	h.tld["test"].delegate("lame-only.test.", []string{"lame.hostb.net."}, hostAddr)

	// Reverse tree: arpa (root servers) → in-addr.arpa and ip6.arpa (rir,
	// glueless: names in org) → /24s at the hosters.
	ria := h.zone("rir.org.", []string{"ns1.hostb.net.", "ns2.hostb.net."}, "hostb")
	for _, n := range rirNS {
		ria.rr(n, "A "+hostAddr[n])
	}
	h.tld["org"].delegate("rir.org.", []string{"ns1.hostb.net.", "ns2.hostb.net."}, hostAddr)
	h.zone("in-addr.arpa.", rirNS, "rir-a", "rir-b")
	arpa.delegate("in-addr.arpa.", rirNS, hostAddr)
	h.zone("ip6.arpa.", rirNS, "rir-a", "rir-b")
	arpa.delegate("ip6.arpa.", rirNS, hostAddr)
}

// newCustomer creates a customer zone at hoster ho, delegated from parent
// with parentNS.
func (h *hier) newCustomer(name string, parent *zone, ho hoster, parentNS, apexNS []string) *zone {
	z := h.zone(name, apexNS, ho.inst)
	parent.delegate(name, parentNS, hostAddr)
	h.customers = append(h.customers, z)
	h.hostedBy[name] = ho
	return z
}

// customerZones creates perTLD hosted zones in each TLD, and vanity,
// sub-delegated, lame, dead and odd ones.
func (h *hier) customerZones(perTLD int) {
	for ti, t := range tlds {
		for i := 0; i < perTLD; i++ {
			ho := hosters[(i+ti)%len(hosters)]
			// Hosted at a provider: glue in the parent when the provider's
			// names are in the same TLD, glueless otherwise.
			h.newCustomer(fmt.Sprintf("h%d.%s.", i, t), h.tld[t], ho, ho.ns, ho.ns)
			if i%2 == 0 {
				// Vanity name servers inside the zone: in-bailiwick glue.
				name := fmt.Sprintf("v%d.%s.", i, t)
				ns := []string{"ns1." + name, "ns2." + name}
				z := h.zone(name, ns, ho.inst)
				for k, nn := range ns {
					a := ho.addrs[k%len(ho.addrs)]
					z.rr(nn, "A "+a)
					h.tld[t].rr(nn, "A "+a)
				}
				for _, nn := range ns {
					h.tld[t].rr(name, "NS "+nn)
				}
				h.customers = append(h.customers, z)
				h.hostedBy[name] = ho
				h.ask(name, "NS", "vanity NS, in-bailiwick glue")
				h.ask("ns1."+name, "A", "in-bailiwick name server address")
			}
		}
		// Sub-delegations: p.T at X delegates sub.p.T to Y (in-bailiwick
		// glue in p.T), which delegates deep.sub.p.T glueless to Z.
		for i := 0; i < perTLD/8+1; i++ {
			x, y, zz := hosters[(i+ti)%4], hosters[(i+ti+1)%4], hosters[(i+ti+2)%4]
			p := h.newCustomer(fmt.Sprintf("p%d.%s", i, t)+".", h.tld[t], x, x.ns, x.ns)
			subName := "sub." + p.name
			subNS := []string{"ns1." + subName, "ns2." + subName}
			sub := h.zone(subName, subNS, y.inst)
			for k, nn := range subNS {
				a := y.addrs[k%len(y.addrs)]
				sub.rr(nn, "A "+a)
				p.rr(nn, "A "+a)
				p.rr(subName, "NS "+nn)
			}
			h.customers = append(h.customers, sub)
			h.hostedBy[subName] = y
			deep := h.zone("deep."+subName, zz.ns, zz.inst)
			sub.delegate(deep.name, zz.ns, hostAddr)
			h.customers = append(h.customers, deep)
			h.hostedBy[deep.name] = zz
			h.ask(subName, "NS", "sub-delegation NS")
			h.ask("ns1."+subName, "A", "glue inside a sub-delegation")
			h.ask(subName, "DS", "DS at a sub-delegation: answered by the parent")
			h.ask("deep."+subName, "SOA", "two levels of sub-delegation")
			h.ask(subName, "A", "delegation point: NODATA from the child")
		}
		// Lame: one working name server and one that refuses the zone
		// (the lame instance, or another hoster serving other zones).
		for i := 0; i < perTLD/8+1; i++ {
			lameNS := "lame.hostb.net."
			if i%2 == 1 {
				lameNS = "ns.hostc.org."
			}
			ho := hosters[0]
			ns := []string{lameNS, ho.ns[0]}
			if i%3 == 0 {
				ns = []string{ho.ns[0], lameNS}
			}
			h.newCustomer(fmt.Sprintf("lp%d.%s.", i, t), h.tld[t], ho, ns, ns)
		}
		// Dead: one working name server and one where nothing answers
		// (refused port, or silently dropped).
		for i := 0; i < perTLD/8+1; i++ {
			deadNS := "dead1.hostc.org."
			if i%2 == 1 {
				deadNS = "silent.hostc.org."
			}
			ho := hosters[1]
			ns := []string{deadNS, ho.ns[0]}
			h.newCustomer(fmt.Sprintf("dp%d.%s.", i, t), h.tld[t], ho, ns, ns)
		}
		// A name server name that does not exist next to a working one.
		{
			ho := hosters[2]
			ns := []string{"ns.nonexistent-zz.com.", ho.ns[0]}
			h.newCustomer("bn."+t+".", h.tld[t], ho, ns, ns)
		}
		// The parent's NS set differs from the child's apex NS set.
		{
			ho := hosters[3]
			z := h.newCustomer("mm."+t+".", h.tld[t], ho, ho.ns[:1], ho.ns)
			h.ask(z.name, "NS", "child NS set larger than the parent's")
		}
	}
}

// edgeCases adds delegations that resolvers get wrong: missing or
// mismatched glue, NS names that are CNAMEs, a referral needing TCP,
// referral loops, unreachable zones.
func (h *hier) edgeCases() {
	// Delegation edge cases, in com and org.
	{
		// In-bailiwick name server without glue in the parent: unreachable.
		ng := h.zone("noglue.com.", []string{"ns1.noglue.com."}, "hosta")
		ng.rr("ns1", "A 127.53.10.1")
		ng.rr("www", "A 192.0.2.61")
		h.tld["com"].rr(ng.name, "NS ns1.noglue.com.")
		h.ask("www.noglue.com.", "A", "in-bailiwick NS without glue: unreachable")
		// The same, next to a working name server.
		hg := h.zone("halfglue.net.", []string{"ns1.halfglue.net.", "ns1.hostb.net."}, "hostb")
		hg.rr("ns1", "A 127.53.11.1")
		hg.rr("www", "A 192.0.2.62")
		h.tld["net"].rr(hg.name, "NS ns1.halfglue.net.")
		h.tld["net"].rr(hg.name, "NS ns1.hostb.net.")
		h.ask("www.halfglue.net.", "A", "one NS without glue, one working")
		// Parent glue and the child's address record differ; both
		// addresses serve the zone. The answer is the child's record.
		gm := h.zone("gm.com.", []string{"ns1.gm.com."}, "hosta", "hostb")
		gm.rr("ns1", "A 127.53.11.1")
		gm.rr("www", "A 192.0.2.63")
		h.tld["com"].rr(gm.name, "NS ns1.gm.com.")
		h.tld["com"].rr("ns1.gm.com.", "A 127.53.10.1")
		h.ask("ns1.gm.com.", "A", "parent glue differs from the child's record")
		h.ask("www.gm.com.", "A", "zone reached through glue that differs from the child's record")
		// A name server name that is a CNAME (RFC 2181 section 10.3 forbids it).
		nc := h.zone("nscname.org.", []string{"nsalias.hostc.org."}, "hostc")
		nc.rr("www", "A 192.0.2.64")
		h.zones["hostc.org."].rr("nsalias", "CNAME ns.hostc.org.")
		h.tld["org"].rr(nc.name, "NS nsalias.hostc.org.")
		h.ask("www.nscname.org.", "A", "the only NS name is a CNAME")
		h.ask("nsalias.hostc.org.", "A", "CNAME to a name server name")
	}

	// A referral bigger than 1232 bytes (60 name servers): truncated over
	// UDP, so the resolver must ask the TLD again over TCP.
	{
		var ns []string
		for k := 0; k < 60; k++ {
			ns = append(ns, fmt.Sprintf("ns%02d-with-a-rather-long-label.bigref.com.", k))
		}
		br := h.zone("bigref.com.", ns, "hosta")
		for k, n := range ns {
			a := hosters[0].addrs[k%2]
			br.rr(n, "A "+a)
			h.tld["com"].rr(br.name, "NS "+n)
			h.tld["com"].rr(n, "A "+a)
		}
		br.rr("www", "A 192.0.2.65")
		h.ask("www.bigref.com.", "A", "referral of 60 NS with glue: TC, TCP to the TLD")
		h.ask("bigref.com.", "NS", "NS RRset of 60 names")
	}
	// A delegation below an empty non-terminal, glueless.
	{
		p := h.zones["p0.com."]
		p.rr("c.b.p0.com.", "NS ns.hostc.org.")
		c := h.zone("c.b.p0.com.", []string{"ns.hostc.org."}, "hostc")
		c.rr("www", "A 192.0.2.66")
		h.ask("www.c.b.p0.com.", "A", "delegation below an empty non-terminal")
		h.ask("b.p0.com.", "A", "empty non-terminal above a delegation: NODATA")
	}
	// Delegations back up the tree: to the TLD's own servers (a referral
	// to itself) and to the root servers (an upward referral).
	h.tld["org"].delegate("selfref.org.", gtldNS, hostAddr)
	h.ask("www.selfref.org.", "A", "delegated to the parent's servers: referral loop")
	h.tld["net"].delegate("rootref.net.", rootNS, hostAddr)
	h.ask("www.rootref.net.", "A", "delegated to the root servers: upward referral")

	// Zones that cannot be resolved: SERVFAIL expected from both.
	for _, bad := range []struct {
		name string
		ns   []string
		why  string
	}{
		{"alllame.org.", []string{"lame.hostb.net.", "ns.hostc.org."}, "every name server lame (REFUSED)"},
		{"alldead.org.", []string{"dead1.hostc.org.", "dead2.hostc.org."}, "every name server dead (port unreachable)"},
		{"allsilent.net.", []string{"silent.hostc.org."}, "the only name server never answers"},
		{"cyc-a.com.", []string{"ns.cyc-b.net."}, "glueless delegation cycle"},
		{"cyc-b.net.", []string{"ns.cyc-a.com."}, "glueless delegation cycle"},
	} {
		t := strings.TrimSuffix(bad.name[strings.Index(bad.name, ".")+1:], ".")
		h.tld[t].delegate(bad.name, bad.ns, hostAddr)
		h.ask("www."+bad.name, "A", bad.why)
		h.ask(bad.name, "MX", bad.why)
	}
	// The cycle's zones exist on hosta, reachable only by breaking the cycle.
	for _, c := range []string{"cyc-a.com.", "cyc-b.net."} {
		other := map[string]string{"cyc-a.com.": "ns.cyc-b.net.", "cyc-b.net.": "ns.cyc-a.com."}[c]
		z := h.zone(c, []string{other}, "hosta")
		z.rr("ns", "A 127.53.10.1")
		z.rr("www", "A 192.0.2.77")
	}
}

// records fills the customer zones.
func (h *hier) records() {
	// Records and questions of the customer zones.
	for _, z := range h.customers {
		if !strings.HasPrefix(z.name, "cyc-") {
			h.resolvable = append(h.resolvable, z.name)
		}
	}
	for i, z := range h.customers {
		fill(h, i, z, h.hostedBy[z.name])
	}
}

// reverse builds the in-addr.arpa and ip6.arpa zones and their questions.
func (h *hier) reverse() {
	// Reverse zones.
	rev := []struct {
		zone string
		ho   hoster
		tmpl string
	}{
		{"2.0.192.in-addr.arpa.", hosters[0], "192.0.2.%d"},
		{"100.51.198.in-addr.arpa.", hosters[2], "198.51.100.%d"},
		{"113.0.203.in-addr.arpa.", hosters[3], "203.0.113.%d"},
	}
	for ri, r := range rev {
		z := h.zone(r.zone, r.ho.ns, r.ho.inst)
		h.zones["in-addr.arpa."].delegate(r.zone, r.ho.ns, hostAddr)
		for k := 1; k <= 40; k++ {
			target := h.resolvable[(k*7+ri)%len(h.resolvable)]
			if ri == 2 && k <= 20 {
				// RFC 2317 classless delegation: a CNAME into the /26's zone.
				z.rr(fmt.Sprint(k), fmt.Sprintf("CNAME %d.0/26.%s", k, r.zone))
				continue
			}
			z.rr(fmt.Sprint(k), "PTR www."+target)
			if k%3 == 0 {
				z.rr(fmt.Sprint(k), "PTR "+target)
			}
		}
		for k := 1; k <= 40; k += 3 {
			h.ask(fmt.Sprintf("%d.%s", k, r.zone), "PTR", "reverse "+fmt.Sprintf(r.tmpl, k))
		}
		h.ask("250."+r.zone, "PTR", "reverse name without PTR: NXDOMAIN")
		h.ask(r.zone, "NS", "reverse zone apex NS")
	}
	cl := h.zone("0/26.113.0.203.in-addr.arpa.", hosters[1].ns, hosters[1].inst)
	h.zones["113.0.203.in-addr.arpa."].delegate(cl.name, hosters[1].ns, hostAddr)
	for k := 1; k <= 20; k++ {
		cl.rr(fmt.Sprint(k), "PTR host"+fmt.Sprint(k)+"."+h.resolvable[k%len(h.resolvable)])
	}
	h.ask("5.0/26.113.0.203.in-addr.arpa.", "PTR", "classless reverse zone directly")
	h.ask("113.0.203.in-addr.arpa.", "SOA", "reverse zone SOA")
	h.ask("192.in-addr.arpa.", "NS", "empty non-terminal in in-addr.arpa: NODATA")
	h.ask("in-addr.arpa.", "NS", "in-addr.arpa apex")

	// IPv6 reverse.
	i6 := h.zone("8.b.d.0.1.0.0.2.ip6.arpa.", hosters[1].ns, hosters[1].inst)
	h.zones["ip6.arpa."].delegate(i6.name, hosters[1].ns, hostAddr)
	for k := 1; k <= 12; k++ {
		o := fmt.Sprintf("%x.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", k)
		i6.rr(o, "PTR www."+h.resolvable[(k*11)%len(h.resolvable)])
		if k%2 == 1 {
			h.ask(o+"."+i6.name, "PTR", "IPv6 reverse 2001:db8::"+fmt.Sprintf("%x", k))
		}
	}
	h.ask("f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."+i6.name, "PTR", "IPv6 reverse NXDOMAIN")
}

// globalQuestions asks about the hierarchy itself.
func (h *hier) globalQuestions() {
	// Whole-hierarchy questions.
	h.ask(".", "NS", "root NS (priming answer)")
	h.ask(".", "SOA", "root SOA")
	h.ask("com.", "NS", "TLD NS")
	h.ask("test.", "SOA", "TLD SOA")
	h.ask("example.", "NS", "TLD NS, name servers in two TLDs")
	h.ask("zz-not-registered.com.", "A", "NXDOMAIN from the TLD")
	h.ask("www.zz-not-registered.org.", "AAAA", "NXDOMAIN from the TLD, below the cut")
	h.ask("nosuchtld.", "A", "NXDOMAIN from the root")
	h.ask("a.b.nosuchtld.", "MX", "NXDOMAIN from the root, deeper")
	h.ask("a.root-servers.net.", "A", "root server address")
	h.ask("b.gtld-servers.net.", "A", "TLD server address")
	h.ask("ns1.hosta.com.", "A", "hoster name server address")
	h.ask("ns2.hostd.example.", "A", "name server in another TLD than its sibling")
	h.ask("lame.hostb.net.", "A", "address of the lame server")
	h.ask("www.lame-only.test.", "A", "zone served by the lame instance")
	h.ask("h1.com.", "DS", "DS at a TLD delegation: NODATA from the parent")
	h.ask("com.", "DS", "DS at the root delegation")
	h.ask("WwW.H2.CoM.", "A", "mixed-case question")
	h.ask("arpa.", "DS", "DS where one server serves parent and child")
	h.ask("gtld-servers.net.", "DS", "DS where one server serves parent and child")
	h.ask("in-addr.arpa.", "DS", "DS at a delegation from arpa")
	h.ask("www.h1.com.", "DS", "DS at a name that is not a zone cut: NODATA")
	h.ask("www.h1.net.", "SOA", "SOA of a name below the apex: NODATA")
}
