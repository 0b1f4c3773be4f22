package walkview

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/addrwalk/addrwalk/resolver"
)

//go:embed assets/walk.css
var walkCSS string

// Page geometry, in px.
const (
	margin     = 20.0
	sectionGap = 34.0
)

// SVG writes the picture of r: a header with the question and outcome,
// the delegation graph, the chain of trust (when validation ran), the
// waterfall timeline and a legend. It is standalone SVG with its style
// inlined, so a browser or an image viewer shows it as it is.
func SVG(out io.Writer, r *Resolution) error {
	_, err := io.WriteString(out, Render(r))
	return err
}

// Render returns the SVG of r as a string.
func Render(r *Resolution) string {
	body := &svgw{}
	x, y := margin, margin
	width := 0.0

	// Header.
	title := r.Name + " " + r.Type
	body.open("g", "class", "header", "data-name", r.Name, "data-type", r.Type, "data-rcode", r.Rcode, "data-security", r.Security)
	body.text(x, y+16, "title", title)
	sub := []string{r.Rcode}
	if r.Security != "" {
		sub = append(sub, "DNSSEC "+r.Security)
	}
	sub = append(sub, fmt.Sprintf("%d upstream queries", r.Upstream))
	if r.Duration > 0 {
		sub = append(sub, fmtMS(r.Duration))
	}
	if r.Client != "" {
		sub = append(sub, "asked by "+r.Client)
	}
	if !r.When.IsZero() {
		sub = append(sub, r.When.UTC().Format("2006-01-02 15:04:05Z"))
	}
	body.text(x, y+36, "subtitle vol", strings.Join(sub, " · "))
	body.close("g")
	width = max(width, textW(title, 18)+2*margin)
	y += 56

	var steps = traceSteps(r)
	zones, rrsets := chainLinks(steps)

	// Delegation graph.
	y = section(body, "The walk: zones, servers asked, and what each said", x, y)
	g := &graph{w: body, status: zoneStatus(zones)}
	body.open("g", "class", "walk")
	gw, gh := g.drawWalk(buildWalk(r.Name, r.Type, steps), x, y, true, r)
	body.close("g")
	width = max(width, gw)
	y += gh + sectionGap

	// Chain of trust.
	if len(zones)+len(rrsets) > 0 {
		y = section(body, "Chain of trust (DNSSEC): DS → DNSKEY → RRSIG per zone", x, y)
		body.open("g", "class", "chain")
		cw, ch := drawChain(body, zones, rrsets, x, y)
		body.close("g")
		width = max(width, cw)
		y += ch + sectionGap
	}

	// Waterfall.
	if len(steps) > 0 {
		y = section(body, "Timeline: every upstream query from send to reply", x, y)
		body.open("g", "class", "waterfall")
		ww, wh := drawWaterfall(body, steps, r.Duration, x, y)
		body.close("g")
		width = max(width, ww)
		y += wh + sectionGap
	}

	// Legend.
	lw, lh := drawLegend(body, x, y)
	width = max(width, lw)
	y += lh

	return wrapSVG(body, width+2*margin, y+margin, "How addrwalk resolved "+title, strings.Join(sub, ", "))
}

func traceSteps(r *Resolution) []*resolver.Step {
	if r.Trace == nil {
		return nil
	}
	return r.Trace.Steps
}

// defs holds the style, the arrowhead and the hatch of timed-out bars.
func defs() string {
	return "<defs>\n<style>\n" + walkCSS + "</style>\n" +
		`<marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"/></marker>` + "\n" +
		`<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffebe9"/><rect width="3" height="6" fill="#cf222e"/></pattern>` + "\n" +
		"</defs>\n"
}

// section draws a section heading and returns the y below it.
func section(w *svgw, title string, x, y float64) float64 {
	w.text(x, y+14, "section", title)
	w.line(x, y+22, x+textW(title, 14)+40, y+22, "section-rule")
	return y + 34
}

// legend entries: the class that colours them and the words they carry.
var (
	legendOutcomes = [][2]string{
		{"answer", "answer"}, {"referral", "referral"}, {"cname", "CNAME/DNAME"}, {"nxdomain", "NXDOMAIN"},
		{"nodata", "NODATA"}, {"lame", "lame"}, {"truncated", "truncated (TC)"}, {"timeout", "timeout"}, {"servfail", "error rcode"},
	}
	legendSecurity = []string{"Secure", "Insecure", "Bogus", "Indeterminate"}
)

// drawLegend explains colours and marks; every colour also comes with a
// word in the picture itself, so colour is never the only carrier.
func drawLegend(w *svgw, x, y float64) (float64, float64) {
	w.open("g", "class", "legend")
	w.text(x, y+14, "section", "Legend")
	y += 26
	w.text(x, y+12, "col-head", "query outcome")
	cx := x + 130
	for _, o := range legendOutcomes {
		w.open("g", "class", "legend-item q-"+o[0])
		pw := textW(o[1], smallSize) + 14
		w.rect(cx, y, pw, 16, 8, "q-pill")
		w.text(cx+7, y+12, "small q-word", o[1])
		w.close("g")
		cx += pw + 8
	}
	width := cx - x
	y += 24
	w.text(x, y+12, "col-head", "DNSSEC status")
	cx = x + 130
	for _, s := range legendSecurity {
		w.open("g", "class", "legend-item sec-"+className(s))
		pw := textW(s, smallSize) + 14
		w.rect(cx, y, pw, 16, 8, "sec-chip")
		w.text(cx+7, y+12, "small sec-text", s)
		w.close("g")
		cx += pw + 8
	}
	width = max(width, cx-x)
	y += 24
	w.text(x, y+12, "col-head", "marks")
	cx = x + 130
	w.open("g", "class", "legend-item cache cache-hit")
	w.path(pathf("M%s %sl5 5l-5 5l-5 -5z", cx+5, y+3), "mark")
	w.text(cx+16, y+12, "small", "cache lookup (blue: hit)")
	w.close("g")
	cx += 200
	w.open("g", "class", "legend-item edge-glueless")
	w.rect(cx, y+1, 26, 14, 3, "branch-frame")
	w.text(cx+34, y+12, "small", "glueless sub-resolution")
	w.close("g")
	cx += 210
	w.open("g", "class", "legend-item edge-restart")
	w.path(pathf("M%s %sH%s", cx, y+8, cx+26), "arrow", "marker-end", "url(#arrowhead)")
	w.text(cx+34, y+12, "small", "CNAME/DNAME restart")
	w.close("g")
	cx += 190
	w.open("g", "class", "legend-item q-timeout")
	w.rect(cx, y+2, 26, 12, 2, "bar-box")
	w.text(cx+34, y+12, "small", "timed-out query")
	w.close("g")
	cx += 170
	width = max(width, cx-x)
	w.close("g")
	return width, 26 + 3*24
}
