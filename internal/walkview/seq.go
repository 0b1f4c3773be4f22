package walkview

import (
	"fmt"
	"strings"

	"github.com/addrwalk/addrwalk/arptrace"
)

// Sequence diagram geometry, in px.
const (
	seqTimeW  = 110.0 // the time column
	seqLaneW  = 360.0 // between lifelines
	seqHeadH  = 58.0  // a lifeline's head box
	seqStepH  = 40.0  // one message or note
	seqHeadW  = 250.0 // a head box
	seqMaxRow = 200   // messages drawn; a trace's probes are bounded by its count, this bounds the picture
)

// Lanes of a link-layer sequence diagram (ARP and ND draw the same three).
const (
	laneHost   = 0 // this host
	laneLink   = 1 // the broadcast domain or multicast group
	laneTarget = 2 // the neighbour asked about
)

type size struct{ w, h float64 }

// seqHead is a lifeline's head box: a name and two lines under it.
type seqHead struct{ name, line1, line2 string }

// seqDiagram draws a three-lane sequence diagram row by row: notes on
// this host's lifeline, messages between lanes, lifelines at the end.
type seqDiagram struct {
	b     *svgw
	x     float64
	lanes [3]float64
	top   float64 // under the head boxes
	cy    float64 // the next row
}

// newSeq draws the header (title and subtitle, in a group of class
// headerClass with attributes kv) and the three head boxes at x, y.
func newSeq(b *svgw, x, y float64, headerClass, title, sub string, heads [3]seqHead, kv ...string) *seqDiagram {
	b.open("g", append([]string{"class", "header " + headerClass}, kv...)...)
	b.text(x, y+16, "title", title)
	b.text(x, y+36, "subtitle vol", sub)
	b.close("g")
	y += 56
	l0 := x + seqTimeW + seqHeadW/2
	s := &seqDiagram{b: b, x: x, lanes: [3]float64{l0, l0 + seqLaneW, l0 + 2*seqLaneW}}
	classes := [3]string{"lane-host", "lane-link", "lane-target"}
	for i, h := range heads {
		b.open("g", "class", "lifeline "+classes[i], "data-lane", classes[i])
		b.rect(s.lanes[i]-seqHeadW/2, y, seqHeadW, seqHeadH, 8, "head-box")
		b.text(s.lanes[i]-seqHeadW/2+10, y+18, "zone-name", clip(h.name, seqHeadW-20, fontSize))
		b.text(s.lanes[i]-seqHeadW/2+10, y+34, "small", clip(h.line1, seqHeadW-20, smallSize))
		b.text(s.lanes[i]-seqHeadW/2+10, y+48, "small muted", clip(h.line2, seqHeadW-20, smallSize))
		b.close("g")
	}
	s.top = y + seqHeadH
	s.cy = s.top + 16
	return s
}

// note writes text in a box on this host's lifeline: all it learns, it
// learns there.
func (s *seqDiagram) note(cls, text, title string) {
	b := s.b
	b.open("g", "class", "seq-note "+cls)
	b.title(title)
	const maxW = 2*seqLaneW + seqHeadW - 20 // up to the target's head box
	if textW(text, smallSize)+16 > maxW {
		text = clip(text, maxW-16, smallSize)
	}
	tw := min(textW(text, smallSize)+16, maxW)
	nx := s.lanes[laneHost] - 20
	b.rect(nx, s.cy, tw, 22, 4, "note-box")
	b.text(nx+8, s.cy+15, "small", text)
	b.close("g")
	s.cy += seqStepH
}

// msg draws an arrow from lane to lane, labelled, with its time at the
// left (at may be empty).
func (s *seqDiagram) msg(from, to int, cls, at, text, title string, dashed bool) {
	b := s.b
	b.open("g", "class", "seq-msg "+cls)
	b.title(title)
	if at != "" {
		b.text(s.x, s.cy+18, "small muted vol", at)
	}
	x1, x2 := s.lanes[from], s.lanes[to]
	dir := 1.0
	if x2 < x1 {
		dir = -1
	}
	lc := "arrow"
	if dashed {
		lc += " dashed"
	}
	b.path(pathf("M%s %sH%s", x1, s.cy+20, x2-dir*3), lc, "marker-end", "url(#arrowhead)")
	lx := min(x1, x2) + 10
	b.text(lx, s.cy+14, "small seq-label", clip(text, abs(x2-x1)-20, smallSize))
	b.close("g")
	s.cy += seqStepH
}

// route notes the route (or why there is none) and the trace's notes.
func (s *seqDiagram) route(r *arptrace.RouteInfo, routeErr string, notes []string) {
	switch {
	case r != nil:
		text := fmt.Sprintf("route: %v on-link on %s, source %v", r.Destination, r.Interface, r.Source)
		if !r.OnLink {
			text = fmt.Sprintf("route: %v via gateway %v on %s", r.Destination, r.Gateway, r.Interface)
		}
		s.note("seq-route", text, strings.Join(notes, "\n"))
	case routeErr != "":
		s.note("seq-route seq-error", "route: "+routeErr, routeErr)
	}
	for _, n := range notes {
		s.note("seq-info", n, n)
	}
}

// cache notes a neighbour cache lookup ("before" or "after"); nil: skipped.
func (s *seqDiagram) cache(when string, c *arptrace.CacheLookup, title string) {
	if c != nil {
		s.note("seq-cache cache-"+cacheWord(c), "neighbour cache "+when+": "+describeCache(c), title)
	}
}

// finish draws the lifelines under everything and returns the size.
func (s *seqDiagram) finish() size {
	for _, lx := range s.lanes {
		s.b.line(lx, s.top, lx, s.cy, "lifeline-line")
	}
	width := s.lanes[laneTarget] + seqHeadW/2 - s.x
	return size{width + 2*margin, s.cy + margin}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func cacheWord(c *arptrace.CacheLookup) string {
	if c.Found && c.Entry != nil {
		return className(c.Entry.State)
	}
	return "none"
}

func describeCache(c *arptrace.CacheLookup) string {
	switch {
	case c.Error != "":
		return "error: " + c.Error
	case !c.Found || c.Entry == nil:
		return "no entry"
	case c.Entry.HasMAC:
		return c.Entry.State + " " + c.Entry.MAC.String()
	}
	return c.Entry.State
}

// wrapSVG puts body in an SVG document with the style and a title.
func wrapSVG(body *svgw, width, height float64, title, sub string) string {
	var doc strings.Builder
	fmt.Fprintf(&doc, `<svg xmlns="http://www.w3.org/2000/svg" class="walkview" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="walk-title">`+"\n",
		px(width), px(height), px(width), px(height))
	fmt.Fprintf(&doc, "<title id=\"walk-title\">%s</title>\n", escape(title+": "+sub))
	doc.WriteString(defs())
	doc.WriteString(`<rect class="page" x="0" y="0" width="100%" height="100%" fill="#fff"/>` + "\n")
	doc.WriteString(body.b.String())
	doc.WriteString("</svg>\n")
	return doc.String()
}
