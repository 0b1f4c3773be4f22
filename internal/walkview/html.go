package walkview

import (
	_ "embed"
	"fmt"
	"io"
	"strings"
)

var (
	//go:embed assets/page.css
	pageCSS string
	//go:embed assets/page.js
	pageJS string
)

// HTML writes one self-contained page with the picture of each
// resolution: inline SVG, style and a small script (click a part of a
// drawing to read its details), and no reference to anything outside the
// file, so it opens offline.
func HTML(out io.Writer, title string, rs []*Resolution) error {
	parts := make([]Part, len(rs))
	for i, r := range rs {
		parts[i] = Part{Label: r.Name + " " + r.Type, SVG: Render(r)}
	}
	return HTMLParts(out, title, parts)
}

// Part is one picture of a page: a label for the page's menu and the SVG.
type Part struct {
	Label string
	SVG   string
}

// HTMLParts writes one self-contained page of pictures (see HTML).
func HTMLParts(out io.Writer, title string, rs []Part) error {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">` + "\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n", escape(title), pageCSS)
	fmt.Fprintf(&b, "<header><h1>%s</h1>", escape(title))
	if len(rs) > 1 {
		b.WriteString(`<label>jump to <select id="toc">`)
		for i, r := range rs {
			fmt.Fprintf(&b, `<option value="walk-%d">%s</option>`, i+1, escape(r.Label))
		}
		b.WriteString("</select></label>")
	}
	b.WriteString(`<span class="hint">click any box, row or bar for its details</span></header>` + "\n<main>\n")
	for i, r := range rs {
		fmt.Fprintf(&b, "<section class=\"walk\" id=\"walk-%d\">\n%s</section>\n", i+1, r.SVG)
	}
	b.WriteString("</main>\n<pre id=\"details\" hidden></pre>\n<script>\n" + pageJS + "</script>\n</body>\n</html>\n")
	_, err := io.WriteString(out, b.String())
	return err
}
