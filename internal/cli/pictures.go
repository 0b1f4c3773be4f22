package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/addrwalk/addrwalk/internal/walkview"
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
	if p.flags.HTML != "" {
		var b bytes.Buffer
		if err := walkview.HTML(&b, title, p.rs); err != nil {
			return err
		}
		if err := os.WriteFile(p.flags.HTML, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	if p.flags.SVG != "" {
		for i, r := range p.rs {
			path := p.flags.SVG
			if len(p.rs) > 1 {
				ext := filepath.Ext(path)
				path = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), i+1, ext)
			}
			if err := os.WriteFile(path, []byte(walkview.Render(r)), 0o644); err != nil {
				return fmt.Errorf("--svg: %w", err)
			}
		}
	}
	return nil
}
