package walkview

import (
	"regexp"
	"strings"

	"github.com/addrwalk/addrwalk/resolver"
)

// Chain-of-trust geometry, in px.
const (
	chainZoneW   = 230.0 // the zone column
	chainChipH   = 20.0  // one DS, DNSKEY or RRSIG chip
	chainChipGap = 6.0   // between chips of one column
	chainColGap  = 36.0  // between columns (room for the links)
	chainRowGap  = 22.0  // between zones
)

// chip is one DS, DNSKEY or RRSIG of a zone's link, placed for drawing.
type chip struct {
	kind   string // ds, dnskey, rrsig
	tag    string // key tag (the signing key's for an RRSIG)
	signer string // RRSIG only
	text   string
	title  string
	bad    bool // sent but not trusted, or did not verify
	x, y   float64
	w      float64
}

// sigRE reads the resolver's RRSIG summary: "RRSIG owner TYPE by signer
// key TAG, valid FROM to UNTIL".
var sigRE = regexp.MustCompile(`^RRSIG (\S+) (\S+) by (\S+) key (\d+)(?:, (.*))?$`)

func sigChip(s string, bad bool) *chip {
	c := &chip{kind: "rrsig", text: s, title: s, bad: bad}
	if m := sigRE.FindStringSubmatch(s); m != nil {
		c.tag, c.signer = m[4], m[3]
		c.text = "RRSIG " + m[2] + " by " + m[3] + " key " + m[4]
		if m[2] == "DS" {
			c.kind = "rrsig-ds"
		}
	}
	if bad {
		c.text += " ✗"
	}
	return c
}

func keyChip(kind, s string, bad bool) *chip {
	c := &chip{kind: kind, text: strings.ToUpper(kind) + " " + s, title: s, bad: bad}
	if f := strings.Fields(s); len(f) > 0 {
		c.tag = f[0]
	}
	if bad {
		c.text += " ✗"
	}
	return c
}

// chainRow is one zone's link.
type chainRow struct {
	info *resolver.DNSSECInfo
	cols [3][]*chip // DS (and the RRSIG over it), DNSKEY, RRSIG over the DNSKEY set
	y, h float64
}

// drawChain draws the chain of trust: per zone, the DS that vouches for
// it (or the trust anchor), its DNSKEYs, the signatures over them, and
// the verdict with its reason; links join a DS to the key it matches and
// a key to the signatures it made. Below come the verdicts on the answer's
// RRsets and proofs. It returns the size taken.
func drawChain(w *svgw, zones, rrsets []*resolver.DNSSECInfo, x, y float64) (float64, float64) {
	var rows []*chainRow
	for _, z := range zones {
		r := &chainRow{info: z}
		for _, d := range z.DS {
			r.cols[0] = append(r.cols[0], keyChip("ds", d, z.Status == "Bogus" && len(z.DNSKEY) == 0))
		}
		for _, s := range z.Signatures {
			c := sigChip(s, false)
			if c.kind == "rrsig-ds" {
				r.cols[0] = append(r.cols[0], c)
			} else {
				r.cols[2] = append(r.cols[2], c)
			}
		}
		for _, k := range z.DNSKEY {
			r.cols[1] = append(r.cols[1], keyChip("dnskey", k, false))
		}
		for _, k := range z.RejectedDNSKEY {
			r.cols[1] = append(r.cols[1], keyChip("dnskey", k, true))
		}
		for _, s := range z.RejectedSignatures {
			c := sigChip(s, true)
			if c.kind == "rrsig-ds" {
				r.cols[0] = append(r.cols[0], c)
			} else {
				r.cols[2] = append(r.cols[2], c)
			}
		}
		rows = append(rows, r)
	}
	// Column widths from the widest chip.
	var colW [3]float64
	for i := range colW {
		colW[i] = 150
		for _, r := range rows {
			for _, c := range r.cols[i] {
				colW[i] = max(colW[i], textW(c.text, smallSize)+16)
			}
		}
	}
	colX := [3]float64{x + chainZoneW + chainColGap}
	colX[1] = colX[0] + colW[0] + chainColGap
	colX[2] = colX[1] + colW[1] + chainColGap
	verdictX := colX[2] + colW[2] + chainColGap
	const verdictW = 300.0
	width := verdictX + verdictW - x

	// Headings.
	w.text(x, y+12, "col-head", "zone")
	w.text(colX[0], y+12, "col-head", "DS (from the parent) / anchor")
	w.text(colX[1], y+12, "col-head", "DNSKEY")
	w.text(colX[2], y+12, "col-head", "RRSIG over DNSKEY")
	w.text(verdictX, y+12, "col-head", "verdict")
	cy := y + 24
	keys := map[string]*chip{} // zone|tag → DNSKEY chip, for links
	for _, r := range rows {
		n := 1
		for _, c := range r.cols {
			n = max(n, len(c))
		}
		reason := wrap(r.info.Reason, verdictW-10, 4)
		r.y = cy
		r.h = max(float64(n)*(chainChipH+chainChipGap)-chainChipGap, 40+float64(len(reason))*smallLineH) + 16
		for i, col := range r.cols {
			for j, c := range col {
				c.x, c.y, c.w = colX[i], cy+8+float64(j)*(chainChipH+chainChipGap), colW[i]
				if c.kind == "dnskey" && !c.bad {
					keys[r.info.Zone+"|"+c.tag] = c
				}
			}
		}
		cy += r.h + chainRowGap
	}
	// Row frames, then links, then chips, so links stay visible and
	// run under the chips.
	for _, r := range rows {
		w.rect(x, r.y, width, r.h, 8, "chain-row chain-row-"+className(r.info.Status))
	}
	w.open("g", "class", "chain-links")
	for _, r := range rows {
		for _, c := range r.cols[0] {
			switch c.kind {
			case "ds":
				if k := keys[r.info.Zone+"|"+c.tag]; k != nil {
					link(w, c.x+c.w, c.y+chainChipH/2, k.x, k.y+chainChipH/2, "link link-ds", r.info.Zone, c.tag)
				}
			case "rrsig-ds":
				// The parent's key signed the DS: a link up to it.
				if k := keys[c.signer+"|"+c.tag]; k != nil {
					link(w, k.x+k.w/2, k.y+chainChipH, c.x+c.w/2, c.y, "link link-sig link-up", c.signer, c.tag)
				}
			}
		}
		for _, c := range r.cols[2] {
			if k := keys[c.signer+"|"+c.tag]; k != nil {
				cls := "link link-sig"
				if c.bad {
					cls += " bad"
				}
				link(w, k.x+k.w, k.y+chainChipH/2, c.x, c.y+chainChipH/2, cls, c.signer, c.tag)
			}
		}
	}
	w.close("g")
	for _, r := range rows {
		st := r.info.Status
		w.open("g", "class", "chain-zone sec-"+className(st), "data-zone", r.info.Zone, "data-status", st)
		w.rect(x+8, r.y+8, chainZoneW-16, 40, 6, "sec-chip")
		w.text(x+16, r.y+24, "zone-name", clip(r.info.Zone, chainZoneW-32, fontSize))
		src := "DS in " + r.info.Parent
		switch {
		case r.info.Anchor:
			src = "trust anchor"
		case r.info.Parent == "":
			src = ""
		}
		if r.info.Cached {
			src += " · from the cache"
		}
		w.text(x+16, r.y+40, "small", clip(src, chainZoneW-32, smallSize))
		if len(r.cols[0]) == 0 && len(r.cols[1]) == 0 {
			msg := "no DS: the delegation is unsigned"
			if st != "Insecure" {
				msg = "no keys"
			}
			w.text(colX[0], r.y+24, "small muted", msg)
		}
		for _, col := range r.cols {
			for _, c := range col {
				drawChip(w, c)
			}
		}
		w.text(verdictX, r.y+24, "verdict sec-text", st)
		for i, l := range wrap(r.info.Reason, verdictW-10, 4) {
			w.text(verdictX, r.y+42+float64(i)*smallLineH, "small reason", l)
		}
		w.close("g")
	}
	// The verdicts on the data.
	if len(rrsets) > 0 {
		w.text(x, cy+8, "col-head", "answer data")
		cy += 18
		for _, d := range rrsets {
			st := d.Status
			w.open("g", "class", "chain-rrset sec-"+className(st), "data-rrset", d.RRset, "data-status", st, "data-zone", d.Zone)
			w.title(strings.Join(append([]string{d.RRset + ": " + st, d.Reason}, d.Signatures...), "\n"))
			tw := textW(st, smallSize) + 14
			w.rect(x, cy, tw, 16, 8, "sec-chip")
			w.text(x+7, cy+12, "small sec-text", st)
			label := d.RRset
			if d.Zone != "" {
				label += "  (zone " + d.Zone + ")"
			}
			if d.Reason != "" {
				label += " — " + d.Reason
			}
			w.text(x+tw+10, cy+12, "small", clip(label, width-tw-10, smallSize))
			w.close("g")
			cy += 22
		}
	}
	return width, cy - y
}

func drawChip(w *svgw, c *chip) {
	cls := "chip chip-" + c.kind
	if c.bad {
		cls += " bad"
	}
	w.open("g", "class", cls, "data-tag", c.tag)
	w.title(c.title)
	w.rect(c.x, c.y, c.w, chainChipH, 4, "chip-box")
	w.text(c.x+8, c.y+14, "small", c.text)
	w.close("g")
}

func link(w *svgw, x1, y1, x2, y2 float64, cls, zone, tag string) {
	mx := (x1 + x2) / 2
	d := pathf("M%s %sC%s %s %s %s %s %s", x1, y1, mx, y1, mx, y2, x2, y2)
	if strings.Contains(cls, "link-up") {
		my := (y1 + y2) / 2
		d = pathf("M%s %sC%s %s %s %s %s %s", x1, y1, x1, my, x2, my, x2, y2)
	}
	w.path(d, cls, "data-zone", zone, "data-tag", tag)
}

// wrap breaks s into lines of small text that fit width, at most n lines.
func wrap(s string, width float64, n int) []string {
	const size = smallSize
	if s == "" {
		return nil
	}
	maxc := int(width / (size * charW))
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = word
		case len([]rune(cur))+1+len([]rune(word)) <= maxc:
			cur += " " + word
		default:
			lines = append(lines, cur)
			cur = word
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > n {
		lines = append(lines[:n-1], clip(strings.Join(lines[n-1:], " "), width, size))
	}
	for i, l := range lines {
		lines[i] = clip(l, width, size)
	}
	return lines
}
