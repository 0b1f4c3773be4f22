package walkview

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
)

// Waterfall geometry, in px.
const (
	wfRowH    = 19.0  // one row
	wfLabelW  = 430.0 // the label column
	wfAxisW   = 560.0 // the time axis
	wfIndent  = 14.0  // per nesting level of sub-resolutions
	wfMinBarW = 2.0   // a bar is at least this wide, so a fast query still shows
	wfMaxRows = 400   // rows drawn; a resolution's query budget keeps real ones far below
)

// wfRow is one line of the waterfall.
type wfRow struct {
	step       *resolver.Step
	level      int
	start, end time.Duration
}

// flatten lists steps in order with their nesting level; a sub-resolution
// spans from its start to its last nested event.
func flatten(steps []*resolver.Step, level int, out []wfRow) []wfRow {
	for _, s := range steps {
		if len(out) >= wfMaxRows {
			return out
		}
		switch s.Kind {
		case resolver.EventQuery:
			out = append(out, wfRow{step: s, level: level, start: max(0, s.At-s.RTT), end: s.At})
		case resolver.EventSubBegin:
			i := len(out)
			out = append(out, wfRow{step: s, level: level, start: s.At, end: s.At})
			out = flatten(s.Steps, level+1, out)
			for _, r := range out[i:] {
				out[i].end = max(out[i].end, r.end)
			}
		case resolver.EventDone:
			// The end of the axis says it.
		default:
			out = append(out, wfRow{step: s, level: level, start: s.At, end: s.At})
		}
	}
	return out
}

func wfLabel(s *resolver.Step) string {
	switch s.Kind {
	case resolver.EventQuery:
		return fmt.Sprintf("[%s] %s %s → %s", s.Zone, s.Name, s.Type, s.Server)
	case resolver.EventSubBegin:
		return "glueless: address of " + s.Name
	case resolver.EventCache:
		if s.Outcome == "cut" {
			return "cache: zone cut " + s.Zone
		}
		if strings.HasPrefix(s.Detail, s.Outcome) {
			return "cache " + s.Detail
		}
		return "cache " + s.Outcome + ": " + s.Detail
	case resolver.EventRestart:
		return restartKind(s) + " → " + s.Target
	case resolver.EventValidate:
		if s.DNSSEC != nil && s.DNSSEC.RRset != "" {
			return "DNSSEC " + s.DNSSEC.RRset + ": " + s.DNSSEC.Status
		}
		if s.DNSSEC != nil {
			return "DNSSEC keys of " + s.DNSSEC.Zone + ": " + s.DNSSEC.Status
		}
	case resolver.EventFail:
		return "no answer: " + s.Err
	}
	return s.Kind.String() + " " + s.Detail
}

func wfClass(s *resolver.Step) string {
	switch s.Kind {
	case resolver.EventQuery:
		return "bar q-" + className(s.Outcome)
	case resolver.EventSubBegin:
		return "span span-sub branch-" + className(s.Outcome)
	case resolver.EventCache:
		return "mark-ev cache cache-" + className(s.Outcome)
	case resolver.EventValidate:
		if s.DNSSEC != nil {
			return "mark-ev validate sec-" + className(s.DNSSEC.Status)
		}
	case resolver.EventRestart:
		return "mark-ev restart"
	case resolver.EventFail:
		return "mark-ev fail"
	}
	return "mark-ev"
}

// niceStep picks a tick interval of 1, 2 or 5 × 10^k ms giving about
// five ticks over total.
func niceStep(total time.Duration) time.Duration {
	ms := float64(total) / float64(time.Millisecond) / 5
	if ms <= 0 {
		return time.Millisecond
	}
	p := math.Pow(10, math.Floor(math.Log10(ms)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= ms {
			return time.Duration(m * p * float64(time.Millisecond))
		}
	}
	return time.Duration(10 * p * float64(time.Millisecond))
}

// drawWaterfall draws every step on a time axis, queries as bars from
// send to reply, nested under the sub-resolution that caused them, and
// returns the size taken.
func drawWaterfall(w *svgw, steps []*resolver.Step, total time.Duration, x, y float64) (float64, float64) {
	rows := flatten(steps, 0, nil)
	for _, r := range rows {
		total = max(total, r.end)
	}
	if total <= 0 {
		total = time.Millisecond
	}
	ax := x + wfLabelW
	scale := wfAxisW / float64(total)
	step := niceStep(total)
	height := 24 + float64(len(rows))*wfRowH + 6
	w.open("g", "class", "axis")
	w.text(ax, y+10, "small muted", "time since the question arrived")
	for t := time.Duration(0); t <= total; t += step {
		tx := ax + float64(t)*scale
		w.line(tx, y+16, tx, y+height, "tick")
		w.text(tx+2, y+24, "small muted vol", fmtMS(t))
	}
	w.close("g")
	for i, r := range rows {
		ry := y + 28 + float64(i)*wfRowH
		s := r.step
		w.open("g", "class", "wf-row "+wfClass(s), "data-kind", s.Kind.String(), "data-level", itoa(r.level))
		w.title(wfLabel(s) + "\n" + s.Detail)
		if i%2 == 0 {
			w.rect(x, ry-2, wfLabelW+wfAxisW, wfRowH, 0, "zebra")
		}
		lx := x + 4 + float64(r.level)*wfIndent
		w.text(lx, ry+11, "small", clip(wfLabel(s), wfLabelW-(lx-x)-8, smallSize))
		bx := ax + float64(r.start)*scale
		bw := max(wfMinBarW, float64(r.end-r.start)*scale)
		switch s.Kind {
		case resolver.EventQuery:
			w.rect(bx, ry+2, bw, wfRowH-6, 2, "bar-box")
			note := fmtMS(s.RTT) + " " + s.Outcome
			if s.Transport == "tcp" {
				note += " (tcp)"
			}
			nx := bx + bw + 4
			if nx+textW(note, smallSize) > ax+wfAxisW+120 {
				nx = bx - textW(note, smallSize) - 4
			}
			w.text(nx, ry+11, "small vol bar-note", note)
		case resolver.EventSubBegin:
			w.path(pathf("M%s %sv6H%sv-6", bx, ry+3, bx+bw), "span-line")
		default:
			w.path(pathf("M%s %sl4 4l-4 4l-4 -4z", bx, ry+3), "mark")
		}
		w.close("g")
	}
	return wfLabelW + wfAxisW + 120, height + 4
}

func itoa(n int) string { return fmt.Sprint(n) }
