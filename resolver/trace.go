package resolver

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// EventKind says what a trace event describes.
type EventKind uint8

// Trace event kinds.
const (
	EventQuery    EventKind = iota + 1 // one upstream query and what came of it
	EventSubBegin                      // a sub-resolution of an NS name begins; later events nest under it
	EventSubEnd                        // that sub-resolution ended
	EventRestart                       // a CNAME or DNAME sends the resolution to a new name
	EventCache                         // the cache was consulted
	EventFail                          // the resolution failed, with the reason
	EventDone                          // the resolution finished
	EventValidate                      // a zone's keys were validated (DNSSEC chain of trust)
)

var eventKindNames = [...]string{"", "query", "subresolve", "subresolve-end", "restart", "cache", "fail", "done", "validate"}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, so a JSON trace can
// be read back.
func (k *EventKind) UnmarshalText(b []byte) error {
	for i, n := range eventKindNames {
		if i > 0 && n == string(b) {
			*k = EventKind(i)
			return nil
		}
	}
	return fmt.Errorf("resolver: unknown event kind %q", b)
}

// Event is one step of a resolution. Which fields are set depends on Kind.
// Events are emitted as they happen, in order; Depth is the nesting level
// of sub-resolutions (0 for the client's question).
type Event struct {
	Kind  EventKind     `json:"kind"`
	Depth int           `json:"depth"`
	At    time.Duration `json:"at_ns"` // since the request started

	// The question this step is about (the name sent upstream for a
	// query, which QNAME minimisation may have shortened).
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`

	// For queries: the zone cut being worked on, the server asked and why.
	Zone      string         `json:"zone,omitempty"`
	Server    string         `json:"server,omitempty"` // NS name
	Addr      netip.AddrPort `json:"addr,omitzero"`
	Why       string         `json:"why,omitempty"`
	Transport string         `json:"transport,omitempty"`
	RTT       time.Duration  `json:"rtt_ns,omitempty"`
	Rcode     string         `json:"rcode,omitempty"`
	Flags     string         `json:"flags,omitempty"`
	Outcome   string         `json:"outcome,omitempty"` // a reply kind, or timeout/error/truncated
	Detail    string         `json:"detail,omitempty"`  // what was learned, in words

	Referral *ReferralInfo `json:"referral,omitempty"`
	Answer   []string      `json:"answer,omitempty"`    // records, zone-file text
	Negative []string      `json:"authority,omitempty"` // SOA of a negative answer
	Target   string        `json:"target,omitempty"`    // restart target
	Err      string        `json:"error,omitempty"`

	// DNSSEC is set on validate events: one link of the chain of trust
	// (a zone's keys) or the verdict on one RRset or denial proof.
	DNSSEC *DNSSECInfo `json:"dnssec,omitempty"`
}

// DNSSECInfo describes one step of DNSSEC validation.
type DNSSECInfo struct {
	// Zone is the zone whose keys this link establishes, or the signer
	// of the RRset.
	Zone string `json:"zone"`
	// RRset names the checked data ("www.example.org. A", "NXDOMAIN
	// proof for …"); empty for a zone-keys link.
	RRset  string `json:"rrset,omitempty"`
	Status string `json:"status"` // Secure, Insecure, Bogus, Indeterminate
	Reason string `json:"reason,omitempty"`
	// Anchor is set when a configured trust anchor vouched for the keys;
	// otherwise Parent's DS did.
	Anchor bool     `json:"anchor,omitempty"`
	Parent string   `json:"parent,omitempty"`
	DS     []string `json:"ds,omitempty"`     // "keytag alg N digest N"
	DNSKEY []string `json:"dnskey,omitempty"` // "keytag alg N KSK|ZSK"
	// Signatures are the RRSIGs that verified, with their windows.
	Signatures []string `json:"signatures,omitempty"`
	// Rejected, for a zone whose keys did not validate, are the DNSKEYs
	// the zone sent ("keytag alg N KSK|ZSK") and the RRSIGs over them
	// that failed, with their windows: what the verdict was about.
	RejectedDNSKEY     []string `json:"rejected_dnskey,omitempty"`
	RejectedSignatures []string `json:"rejected_signatures,omitempty"`
	Cached             bool     `json:"cached,omitempty"` // validated in an earlier request
}

// ReferralInfo is what a referral taught: the child zone, its NS names,
// and the glue accepted and ignored (with the reason it was ignored).
type ReferralInfo struct {
	Zone        string   `json:"zone"`
	NS          []string `json:"ns"`
	Glue        []string `json:"glue,omitempty"`
	IgnoredGlue []string `json:"ignored_glue,omitempty"`
}

// Observer receives trace events as they happen. It is called from the
// resolving goroutine and must not block for long.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }

// Step is a node of a recorded trace: an event, and for a sub-resolution
// the steps nested in it.
type Step struct {
	Event
	Steps []*Step `json:"steps,omitempty"`
}

// Trace is a recorded resolution as a tree.
type Trace struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Steps []*Step `json:"steps"`
}

// Recorder is an Observer that builds a Trace tree from the events.
type Recorder struct {
	mu    sync.Mutex
	trace Trace
	stack []*Step // open sub-resolutions
}

var _ Observer = (*Recorder)(nil)

// Observe implements Observer.
func (r *Recorder) Observe(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Step{Event: e}
	switch e.Kind {
	case EventSubEnd:
		if n := len(r.stack); n > 0 {
			r.stack[n-1].Event.Outcome = e.Outcome
			r.stack[n-1].Event.Detail = e.Detail
			r.stack[n-1].Event.Err = e.Err
			r.stack = r.stack[:n-1]
		}
		return
	}
	if n := len(r.stack); n > 0 {
		r.stack[n-1].Steps = append(r.stack[n-1].Steps, s)
	} else {
		r.trace.Steps = append(r.trace.Steps, s)
	}
	if e.Kind == EventSubBegin {
		r.stack = append(r.stack, s)
	}
}

// Trace returns the recorded tree. Call it after the resolution returned.
func (r *Recorder) Trace() *Trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.trace
	return &t
}

// multiObserver fans events out to several observers.
type multiObserver []Observer

func (m multiObserver) Observe(e Event) {
	for _, o := range m {
		o.Observe(e)
	}
}

// info describes a zone's link in the chain of trust.
func (zk *zoneKeys) info() *DNSSECInfo {
	in := &DNSSECInfo{Zone: zk.zone, Status: zk.status.String(), Anchor: zk.anchor, Parent: zk.parent, Cached: zk.cached}
	if zk.err != nil {
		in.Reason = zk.err.Error()
	}
	for _, d := range zk.ds {
		in.DS = append(in.DS, fmt.Sprintf("%d alg %d digest %d", d.KeyTag, d.Algorithm, d.DigestType))
	}
	in.DNSKEY = keyStrings(zk.keys)
	in.RejectedDNSKEY = keyStrings(zk.rejected)
	for _, s := range zk.rejectedSigs {
		in.RejectedSignatures = append(in.RejectedSignatures, sigString(s))
	}
	for _, s := range []*dns.RRSIG{zk.dsSig, zk.keySig} {
		if s != nil {
			in.Signatures = append(in.Signatures, sigString(s))
		}
	}
	return in
}

// keyStrings describes keys: tag, algorithm and role.
func keyStrings(keys []*dns.DNSKEY) []string {
	var out []string
	for _, k := range keys {
		role := "ZSK"
		if k.Flags&dns.SEP != 0 {
			role = "KSK"
		}
		out = append(out, fmt.Sprintf("%d alg %d %s", k.KeyTag(), k.Algorithm, role))
	}
	return out
}

// sigString describes a signature: what it covers, the key, the window.
func sigString(s *dns.RRSIG) string {
	const layout = "2006-01-02 15:04Z"
	return fmt.Sprintf("RRSIG %s %s by %s key %d, valid %s to %s", s.Hdr.Name, dns.TypeToString[s.TypeCovered],
		s.SignerName, s.KeyTag, time.Unix(int64(s.Inception), 0).UTC().Format(layout),
		time.Unix(int64(s.Expiration), 0).UTC().Format(layout))
}

// rrsetEvent reports the verdict on one RRset of an answer.
func (rq *request) rrsetEvent(zone, rrset string, sig *dns.RRSIG, err error) {
	if rq.obs == nil {
		return
	}
	in := &DNSSECInfo{Zone: zone, RRset: rrset, Status: dnssec.StatusOf(err).String()}
	if err != nil {
		in.Reason = err.Error()
	}
	if sig != nil {
		in.Signatures = []string{sigString(sig)}
	}
	rq.emit(Event{Kind: EventValidate, Outcome: in.Status, Detail: rrset, DNSSEC: in})
}
