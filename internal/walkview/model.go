package walkview

import (
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/resolver/report"
)

// Resolution is one resolution as the pictures show it: the question, how
// it ended, and the recorded trace. It is built from the same
// *resolver.Result and *resolver.Trace that `resolve --json` and
// /debug/trace print, so the picture and the JSON cannot disagree.
type Resolution struct {
	// ID numbers resolutions in a server's trace ring; 0 elsewhere.
	ID uint64 `json:"id,omitempty"`
	// When the resolution finished; zero when unknown.
	When time.Time `json:"when,omitzero"`
	// Client asked the question (a server's client address), if known.
	Client string `json:"client,omitempty"`

	Name      string        `json:"name"`
	Type      string        `json:"type"`
	Rcode     string        `json:"rcode"`
	Security  string        `json:"security,omitempty"`
	Answer    []string      `json:"answer,omitempty"`
	Authority []string      `json:"authority,omitempty"`
	Error     string        `json:"error,omitempty"`
	Upstream  int           `json:"upstream_queries"`
	Duration  time.Duration `json:"-"`

	Trace *resolver.Trace `json:"-"`
}

// FromResult builds a Resolution from what Resolver.Query returned for
// the question name/qtype; res may be nil when err is set. The question,
// rcode, security, records and error are report.FromResult's, the one JSON
// form of a resolution, so the picture says what --json says; the trace
// is kept as the resolver recorded it, with its durations.
func FromResult(name string, qtype uint16, res *resolver.Result, err error) Resolution {
	doc := report.FromResult(name, qtype, res, err)
	r := Resolution{Name: doc.Name, Type: doc.Type, Rcode: doc.Rcode, Security: doc.Security,
		Answer: doc.Answer, Authority: doc.Authority, Error: doc.Error, Upstream: doc.UpstreamQueries}
	if res != nil {
		r.Duration, r.Trace = res.Duration, res.Trace
	}
	return r
}

// walk is a resolution (or a glueless sub-resolution) arranged for the
// delegation graph: one segment per name the resolution asked about, a
// CNAME or DNAME restart starting the next.
type walk struct {
	segs []*segment
}

// segment is the walk for one name: its cache lookups, the zones whose
// servers were asked (in the order they were reached) and how it ended.
type segment struct {
	name, qtype string
	cache       []*resolver.Step // cache lookups that concern the name
	zones       []*zoneBox
	restart     *resolver.Step // the CNAME/DNAME that sends the walk on, if any
	end         *resolver.Step // done or fail, top-level walks only
}

// zoneBox is one zone cut of a segment and the servers asked there.
type zoneBox struct {
	zone      string
	queries   []*resolver.Step
	branches  []*resolver.Step // glueless sub-resolutions started for this zone's servers
	referral  *resolver.Step   // the query whose referral led here
	fromCache *resolver.Step   // the cache event that resumed the walk at this cut
}

func (s *segment) box(zone string) *zoneBox {
	for _, z := range s.zones {
		if z.zone == zone {
			return z
		}
	}
	z := &zoneBox{zone: zone}
	s.zones = append(s.zones, z)
	return z
}

// buildWalk arranges steps (a trace's, or a sub-resolution's nested
// steps) into segments starting with the question name/qtype.
func buildWalk(name, qtype string, steps []*resolver.Step) *walk {
	w := &walk{}
	seg := &segment{name: name, qtype: qtype}
	w.segs = append(w.segs, seg)
	for _, s := range steps {
		switch s.Kind {
		case resolver.EventQuery:
			z := seg.box(s.Zone)
			z.queries = append(z.queries, s)
			if s.Outcome == "referral" && s.Referral != nil {
				if c := seg.box(s.Referral.Zone); c.referral == nil {
					c.referral = s
				}
			}
		case resolver.EventSubBegin:
			z := seg.box(s.Zone)
			z.branches = append(z.branches, s)
		case resolver.EventCache:
			if s.Outcome == "cut" && s.Zone != "" {
				if z := seg.box(s.Zone); z.fromCache == nil {
					z.fromCache = s
				}
				continue
			}
			seg.cache = append(seg.cache, s)
		case resolver.EventRestart:
			seg.restart = s
			seg = &segment{name: s.Target, qtype: qtype}
			w.segs = append(w.segs, seg)
		case resolver.EventDone, resolver.EventFail:
			seg.end = s
		}
	}
	return w
}

// subQuestion names what a sub-resolution looked up: its first cache
// lookup's type, A when it has none.
func subQuestion(s *resolver.Step) (string, string) {
	for _, c := range s.Steps {
		if c.Kind == resolver.EventCache && c.Type != "" {
			return s.Name, c.Type
		}
	}
	return s.Name, "A"
}

// chainLinks returns the validation events of a trace in order: the zone
// links (one per zone, the first seen) and the RRset verdicts.
func chainLinks(steps []*resolver.Step) (zones, rrsets []*resolver.DNSSECInfo) {
	seen := map[string]bool{}
	var visit func([]*resolver.Step)
	visit = func(steps []*resolver.Step) {
		for _, s := range steps {
			if s.Kind == resolver.EventValidate && s.DNSSEC != nil {
				d := s.DNSSEC
				switch {
				case d.RRset != "":
					rrsets = append(rrsets, d)
				case !seen[d.Zone]:
					seen[d.Zone] = true
					zones = append(zones, d)
				}
			}
			visit(s.Steps)
		}
	}
	visit(steps)
	return zones, rrsets
}

// zoneStatus maps each zone whose keys were judged to its DNSSEC status.
func zoneStatus(zones []*resolver.DNSSECInfo) map[string]string {
	m := make(map[string]string, len(zones))
	for _, z := range zones {
		m[z.Zone] = z.Status
	}
	return m
}

// restartKind says whether a restart followed a CNAME or a DNAME: a DNAME
// shows among the records that came with it.
func restartKind(s *resolver.Step) string {
	for _, a := range s.Answer {
		if f := strings.Fields(a); len(f) >= 4 && (f[3] == "DNAME" || (len(f) >= 5 && f[2] == "IN" && f[3] == "DNAME")) {
			return "DNAME"
		}
	}
	return "CNAME"
}

// className turns an outcome or status into a CSS class suffix.
func className(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}
