package walkview

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text metrics. Every label is drawn in a monospace face so its width is
// known without a font engine: a glyph is 0.6 em wide in the common
// monospace fonts (DejaVu Sans Mono, Menlo, Consolas), which keeps the
// layout deterministic and the golden files stable.
const (
	fontSize  = 12.0 // px, body text
	smallSize = 10.5 // px, second lines, axis labels
	charW     = 0.6  // em per glyph
)

// textW is the drawn width of s at size px.
func textW(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * size * charW
}

// clip shortens s to at most width px at size, ending in an ellipsis.
func clip(s string, width, size float64) string {
	max := int(width / (size * charW))
	if max < 2 || utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// svgw writes SVG markup. Attributes are given as name, value pairs;
// values and text are escaped.
type svgw struct {
	b strings.Builder
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// px rounds to a tenth of a pixel so output is stable.
func px(f float64) string {
	return num(float64(int64(f*10+0.5*sign(f))) / 10)
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

func (w *svgw) attrs(kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" && kv[i] != "d" {
			continue
		}
		w.b.WriteByte(' ')
		w.b.WriteString(kv[i])
		w.b.WriteString(`="`)
		w.b.WriteString(escape(kv[i+1]))
		w.b.WriteByte('"')
	}
}

func (w *svgw) open(tag string, kv ...string) {
	w.b.WriteByte('<')
	w.b.WriteString(tag)
	w.attrs(kv)
	w.b.WriteString(">\n")
}

func (w *svgw) close(tag string) {
	w.b.WriteString("</")
	w.b.WriteString(tag)
	w.b.WriteString(">\n")
}

func (w *svgw) leaf(tag string, kv ...string) {
	w.b.WriteByte('<')
	w.b.WriteString(tag)
	w.attrs(kv)
	w.b.WriteString("/>\n")
}

// text draws one line of text with its baseline at y.
func (w *svgw) text(x, y float64, class, s string, kv ...string) {
	w.b.WriteString(`<text x="` + px(x) + `" y="` + px(y) + `"`)
	if class != "" {
		w.b.WriteString(` class="` + class + `"`)
	}
	w.attrs(kv)
	w.b.WriteByte('>')
	w.b.WriteString(escape(s))
	w.b.WriteString("</text>\n")
}

// title adds a tooltip (and an accessible name) to the enclosing element.
func (w *svgw) title(s string) {
	if s == "" {
		return
	}
	w.b.WriteString("<title>" + escape(s) + "</title>\n")
}

func (w *svgw) rect(x, y, wd, ht, r float64, class string, kv ...string) {
	w.leaf("rect", append([]string{"x", px(x), "y", px(y), "width", px(wd), "height", px(ht), "rx", px(r), "class", class}, kv...)...)
}

func (w *svgw) line(x1, y1, x2, y2 float64, class string) {
	w.leaf("line", "x1", px(x1), "y1", px(y1), "x2", px(x2), "y2", px(y2), "class", class)
}

// path draws a path; d uses absolute coordinates built with pathf.
func (w *svgw) path(d, class string, kv ...string) {
	w.leaf("path", append([]string{"d", d, "class", class}, kv...)...)
}

func pathf(format string, args ...float64) string {
	s := make([]any, len(args))
	for i, a := range args {
		s[i] = px(a)
	}
	return fmt.Sprintf(format, s...)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// escape makes s safe as XML text or attribute value. Control characters,
// which XML 1.0 forbids even escaped, become U+FFFD: a name from the
// network may hold any octet (miekg/dns presents them as \DDD, but a
// picture must survive any string).
func escape(s string) string {
	clean := utf8.ValidString(s)
	for i := 0; clean && i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			clean = false
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
				return '\uFFFD'
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
	}
	if !strings.ContainsAny(s, `&<>"'`) {
		return s
	}
	return escaper.Replace(s)
}
