package walkview

import "strings"

// PathStage is one step of `addrwalk path`: its name, what it gave, and
// how it went (done, skipped, failed).
type PathStage struct {
	Step   string
	Result string
	Detail string
	State  string
}

// Path strip geometry, in px.
const (
	stageMinW = 150.0
	stageMaxW = 300.0
	stageH    = 64.0
	stageGap  = 40.0
)

// RenderPath draws name → IP → next hop → MAC as one strip of stages.
func RenderPath(name string, stages []PathStage) string {
	b := &svgw{}
	w, h := drawPath(b, name, stages, margin, margin)
	return wrapSVG(b, w+2*margin, h+2*margin, "path of "+name, pathSummary(stages))
}

func pathSummary(stages []PathStage) string {
	var parts []string
	for _, s := range stages {
		if s.State == "done" && s.Result != "" {
			parts = append(parts, s.Result)
		}
	}
	return strings.Join(parts, " → ")
}

// drawPath draws the strip at x, y and returns its size.
func drawPath(b *svgw, name string, stages []PathStage, x, y float64) (float64, float64) {
	b.open("g", "class", "header path-header", "data-name", name)
	b.text(x, y+16, "title", "The path of "+name)
	b.text(x, y+36, "subtitle", clip(pathSummary(stages), 1400, fontSize))
	b.close("g")
	y += 56
	cx := x
	for i, s := range stages {
		w := stageMinW
		for _, t := range []string{s.Step, s.Result} {
			w = max(w, textW(t, fontSize)+24)
		}
		w = min(w, stageMaxW)
		if i > 0 {
			b.open("g", "class", "edge edge-path")
			b.path(pathf("M%s %sH%s", cx-stageGap+4, y+stageH/2, cx-3), "arrow", "marker-end", "url(#arrowhead)")
			b.close("g")
		}
		state := s.State
		if state == "" {
			state = "done"
		}
		b.open("g", "class", "stage stage-"+className(state), "data-step", s.Step, "data-state", state)
		b.title(s.Step + ": " + s.Result + "\n" + s.Detail)
		b.rect(cx, y, w, stageH, 8, "stage-box")
		b.text(cx+12, y+18, "stage-head", clip(s.Step, w-24, smallSize))
		b.text(cx+12, y+36, "zone-name", clip(s.Result, w-24, fontSize))
		b.text(cx+12, y+52, "small muted", clip(s.Detail, w-24, smallSize))
		b.close("g")
		cx += w + stageGap
	}
	return max(cx-stageGap-x, textW("The path of "+name, 18)), 56 + stageH
}
