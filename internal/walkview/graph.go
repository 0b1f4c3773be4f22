package walkview

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
)

// Delegation graph geometry, in px.
const (
	lineH      = 15.0  // one line of body text
	smallLineH = 14.0  // one line of small text
	boxHeadH   = 26.0  // a zone box's title bar
	rowPad     = 6.0   // above and below a server row
	pillH      = 26.0  // a question's pill
	arrowMin   = 30.0  // the shortest vertical arrow between boxes
	colMinW    = 400.0 // a column is at least this wide so short walks do not look cramped
	colMaxW    = 560.0 // and at most this wide; longer lines are clipped (the full text is in the tooltip)
	branchGap  = 48.0  // between a zone box and its glueless branch
	branchPad  = 12.0  // inside a branch's frame
	maxAnswers = 8     // answer lines drawn in the result box; the rest are counted
	maxNSShown = 4     // NS names drawn on a referral arrow; the rest are counted
)

// graph draws delegation walks.
type graph struct {
	w      *svgw
	status map[string]string // zone → DNSSEC status of its keys
}

// drawWalk draws w with its top-left corner at x, y and returns the size
// it took. top is set for the client's question (which ends in a result box).
func (g *graph) drawWalk(w *walk, x, y float64, top bool, res *Resolution) (float64, float64) {
	colW := g.columnWidth(w)
	maxX := x + colW
	cy := y
	prevBottom := -1.0 // bottom of the element the next arrow starts from
	for i, seg := range w.segs {
		if i > 0 {
			prev := w.segs[i-1]
			cy = g.restartArrow(prev.restart, x, cy, colW)
		}
		g.w.open("g", "class", "segment", "data-name", seg.name)
		g.questionPill(seg, x, cy, colW)
		prevBottom = cy + pillH
		cy += pillH
		for _, z := range seg.zones {
			cy = g.zoneArrow(z, x, prevBottom, cy, colW)
			bw, bh := g.zoneBox(z, x, cy, colW, seg)
			maxX = max(maxX, x+bw)
			branchY := cy
			for _, b := range z.branches {
				bx := x + colW + branchGap
				g.connector(x+colW, cy+boxHeadH/2, bx, branchY+boxHeadH/2, b)
				ww, hh := g.branch(b, bx, branchY)
				maxX = max(maxX, bx+ww)
				branchY += hh + 16
			}
			prevBottom = cy + bh
			cy = max(cy+bh, branchY-16)
		}
		g.w.close("g")
		if top && i == len(w.segs)-1 && res != nil {
			cy = g.arrow(x, prevBottom, cy, colW, nil, "edge edge-result", nil)
			_, rh := g.resultBox(res, x, cy, colW)
			cy += rh
		}
	}
	return maxX - x, cy - y
}

// columnWidth is the width of w's column: wide enough for its server
// lines, within colMinW and colMaxW.
func (g *graph) columnWidth(w *walk) float64 {
	need := colMinW
	for _, s := range w.segs {
		need = max(need, textW(s.name+" "+s.qtype, fontSize)+160)
		for _, z := range s.zones {
			need = max(need, textW(z.zone, fontSize)+150)
			for _, q := range z.queries {
				need = max(need, textW(serverLine(q), fontSize)+textW(q.Outcome, smallSize)+48)
			}
		}
	}
	return min(need, colMaxW)
}

func serverLine(q *resolver.Step) string {
	s := q.Server
	if q.Addr.IsValid() {
		s += "  " + q.Addr.Addr().String()
	}
	return s
}

// questionPill draws the name a segment looks up, with its cache marks.
func (g *graph) questionPill(seg *segment, x, y, colW float64) {
	label := seg.name + " " + seg.qtype
	w := min(textW(label, fontSize)+24, colW)
	g.w.open("g", "class", "question", "data-name", seg.name, "data-type", seg.qtype)
	g.w.title("question: " + label)
	g.w.rect(x, y, w, pillH, pillH/2, "pill")
	g.w.text(x+12, y+17, "q-text", clip(label, colW-24, fontSize))
	g.w.close("g")
	cx := x + w + 10
	for _, c := range seg.cache {
		cls, word := "cache cache-"+className(c.Outcome), "cache "+c.Outcome
		switch c.Outcome {
		case "hit":
			word = "cache hit"
		case "failure":
			word = "cached failure"
		}
		bw := textW(word, smallSize) + 26
		g.w.open("g", "class", cls, "data-outcome", c.Outcome)
		g.w.title(c.Detail + strings.Join(prefixAll("\n", c.Answer), ""))
		g.w.rect(cx, y+3, bw, pillH-6, 4, "badge")
		// A diamond marks the cache, so a hit is told apart by shape
		// as well as colour.
		g.w.path(pathf("M%s %sl5 5l-5 5l-5 -5z", cx+11, y+8), "mark")
		g.w.text(cx+20, y+17, "small", word)
		g.w.close("g")
		cx += bw + 6
	}
}

func prefixAll(p string, s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = p + v
	}
	return out
}

// zoneArrow draws the arrow into zone box z, labelled with what led
// there, and returns the y where the box starts.
func (g *graph) zoneArrow(z *zoneBox, x, fromY, y, colW float64) float64 {
	var lines []string
	cls := "edge edge-referral"
	var title []string
	from := ""
	switch {
	case z.referral != nil && z.referral.Referral != nil:
		r := z.referral.Referral
		from = z.referral.Zone
		ns := r.NS
		more := ""
		if len(ns) > maxNSShown {
			more = fmt.Sprintf(" and %d more", len(ns)-maxNSShown)
			ns = ns[:maxNSShown]
		}
		lines = append(lines, fmt.Sprintf("referral to %s: %d NS, %d glue", r.Zone, len(r.NS), len(r.Glue)))
		lines = append(lines, "NS "+strings.Join(ns, " ")+more)
		if len(r.Glue) == 0 {
			lines = append(lines, "no glue: the servers' addresses must be looked up")
			cls += " glueless"
		}
		for _, ig := range r.IgnoredGlue {
			lines = append(lines, "ignored glue "+ig)
		}
		title = append(append(append([]string{z.referral.Detail}, r.NS...), r.Glue...), r.IgnoredGlue...)
	case z.fromCache != nil:
		cls = "edge edge-cache"
		lines = append(lines, "zone cut from the cache")
		lines = append(lines, z.fromCache.Detail)
		title = []string{z.fromCache.Detail}
	case z.zone == ".":
		cls = "edge edge-hints"
		lines = append(lines, "start at the root (root hints)")
	default:
		cls = "edge edge-other"
	}
	return g.arrow(x, fromY, y, colW, lines, cls, title, "data-from", from, "data-to", z.zone)
}

// arrow draws a vertical arrow down near the column's left edge, from
// the element ending at from to below y, with label lines to its right
// (starting at y), and returns where it ends.
func (g *graph) arrow(x, from, y, colW float64, lines []string, cls string, title []string, kv ...string) float64 {
	h := max(arrowMin, float64(len(lines))*smallLineH+14)
	ax := x + 24
	g.w.open("g", append([]string{"class", cls}, kv...)...)
	g.w.title(strings.Join(title, "\n"))
	g.w.path(pathf("M%s %sV%s", ax, min(from, y), y+h-2), "arrow", "marker-end", "url(#arrowhead)")
	for i, l := range lines {
		lc := "small edge-label"
		if strings.HasPrefix(l, "ignored glue") || strings.HasPrefix(l, "no glue") {
			lc += " warn"
		}
		g.w.text(ax+14, y+12+float64(i)*smallLineH, lc, clip(l, colW-40, smallSize))
	}
	g.w.close("g")
	return y + h
}

// zoneBox draws a zone and the servers asked there; it returns its size.
func (g *graph) zoneBox(z *zoneBox, x, y, colW float64, seg *segment) (float64, float64) {
	rowsH := 0.0
	for _, q := range z.queries {
		rowsH += rowHeight(q)
	}
	if len(z.queries) == 0 {
		rowsH = lineH + 2*rowPad
	}
	h := boxHeadH + rowsH
	st := g.status[z.zone]
	sec := "sec-none"
	if st != "" {
		sec = "sec-" + className(st)
	}
	g.w.open("g", "class", "zone "+sec, "data-zone", z.zone, "data-status", st)
	g.w.rect(x, y, colW, h, 6, "zone-box")
	g.w.rect(x, y, colW, boxHeadH, 6, "zone-head")
	g.w.text(x+10, y+17, "zone-name", clip(zoneLabel(z.zone), colW-130, fontSize))
	if st != "" {
		tw := textW(st, smallSize) + 14
		g.w.rect(x+colW-tw-8, y+5, tw, 16, 8, "sec-chip")
		g.w.text(x+colW-tw-1, y+17, "small sec-text", st)
	}
	ry := y + boxHeadH
	if len(z.queries) == 0 {
		g.w.text(x+10, ry+rowPad+11, "small muted", clip(notAsked(z, seg), colW-20, smallSize))
	}
	for _, q := range z.queries {
		g.serverRow(q, x, ry, colW)
		ry += rowHeight(q)
	}
	g.w.close("g")
	return colW, h
}

// notAsked says why a zone the walk reached got no query: the referral
// into it already carried what the walk looked for (glue), or the walk
// ended there.
func notAsked(z *zoneBox, seg *segment) string {
	if z.referral != nil && z.referral.Referral != nil {
		for _, gl := range z.referral.Referral.Glue {
			if f := strings.Fields(gl); len(f) > 0 && strings.EqualFold(f[0], seg.name) {
				return "not asked: the referral's glue gave " + gl
			}
		}
	}
	return "not asked"
}

func zoneLabel(z string) string {
	if z == "." {
		return ". (root)"
	}
	return z
}

// rowLines are the small lines under a server row's first line.
func rowLines(q *resolver.Step) []string {
	ask := fmt.Sprintf("asked %s %s over %s", q.Name, q.Type, q.Transport)
	if q.RTT > 0 {
		ask += ", " + fmtMS(q.RTT)
	}
	lines := []string{ask}
	if q.Why != "" {
		lines = append(lines, "why: "+q.Why)
	}
	got := q.Detail // a failure's detail holds its error's words
	if got == "" {
		got = q.Err
	}
	if q.Rcode != "" && q.Rcode != "NOERROR" && !strings.EqualFold(q.Outcome, q.Rcode) {
		// The pill says what the walk made of the reply (servfail,
		// lame); the RCODE is what the server said (REFUSED).
		got = strings.TrimSuffix(q.Rcode+": "+got, ": ")
	}
	if got != "" {
		lines = append(lines, "got: "+got)
	}
	return lines
}

func rowHeight(q *resolver.Step) float64 {
	return lineH + float64(len(rowLines(q)))*smallLineH + 2*rowPad
}

// serverRow draws one query: the server, its address and the outcome as
// a word in a coloured pill, then what was asked, why and what came back.
func (g *graph) serverRow(q *resolver.Step, x, y, colW float64) {
	oc := className(q.Outcome)
	g.w.open("g", "class", "server q-"+oc, "data-server", q.Server, "data-addr", addrIP(q.Addr), "data-outcome", q.Outcome,
		"data-qname", q.Name, "data-qtype", q.Type, "data-transport", q.Transport)
	g.w.title(rowTitle(q))
	g.w.line(x+1, y, x+colW-1, y, "row-sep")
	g.w.rect(x+4, y+rowPad, 4, rowHeight(q)-2*rowPad, 2, "q-bar")
	g.w.text(x+14, y+rowPad+11, "server-name", clip(serverLine(q), colW-textW(q.Outcome, smallSize)-50, fontSize))
	pw := textW(q.Outcome, smallSize) + 14
	g.w.rect(x+colW-pw-8, y+rowPad, pw, 16, 8, "q-pill")
	g.w.text(x+colW-pw-1, y+rowPad+12, "small q-word", q.Outcome)
	for i, l := range rowLines(q) {
		cls := "small muted"
		if strings.HasPrefix(l, "asked") {
			cls = "small"
		}
		g.w.text(x+14, y+rowPad+lineH+11+float64(i)*smallLineH, cls, clip(l, colW-24, smallSize))
	}
	g.w.close("g")
}

func addrIP(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.Addr().String()
}

func rowTitle(q *resolver.Step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) for zone %s\n%s %s over %s", q.Server, q.Addr, q.Zone, q.Name, q.Type, q.Transport)
	if q.RTT > 0 {
		fmt.Fprintf(&b, ", RTT %s", fmtMS(q.RTT))
	}
	if q.Rcode != "" {
		fmt.Fprintf(&b, "\nrcode %s, flags %s", q.Rcode, q.Flags)
	}
	fmt.Fprintf(&b, "\noutcome: %s", q.Outcome)
	if q.Why != "" {
		fmt.Fprintf(&b, "\nwhy this server: %s", q.Why)
	}
	if q.Detail != "" {
		fmt.Fprintf(&b, "\n%s", q.Detail)
	}
	if q.Err != "" {
		fmt.Fprintf(&b, "\nerror: %s", q.Err)
	}
	for _, a := range q.Answer {
		fmt.Fprintf(&b, "\n%s", a)
	}
	return b.String()
}

// connector draws the horizontal arrow from a zone box to the glueless
// branch that resolves one of its server names.
func (g *graph) connector(x1, y1, x2, y2 float64, b *resolver.Step) {
	g.w.open("g", "class", "edge edge-glueless", "data-from", b.Zone, "data-to", b.Name)
	g.w.title(b.Detail)
	mid := (x1 + x2) / 2
	g.w.path(pathf("M%s %sH%sV%sH%s", x1, y1, mid, y2, x2-2), "arrow", "marker-end", "url(#arrowhead)")
	g.w.close("g")
}

// branch draws a glueless sub-resolution in a dashed frame.
func (g *graph) branch(b *resolver.Step, x, y float64) (float64, float64) {
	name, qtype := subQuestion(b)
	sub := buildWalk(name, qtype, b.Steps)
	outcome := b.Outcome
	if outcome == "" {
		outcome = "unfinished"
	}
	g.w.open("g", "class", "branch branch-"+className(outcome), "data-name", b.Name, "data-zone", b.Zone)
	// The frame is drawn after measuring its content, so draw the
	// content into a scratch writer first.
	inner := &graph{w: &svgw{}, status: g.status}
	head := "glueless: find the address of " + b.Name
	iw, ih := inner.drawWalk(sub, x+branchPad, y+boxHeadH+8, false, nil)
	foot := b.Detail
	if b.Err != "" {
		foot = "failed: " + b.Err
	}
	w := max(iw+2*branchPad, textW(head, fontSize)+2*branchPad)
	h := boxHeadH + 8 + ih + 10 + smallLineH + branchPad
	g.w.rect(x, y, w, h, 8, "branch-frame")
	g.w.text(x+branchPad, y+17, "branch-title", head)
	g.w.b.WriteString(inner.w.b.String())
	g.w.text(x+branchPad, y+h-branchPad, "small branch-result", clip(foot, w-2*branchPad, smallSize))
	g.w.close("g")
	return w, h
}

// restartArrow draws the CNAME or DNAME hop from one name to the next.
func (g *graph) restartArrow(r *resolver.Step, x, y, colW float64) float64 {
	if r == nil {
		return y
	}
	kind := restartKind(r)
	lines := []string{fmt.Sprintf("%s: %s → %s", kind, r.Name, r.Target)}
	if kind == "DNAME" {
		lines = append(lines, "the DNAME synthesises a CNAME (RFC 6672)")
	}
	lines = append(lines, "restart at "+r.Target)
	return g.arrow(x, y, y, colW, lines, "edge edge-restart edge-"+strings.ToLower(kind), append([]string{r.Detail}, r.Answer...),
		"data-from", r.Name, "data-to", r.Target)
}

// resultBox draws how the resolution ended: the rcode, the security
// status and the answer, or the error.
func (g *graph) resultBox(r *Resolution, x, y, colW float64) (float64, float64) {
	var lines []string
	switch {
	case r.Error != "":
		lines = wrap(r.Error, colW-20, 5)
	case len(r.Answer) > 0:
		for i, a := range r.Answer {
			if i == maxAnswers {
				lines = append(lines, fmt.Sprintf("and %d more records", len(r.Answer)-maxAnswers))
				break
			}
			lines = append(lines, a)
		}
	case len(r.Authority) > 0:
		lines = append(lines, r.Authority[0])
	}
	h := boxHeadH + float64(len(lines))*smallLineH + 10
	cls := "result rcode-" + className(r.Rcode)
	if r.Error != "" {
		cls += " failed"
	}
	g.w.open("g", "class", cls, "data-rcode", r.Rcode, "data-security", r.Security)
	g.w.title(strings.Join(append([]string{r.Rcode, r.Error}, append(r.Answer, r.Authority...)...), "\n"))
	g.w.rect(x, y, colW, h, 6, "result-box")
	head := r.Rcode
	if r.Security != "" {
		head += " · DNSSEC " + r.Security
	}
	switch {
	case len(r.Answer) > 0:
		head += fmt.Sprintf(" · %d answer record(s)", len(r.Answer))
	case r.Error == "" && r.Rcode == "NOERROR":
		head += " · no data"
	}
	g.w.text(x+10, y+17, "result-head", clip(head, colW-20, fontSize))
	for i, l := range lines {
		g.w.text(x+10, y+boxHeadH+10+float64(i)*smallLineH, "small mono", clip(l, colW-20, smallSize))
	}
	g.w.close("g")
	return colW, h
}

// fmtMS prints a duration in milliseconds with a precision that suits it.
func fmtMS(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
