// Command compare asks recursive resolvers the interop check's questions
// like a stub would and compares their normalised answers (issue 5).
//
//	compare wait [-timeout D] ADDR...
//	    wait until every ADDR (host or host:port, UDP) answers a query.
//	compare query -server ADDR -questions FILE -out FILE
//	    ask every question (RD=1, UDP then TCP on TC; EDNS0 with a
//	    1232-byte buffer, except every third question, asked without EDNS
//	    like a plain stub with its 512-byte limit) and write the normalised
//	    answers as JSON lines. With -rounds 2 (the default) every question
//	    is asked a second time once all have been asked, so answers from
//	    the cache are compared too. With -dnssec (issue 7) the questions
//	    ask for DNSSEC: every third with EDNS and the DO bit, every third
//	    with EDNS and the AD bit (RFC 6840 section 5.7), every third
//	    without EDNS with the AD bit; the AD flag of the reply and any
//	    RRSIGs in the answer are compared like the rest.
//	compare diff [-known FILE] [-label L] [-ede] [-min-data F] NAME=FILE NAME=FILE
//	    compare two query outputs: rcode, the AA/TC/RA/AD flags, TC of the
//	    UDP reply, the sorted answer records without TTLs (names lower
//	    case), and for NXDOMAIN and NODATA the owner of the SOA in the
//	    authority section; with -ede also whether the reply has an
//	    Extended DNS Error (RFC 8914; the codes are only shown). Prints
//	    "L: N agree, M differ" (L is "interop" unless -label says
//	    otherwise) and every difference; exits 1 when a difference is not
//	    listed in the known file. A question that failed on both sides
//	    (timeout, refused) counts as a difference: nothing was compared.
//	    So does a run where fewer than half (-min-data) the questions got
//	    answer records: the hierarchy is broken.
//
// A questions file has one "NAME TYPE" a line; "# comment" after it says
// what the question exercises. A known-differences file has one
// "NAME TYPE  reason..." a line; blank lines and lines starting with '#'
// are ignored.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// stubBufSize is the EDNS0 buffer a modern stub advertises (DNS flag day
// 2020); answers larger than this come back truncated over UDP.
const stubBufSize = 1232

// plainEvery makes every plainEvery-th question go without EDNS, as
// glibc's stub sends by default: replies over 512 bytes are truncated.
const plainEvery = 3

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	code := 0
	switch os.Args[1] {
	case "wait":
		err = cmdWait(os.Args[2:])
	case "query":
		err = cmdQuery(os.Args[2:])
	case "diff":
		code, err = cmdDiff(os.Args[2:], os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: compare wait|query|diff ... (see the package comment)")
	os.Exit(2)
}

func withPort(a string) string {
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	return net.JoinHostPort(a, "53")
}

// cmdWait polls each address with a CHAOS TXT query until it answers,
// whatever the answer is.
func cmdWait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	timeout := fs.Duration("timeout", 15*time.Second, "give up after this long")
	fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	for _, a := range fs.Args() {
		addr := withPort(a)
		m := new(dns.Msg)
		m.SetQuestion("id.server.", dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		for {
			if _, _, err := c.ExchangeContext(ctx, m, addr); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s did not answer within %v", addr, *timeout)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

type question struct {
	Name, Type, Why string
}

// qtype parses a type mnemonic or TYPEnnn (RFC 3597); 0 means unknown.
func qtype(s string) uint16 {
	s = strings.ToUpper(s)
	if t, ok := dns.StringToType[s]; ok {
		return t
	}
	if n, ok := strings.CutPrefix(s, "TYPE"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v)
		}
	}
	return 0
}

func readQuestions(file string) ([]question, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var qs []question
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, why, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 2 {
			return nil, fmt.Errorf("%s:%d: want NAME TYPE", file, n)
		}
		if qtype(fs[1]) == 0 {
			return nil, fmt.Errorf("%s:%d: unknown type %q", file, n, fs[1])
		}
		qs = append(qs, question{dns.Fqdn(fs[0]), strings.ToUpper(fs[1]), strings.TrimSpace(why)})
	}
	return qs, sc.Err()
}

// result is one normalised answer.
type result struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Why    string   `json:"why,omitempty"`
	NoEDNS bool     `json:"no_edns,omitempty"` // asked without EDNS (512 bytes)
	DO     bool     `json:"do,omitempty"`      // asked with the DO bit
	AD     bool     `json:"ad,omitempty"`      // asked with the AD bit
	Round  int      `json:"round"`             // 1: cold cache, 2: asked again
	Err    string   `json:"err,omitempty"`
	Rcode  string   `json:"rcode,omitempty"`
	Flags  string   `json:"flags,omitempty"`  // of the final reply
	UDPTC  bool     `json:"udp_tc,omitempty"` // the UDP reply was truncated
	Answer []string `json:"answer,omitempty"` // sorted, TTL 0, lower-case names
	// NegSOA is the owner of the SOA in the authority section of an
	// NXDOMAIN or NODATA reply (what downstream caches time the negative
	// answer by, RFC 2308), "-" when there is none.
	NegSOA string `json:"neg_soa,omitempty"`
	// EDE lists the INFO-CODEs of the Extended DNS Errors (RFC 8914) in
	// the reply; shown with a difference; diff -ede compares whether
	// there is one, not the codes.
	EDE    []uint16 `json:"ede,omitempty"`
	Millis int64    `json:"ms"`
}

// same reports whether two results agree on everything compared; with
// ede, also on whether the reply has an Extended DNS Error.
func (r result) same(o result, ede bool) bool {
	if ede && (len(r.EDE) > 0) != (len(o.EDE) > 0) {
		return false
	}
	return r.Err == o.Err && r.Rcode == o.Rcode && r.Flags == o.Flags && r.UDPTC == o.UDPTC && r.NegSOA == o.NegSOA &&
		strings.Join(r.Answer, "\n") == strings.Join(o.Answer, "\n")
}

// maxShown bounds the answer records printed for one side of a difference.
const maxShown = 20

// String prints r; the answer records only when withAnswer is set.
func (r result) format(withAnswer bool) string {
	var b strings.Builder
	if r.Err != "" {
		fmt.Fprintf(&b, "error: %s", r.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "rcode=%s flags=[%s] udp-tc=%v answer=%d", r.Rcode, r.Flags, r.UDPTC, len(r.Answer))
	if r.NegSOA != "" {
		fmt.Fprintf(&b, " negative-soa=%s", r.NegSOA)
	}
	if len(r.EDE) > 0 {
		fmt.Fprintf(&b, " ede=%v", r.EDE)
	}
	fmt.Fprintf(&b, " (%d ms)", r.Millis)
	if !withAnswer {
		return b.String()
	}
	for i, a := range r.Answer {
		if i == maxShown {
			fmt.Fprintf(&b, "\n      ... %d more", len(r.Answer)-maxShown)
			break
		}
		fmt.Fprintf(&b, "\n      %s", a)
	}
	return b.String()
}

func cmdQuery(args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	server := fs.String("server", "", "resolver address (host or host:port)")
	qfile := fs.String("questions", "", "questions file")
	out := fs.String("out", "", "output file (JSON lines)")
	workers := fs.Int("workers", 8, "questions in flight at once")
	rounds := fs.Int("rounds", 2, "times every question is asked (later rounds hit the cache)")
	timeout := fs.Duration("timeout", 6*time.Second, "wait for one reply")
	dnssec := fs.Bool("dnssec", false, "ask with the DO or AD bit (see the package comment)")
	fs.Parse(args)
	if *server == "" || *qfile == "" || *out == "" {
		return errors.New("query: -server, -questions and -out are required")
	}
	qs, err := readQuestions(*qfile)
	if err != nil {
		return err
	}
	addr := withPort(*server)
	var res []result
	start := time.Now()
	for round := 1; round <= *rounds; round++ {
		rr := make([]result, len(qs))
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < *workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					st := stub{noEDNS: i%plainEvery == plainEvery-1}
					if *dnssec {
						st.do = i%3 == 0
						st.ad = !st.do
					}
					rr[i] = ask(addr, qs[i], st, *timeout)
					rr[i].Round = round
				}
			}()
		}
		for i := range qs {
			next <- i
		}
		close(next)
		wg.Wait()
		res = append(res, rr...)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range res {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	fmt.Printf("compare: %d questions (%d rounds) to %s in %.1fs\n", len(qs), *rounds, addr, time.Since(start).Seconds())
	return f.Close()
}

// stub says how a question is asked.
type stub struct {
	noEDNS bool // without EDNS (512 bytes)
	do     bool // with the DO bit (needs EDNS)
	ad     bool // with the AD bit in the header
}

// ask sends one question like a stub: UDP (one retry on timeout), then
// TCP when the reply is truncated.
func ask(addr string, q question, st stub, timeout time.Duration) (r result) {
	r = result{Name: strings.ToLower(q.Name), Type: q.Type, Why: q.Why, NoEDNS: st.noEDNS, DO: st.do, AD: st.ad}
	m := new(dns.Msg)
	m.SetQuestion(q.Name, qtype(q.Type))
	m.RecursionDesired = true
	m.AuthenticatedData = st.ad
	udp := &dns.Client{Net: "udp", Timeout: timeout}
	if !st.noEDNS {
		m.SetEdns0(stubBufSize, st.do)
		udp.UDPSize = stubBufSize
	}
	start := time.Now()
	defer func() { r.Millis = time.Since(start).Milliseconds() }()
	var reply *dns.Msg
	var err error
	for try := 0; try < 2; try++ {
		reply, _, err = udp.Exchange(m, addr)
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			break
		}
	}
	if err != nil {
		r.Err = "udp: " + errText(err)
		return r
	}
	if reply.Truncated {
		r.UDPTC = true
		tcp := &dns.Client{Net: "tcp", Timeout: timeout}
		reply, _, err = tcp.Exchange(m, addr)
		if err != nil {
			r.Err = "tcp: " + errText(err)
			return r
		}
	}
	r.Rcode = dns.RcodeToString[reply.Rcode]
	var fl []string
	for _, f := range []struct {
		on   bool
		name string
	}{{reply.Authoritative, "aa"}, {reply.Truncated, "tc"}, {reply.RecursionAvailable, "ra"}, {reply.AuthenticatedData, "ad"}} {
		if f.on {
			fl = append(fl, f.name)
		}
	}
	r.Flags = strings.Join(fl, " ")
	for _, rr := range reply.Answer {
		r.Answer = append(r.Answer, normalise(rr))
	}
	sort.Strings(r.Answer)
	if opt := reply.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				r.EDE = append(r.EDE, e.InfoCode)
			}
		}
	}
	if negative(reply) {
		r.NegSOA = "-"
		for _, rr := range reply.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				r.NegSOA = strings.ToLower(soa.Hdr.Name)
			}
		}
	}
	return r
}

// negative reports an NXDOMAIN, or a NOERROR whose answer has no record
// of the type asked (NODATA, possibly after CNAMEs).
func negative(m *dns.Msg) bool {
	switch m.Rcode {
	case dns.RcodeNameError:
		return true
	case dns.RcodeSuccess:
		qt := m.Question[0].Qtype
		for _, rr := range m.Answer {
			if t := rr.Header().Rrtype; t == qt || (t != dns.TypeCNAME && t != dns.TypeDNAME) {
				return false
			}
		}
		return qt != dns.TypeCNAME || len(m.Answer) == 0
	}
	return false
}

// errText keeps the kind of a network error, not its addresses or timing.
func errText(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF):
		return "connection closed"
	}
	return err.Error()
}

// normalise prints rr without its TTL, with the owner and every domain
// name in its data in lower case (TXT data keeps its case).
func normalise(rr dns.RR) string {
	rr = dns.Copy(rr)
	h := rr.Header()
	h.Ttl = 0
	h.Name = strings.ToLower(h.Name)
	if _, txt := rr.(*dns.TXT); txt {
		return rr.String()
	}
	return strings.ToLower(rr.String())
}

func readResults(file string) ([]result, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []result
	dec := json.NewDecoder(f)
	for {
		var r result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			return rs, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		rs = append(rs, r)
	}
}

// readKnown reads the known differences, keyed by "name TYPE".
func readKnown(file string) (map[string]string, error) {
	known := map[string]string{}
	if file == "" {
		return known, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 3 {
			return nil, fmt.Errorf("%s:%d: want NAME TYPE  reason", file, n)
		}
		known[key(fs[0], fs[1])] = strings.Join(fs[2:], " ")
	}
	return known, sc.Err()
}

func key(name, typ string) string {
	return strings.ToLower(dns.Fqdn(name)) + " " + strings.ToUpper(typ)
}

func cmdDiff(args []string, w io.Writer) (int, error) {
	fs := flag.NewFlagSet("diff", flag.ExitOnError)
	knownFile := fs.String("known", "", "known differences file")
	label := fs.String("label", "interop", "prefix of the summary lines")
	ede := fs.Bool("ede", false, "compare whether replies have an Extended DNS Error (RFC 8914)")
	minData := fs.Float64("min-data", 0.5, "fewer questions than this fraction with answer records means a broken hierarchy")
	fs.Parse(args)
	if fs.NArg() != 2 {
		return 0, errors.New("diff: want NAME=FILE NAME=FILE")
	}
	var names [2]string
	var rs [2][]result
	for i, a := range fs.Args() {
		n, file, ok := strings.Cut(a, "=")
		if !ok {
			return 0, fmt.Errorf("diff: %q is not NAME=FILE", a)
		}
		var err error
		if rs[i], err = readResults(file); err != nil {
			return 0, err
		}
		names[i] = n
	}
	if len(rs[0]) != len(rs[1]) {
		return 0, fmt.Errorf("diff: %d results against %d", len(rs[0]), len(rs[1]))
	}
	known, err := readKnown(*knownFile)
	if err != nil {
		return 0, err
	}
	width := max(len(names[0]), len(names[1])) + 1
	agree, unexplained, withData := 0, 0, 0
	var diffs []string
	seen := map[string]bool{}
	asked := map[string]bool{}
	for i := range rs[0] {
		a, b := rs[0][i], rs[1][i]
		if a.Name != b.Name || a.Type != b.Type || a.Round != b.Round {
			return 0, fmt.Errorf("diff: result %d is %s %s against %s %s", i, a.Name, a.Type, b.Name, b.Type)
		}
		if a.Err == "" && a.Rcode == "NOERROR" && len(a.Answer) > 0 {
			withData++
		}
		k := key(a.Name, a.Type)
		asked[k] = true
		if a.same(b, *ede) && a.Err == "" {
			agree++
			continue
		}
		seen[k] = true
		var d strings.Builder
		stub := "EDNS 1232"
		if a.NoEDNS {
			stub = "no EDNS"
		}
		if a.DO {
			stub += ", DO"
		}
		if a.AD {
			stub += ", AD"
		}
		if a.Round > 1 {
			stub += ", asked again"
		}
		if reason, ok := known[k]; ok {
			fmt.Fprintf(&d, "known difference %s %s  (%s; %s) — %s\n", a.Name, a.Type, a.Why, stub, reason)
		} else {
			unexplained++
			fmt.Fprintf(&d, "DIFFERENCE %s %s  (%s; %s)\n", a.Name, a.Type, a.Why, stub)
		}
		sameAnswer := strings.Join(a.Answer, "\n") == strings.Join(b.Answer, "\n")
		fmt.Fprintf(&d, "  %-*s %s\n", width, names[0]+":", a.format(!sameAnswer))
		fmt.Fprintf(&d, "  %-*s %s\n", width, names[1]+":", b.format(!sameAnswer))
		if sameAnswer && len(a.Answer) > 0 {
			fmt.Fprintf(&d, "  (same answer records)\n")
		}
		diffs = append(diffs, d.String())
	}
	fmt.Fprintf(w, "%s: %d agree, %d differ\n", *label, agree, len(diffs))
	for _, d := range diffs {
		fmt.Fprint(w, d)
	}
	var stale []string
	// Entries for questions not asked here belong to another comparison.
	for k := range known {
		if asked[k] && !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	for _, k := range stale {
		fmt.Fprintf(w, "note: known difference %s did not occur\n", k)
	}
	if float64(withData) < *minData*float64(len(rs[0])) {
		fmt.Fprintf(w, "%s: only %d of %d questions got answer records from %s: the test hierarchy is broken\n", *label, withData, len(rs[0]), names[0])
		return 1, nil
	}
	if unexplained > 0 {
		fmt.Fprintf(w, "%s: %d differences not in the known-differences file\n", *label, unexplained)
		return 1, nil
	}
	return 0, nil
}
