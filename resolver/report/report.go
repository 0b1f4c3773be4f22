package report

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
)

// Resolution is one resolution: the question, the answer, what it cost,
// and (when recorded) the trace.
type Resolution struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Rcode    string `json:"rcode"`
	Security string `json:"security"` // Secure, Insecure, Bogus or Indeterminate (not validated)
	// Stale is set when expired data was served (RFC 8767).
	Stale     bool     `json:"stale,omitempty"`
	Answer    []string `json:"answer,omitempty"`
	Authority []string `json:"authority,omitempty"`
	// UpstreamQueries counts the queries sent to authoritative servers;
	// ServersContacted the distinct addresses among them (known only
	// from a trace).
	UpstreamQueries  int     `json:"upstream_queries"`
	ServersContacted int     `json:"servers_contacted,omitempty"`
	DurationMS       float64 `json:"duration_ms"`
	// Error says why the resolution failed; EDE is the Extended DNS
	// Error code (RFC 8914) a server attaches to its SERVFAIL.
	Error string  `json:"error,omitempty"`
	EDE   *uint16 `json:"ede,omitempty"`
	Trace *Trace  `json:"trace,omitempty"`
	// Infra is the server-selection table after the resolution, when
	// asked for (resolve --json --show-infra).
	Infra []InfraEntry `json:"infra,omitempty"`
}

// Trace is the recorded walk, as a tree.
type Trace struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Steps []*Step `json:"steps"`
}

// Step is one event of the walk; which fields are set depends on Kind
// (see resolver.EventKind).
type Step struct {
	Kind      string                 `json:"kind"`
	Depth     int                    `json:"depth"`
	AtMS      float64                `json:"at_ms"` // since the resolution started
	Name      string                 `json:"name,omitempty"`
	Type      string                 `json:"type,omitempty"`
	Zone      string                 `json:"zone,omitempty"`
	Server    string                 `json:"server,omitempty"`
	Addr      string                 `json:"addr,omitempty"`
	Why       string                 `json:"why,omitempty"`
	Transport string                 `json:"transport,omitempty"`
	RTTMS     float64                `json:"rtt_ms,omitempty"`
	Rcode     string                 `json:"rcode,omitempty"`
	Flags     string                 `json:"flags,omitempty"`
	Outcome   string                 `json:"outcome,omitempty"`
	Detail    string                 `json:"detail,omitempty"`
	Referral  *resolver.ReferralInfo `json:"referral,omitempty"`
	Answer    []string               `json:"answer,omitempty"`
	Authority []string               `json:"authority,omitempty"`
	Target    string                 `json:"target,omitempty"`
	Error     string                 `json:"error,omitempty"`
	DNSSEC    *resolver.DNSSECInfo   `json:"dnssec,omitempty"`
	Steps     []*Step                `json:"steps,omitempty"`
}

// Millis is d in milliseconds, to the microsecond.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// FromResult builds the document for a resolution that returned res and
// err. name and qtype are the question, used when res is nil.
func FromResult(name string, qtype uint16, res *resolver.Result, err error) *Resolution {
	doc := &Resolution{Name: dns.Fqdn(name), Type: TypeString(qtype), Rcode: rcodeString(dns.RcodeServerFailure), Security: "Indeterminate"}
	if res != nil {
		doc.Name, doc.Type, doc.Rcode = res.Name, TypeString(res.Type), rcodeString(res.Rcode)
		doc.Security, doc.Stale = res.Security.String(), res.Stale
		doc.Answer, doc.Authority = Records(res.Answer), Records(res.Authority)
		doc.UpstreamQueries, doc.DurationMS = res.Upstream, Millis(res.Duration)
		if res.Trace != nil {
			doc.Trace = FromTrace(res.Trace)
			doc.ServersContacted = len(serversIn(res.Trace.Steps, map[string]bool{}))
		}
	}
	if err != nil {
		doc.Error = err.Error()
		var re *resolver.Error
		if errors.As(err, &re) {
			ede := re.EDE
			doc.EDE = &ede
		}
	}
	return doc
}

// FromTrace converts a recorded trace.
func FromTrace(t *resolver.Trace) *Trace {
	return &Trace{Name: t.Name, Type: t.Type, Steps: steps(t.Steps)}
}

func steps(in []*resolver.Step) []*Step {
	if len(in) == 0 {
		return nil
	}
	out := make([]*Step, 0, len(in))
	for _, s := range in {
		e := s.Event
		st := &Step{
			Kind: e.Kind.String(), Depth: e.Depth, AtMS: Millis(e.At),
			Name: e.Name, Type: e.Type, Zone: e.Zone, Server: e.Server, Why: e.Why, Transport: e.Transport,
			RTTMS: Millis(e.RTT), Rcode: e.Rcode, Flags: e.Flags, Outcome: e.Outcome, Detail: e.Detail,
			Referral: e.Referral, Answer: oneSpace(e.Answer), Authority: oneSpace(e.Negative),
			Target: e.Target, Error: e.Err, DNSSEC: e.DNSSEC, Steps: steps(s.Steps),
		}
		if e.Addr.IsValid() {
			st.Addr = e.Addr.String()
		}
		out = append(out, st)
	}
	return out
}

func serversIn(steps []*resolver.Step, seen map[string]bool) map[string]bool {
	for _, s := range steps {
		if s.Kind == resolver.EventQuery && s.Addr.IsValid() {
			seen[s.Addr.String()] = true
		}
		serversIn(s.Steps, seen)
	}
	return seen
}

// Records are rrs in presentation format, fields separated by one space.
func Records(rrs []dns.RR) []string {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	return out
}

// oneSpace turns the tab-separated zone-file text of a trace event into
// the same presentation form as Records.
func oneSpace(lines []string) []string {
	if len(lines) == 0 {
		return nil
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.ReplaceAll(l, "\t", " ")
	}
	return out
}

// TypeString names a type as its mnemonic or TYPEnnn (RFC 3597).
func TypeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok && t != 0 {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func rcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}
