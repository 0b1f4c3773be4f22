package walkview

import (
	"fmt"
	"strings"
	"time"

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

// RenderARP draws an ARP trace (arptrace.Trace, the data `arp --json`
// prints) as a sequence diagram between this host, the broadcast domain
// and the target: the route, the neighbour cache before, every request
// (broadcast through the domain, or unicast), every reply with its RTT,
// the cache after, and the summary.
func RenderARP(tr *arptrace.Trace) string {
	body := &svgw{}
	x, y := margin, margin
	title := "ARP for " + tr.Probed.String()
	if tr.Host != "" {
		title = "ARP for " + tr.Host + " (" + tr.Probed.String() + ")"
	}
	w := drawARP(body, tr, x, y+0, title)
	return wrapSVG(body, w.w, w.h, title, arpSub(tr))
}

func arpSub(tr *arptrace.Trace) string {
	s := tr.Summary
	sub := fmt.Sprintf("%s · %d sent, %d received", tr.Mode, s.Sent, s.Received)
	if s.Received > 0 {
		sub += fmt.Sprintf(" · RTT min/avg/max %s/%s/%s", fmtMS(time.Duration(s.MinRTT)), fmtMS(time.Duration(s.AvgRTT)), fmtMS(time.Duration(s.MaxRTT)))
	}
	return sub
}

type size struct{ w, h float64 }

// drawARP draws the diagram at x, y and returns its size.
func drawARP(b *svgw, tr *arptrace.Trace, x, y float64, title string) size {
	b.open("g", "class", "header arp-header", "data-target", tr.Target.String(), "data-probed", tr.Probed.String())
	b.text(x, y+16, "title", title)
	b.text(x, y+36, "subtitle vol", arpSub(tr))
	b.close("g")
	y += 56
	lanes := [3]float64{x + seqTimeW + seqHeadW/2, x + seqTimeW + seqHeadW/2 + seqLaneW, x + seqTimeW + seqHeadW/2 + 2*seqLaneW}
	target := "?"
	if len(tr.Summary.MACs) > 0 {
		target = tr.Summary.MACs[0].String()
	}
	heads := [3][3]string{
		{"this host", tr.Interface.Name + " " + tr.Interface.MAC.String(), "IP " + tr.Source.String()},
		{"broadcast domain", "every station on " + tr.Interface.Name, "the switch floods broadcasts"},
		{"target " + tr.Probed.String(), "MAC " + target, targetRole(tr)},
	}
	classes := [3]string{"lane-host", "lane-link", "lane-target"}
	for i, h := range heads {
		b.open("g", "class", "lifeline "+classes[i], "data-lane", classes[i])
		b.rect(lanes[i]-seqHeadW/2, y, seqHeadW, seqHeadH, 8, "head-box")
		b.text(lanes[i]-seqHeadW/2+10, y+18, "zone-name", clip(h[0], seqHeadW-20, fontSize))
		b.text(lanes[i]-seqHeadW/2+10, y+34, "small", clip(h[1], seqHeadW-20, smallSize))
		b.text(lanes[i]-seqHeadW/2+10, y+48, "small muted", clip(h[2], seqHeadW-20, smallSize))
		b.close("g")
	}
	top := y + seqHeadH
	cy := top + 16
	// Notes sit on this host's lifeline: all it learns, it learns there.
	note := func(cls, text string, title string) {
		b.open("g", "class", "seq-note "+cls)
		b.title(title)
		tw := min(textW(text, smallSize)+16, 2*seqLaneW+seqHeadW-20)
		nx := lanes[0] - 20
		b.rect(nx, cy, tw, 22, 4, "note-box")
		b.text(nx+8, cy+15, "small", clip(text, tw-16, smallSize))
		b.close("g")
		cy += seqStepH
	}
	msg := func(from, to int, cls, at, text, title string, dashed bool) {
		b.open("g", "class", "seq-msg "+cls)
		b.title(title)
		if at != "" {
			b.text(x, cy+18, "small muted vol", at)
		}
		x1, x2 := lanes[from], lanes[to]
		dir := 1.0
		if x2 < x1 {
			dir = -1
		}
		lc := "arrow"
		if dashed {
			lc += " dashed"
		}
		b.path(pathf("M%s %sH%s", x1, cy+20, x2-dir*3), lc, "marker-end", "url(#arrowhead)")
		lx := min(x1, x2) + 10
		b.text(lx, cy+14, "small seq-label", clip(text, abs(x2-x1)-20, smallSize))
		b.close("g")
		cy += seqStepH
	}

	// Route.
	switch {
	case tr.Route != nil:
		r := tr.Route
		text := fmt.Sprintf("route: %v on-link on %s, source %v", r.Destination, r.Interface, r.Source)
		if !r.OnLink {
			text = fmt.Sprintf("route: %v via gateway %v on %s", r.Destination, r.Gateway, r.Interface)
		}
		note("seq-route", text, strings.Join(tr.Notes, "\n"))
	case tr.RouteError != "":
		note("seq-route seq-error", "route: "+tr.RouteError, tr.RouteError)
	}
	for _, n := range tr.Notes {
		note("seq-info", n, n)
	}
	// Cache before.
	if tr.Before != nil {
		note("seq-cache cache-"+cacheWord(tr.Before), "neighbour cache before: "+describeCache(tr.Before), "")
	}
	// Probes and replies.
	rows := 0
	for _, p := range tr.Probes {
		if rows >= seqMaxRow {
			note("seq-info", fmt.Sprintf("and %d more probes", len(tr.Probes)-seqMaxRow), "")
			break
		}
		rows++
		f := p.Sent
		at := "+" + fmtMS(time.Duration(p.Offset))
		label := fmt.Sprintf("#%d %s %v? tell %v", p.Seq, f.Kind, f.TargetIP, f.SenderIP)
		title := fmt.Sprintf("sent %s from %v to %v\nsender %v %v, target %v %v", f.Kind, f.EthSrc, f.EthDst, f.SenderMAC, f.SenderIP, f.TargetMAC, f.TargetIP)
		if p.Unicast {
			msg(0, 2, "arp-request unicast", at, label+" (unicast to "+f.EthDst.String()+")", title, false)
		} else {
			msg(0, 1, "arp-request broadcast", at, label, title, false)
			msg(1, 2, "arp-flood", "", "to ff:ff:ff:ff:ff:ff: flooded to every port", "the broadcast reaches every station of the link", true)
		}
		for _, r := range p.Replies {
			rows++
			rf := r.Frame
			cls := "arp-reply"
			text := fmt.Sprintf("%v %s %v  RTT %s", rf.SenderIP, rf.Kind, rf.SenderMAC, fmtMS(time.Duration(r.RTT)))
			if r.Conflict {
				cls += " conflict"
				text += "  CONFLICT: another MAC"
			}
			if !r.Unicast {
				text += " (broadcast)"
			}
			msg(2, 0, cls, "+"+fmtMS(time.Duration(r.Offset)), text,
				fmt.Sprintf("%s from %v to %v\nsender %v %v", rf.Kind, rf.EthSrc, rf.EthDst, rf.SenderMAC, rf.SenderIP), false)
		}
		if len(p.Replies) == 0 {
			note("arp-noreply", fmt.Sprintf("#%d: no reply", p.Seq), "")
		}
	}
	// Cache after.
	if tr.After != nil {
		note("seq-cache cache-"+cacheWord(tr.After), "neighbour cache after: "+describeCache(tr.After), tr.AfterNote)
		for _, l := range wrap(tr.AfterNote, 2*seqLaneW+seqHeadW/2, 3) {
			note("seq-info", l, tr.AfterNote)
		}
	}
	// Lifelines under everything, drawn last but dashed and light.
	for _, lx := range lanes {
		b.line(lx, top, lx, cy, "lifeline-line")
	}
	width := lanes[2] + seqHeadW/2 - x
	return size{width + 2*margin, cy + margin}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func targetRole(tr *arptrace.Trace) string {
	if tr.ViaGateway {
		return "the gateway towards " + tr.Target.String()
	}
	return "on this link"
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
