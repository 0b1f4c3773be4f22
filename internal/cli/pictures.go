package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/walkview"
	"github.com/addrwalk/addrwalk/ndptrace"
	"github.com/addrwalk/addrwalk/resolver"
)

// PictureFlags ask for the walk as a picture (see internal/walkview).
type PictureFlags struct {
	SVG  string `name:"svg" placeholder:"FILE" type:"path" help:"Draw the walk (delegation graph, chain of trust, timeline) as SVG into FILE; with several names, FILE gets -1, -2 … before its extension."`
	HTML string `name:"html" placeholder:"FILE" type:"path" help:"Write the walk's picture as one self-contained HTML page (no network fetches) into FILE."`
}

// pictures collects the resolutions to draw.
type pictures struct {
	flags PictureFlags
	rs    []*walkview.Resolution
}

func newPictures(f PictureFlags) *pictures {
	if f.SVG == "" && f.HTML == "" {
		return nil
	}
	return &pictures{flags: f}
}

// add keeps one resolution; a nil receiver keeps nothing.
func (p *pictures) add(name string, qtype uint16, res *resolver.Result, err error) {
	if p == nil {
		return
	}
	r := walkview.FromResult(name, qtype, res, err)
	p.rs = append(p.rs, &r)
}

// write draws what was collected into the files asked for.
func (p *pictures) write(title string) error {
	if p == nil || len(p.rs) == 0 {
		return nil
	}
	parts := make([]walkview.Part, len(p.rs))
	for i, r := range p.rs {
		parts[i] = walkview.Part{Label: r.Name + " " + r.Type, SVG: walkview.Render(r)}
	}
	return p.flags.writeParts(title, parts)
}

// writeParts writes the pictures: all on one HTML page, and each in its
// own SVG file (FILE, or FILE-1, FILE-2 … when there are several).
func (f PictureFlags) writeParts(title string, parts []walkview.Part) error {
	if f.HTML != "" {
		var b bytes.Buffer
		if err := walkview.HTMLParts(&b, title, parts); err != nil {
			return err
		}
		if err := os.WriteFile(f.HTML, b.Bytes(), 0o644); err != nil {
			return fileerr.Write("--html", f.HTML, err)
		}
	}
	if f.SVG != "" {
		for i, p := range parts {
			path := f.SVG
			if len(parts) > 1 {
				ext := filepath.Ext(path)
				path = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), i+1, ext)
			}
			if err := os.WriteFile(path, []byte(p.SVG), 0o644); err != nil {
				return fileerr.Write("--svg", path, err)
			}
		}
	}
	return nil
}

// writeARP draws an ARP trace as a sequence diagram, when asked to.
func (f PictureFlags) writeARP(tr *arptrace.Trace) error {
	if (f.SVG == "" && f.HTML == "") || tr == nil {
		return nil
	}
	label := "ARP for " + tr.Probed.String()
	return f.writeParts("addrwalk: "+label, []walkview.Part{{Label: label, SVG: walkview.RenderARP(tr)}})
}

// writeNDP draws a Neighbor Discovery trace as a sequence diagram, when
// asked to.
func (f PictureFlags) writeNDP(tr *ndptrace.Trace) error {
	if (f.SVG == "" && f.HTML == "") || tr == nil {
		return nil
	}
	label := "Neighbor Discovery for " + tr.Target.String()
	return f.writeParts("addrwalk: "+label, []walkview.Part{{Label: label, SVG: walkview.RenderNDP(tr)}})
}

// pathPictures collects what `path` draws: its stages as a strip, the DNS
// walks and the ARP or ND exchange.
type pathPictures struct {
	flags  PictureFlags
	stages []walkview.PathStage
	dns    []*walkview.Resolution
	arp    *arptrace.Trace
	nd     *ndptrace.Trace
}

func newPathPictures(f PictureFlags) *pathPictures {
	if f.SVG == "" && f.HTML == "" {
		return nil
	}
	return &pathPictures{flags: f}
}

func (p *pathPictures) stage(step, result, detail, state string) {
	if p != nil {
		p.stages = append(p.stages, walkview.PathStage{Step: step, Result: result, Detail: detail, State: state})
	}
}

// neighbour adds the MAC stage: the first MAC that answered, or none.
func (p *pathPictures) neighbour(detail string, macs []arptrace.MAC) {
	if len(macs) > 0 {
		p.stage("MAC", macs[0].String(), detail, "done")
	} else {
		p.stage("MAC", "no reply", detail, "failed")
	}
}

func (p *pathPictures) resolution(name string, qtype uint16, res *resolver.Result, err error) {
	if p != nil {
		r := walkview.FromResult(name, qtype, res, err)
		p.dns = append(p.dns, &r)
	}
}

func (p *pathPictures) write(name string) error {
	if p == nil {
		return nil
	}
	parts := []walkview.Part{{Label: "the path", SVG: walkview.RenderPath(name, p.stages)}}
	for _, r := range p.dns {
		parts = append(parts, walkview.Part{Label: "DNS walk " + r.Type, SVG: walkview.Render(r)})
	}
	if p.arp != nil {
		parts = append(parts, walkview.Part{Label: "ARP", SVG: walkview.RenderARP(p.arp)})
	}
	if p.nd != nil {
		parts = append(parts, walkview.Part{Label: "Neighbor Discovery", SVG: walkview.RenderNDP(p.nd)})
	}
	return p.flags.writeParts("addrwalk path "+name, parts)
}
