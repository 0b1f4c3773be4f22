package walkview

import (
	"fmt"
	"time"

	"github.com/addrwalk/addrwalk/ndptrace"
)

// RenderNDP draws a Neighbor Discovery trace (ndptrace.Trace, the data
// `ndp --json` prints) as a sequence diagram between this host, the
// target's solicited-node multicast group and the target: the route, the
// neighbour cache before (with its NUD state), every Neighbor Solicitation
// (to the group, which delivers it to the target), every Neighbor
// Advertisement with its R/S/O flags, TLLA and RTT, the cache after, and
// for DAD the verdict.
func RenderNDP(tr *ndptrace.Trace) string {
	body := &svgw{}
	title := "Neighbor Discovery for " + tr.Target.String()
	if tr.Mode == "dad" {
		title = "Duplicate address detection for " + tr.Target.String()
	}
	if tr.Host != "" {
		title += " (" + tr.Host + ")"
	}
	w := drawNDP(body, tr, margin, margin, title)
	return wrapSVG(body, w.w, w.h, title, ndpSub(tr))
}

func ndpSub(tr *ndptrace.Trace) string {
	s := tr.Summary
	sub := fmt.Sprintf("%s · %d NS sent, %d NA received", tr.Mode, s.Sent, s.Received)
	if s.Received > 0 {
		sub += fmt.Sprintf(" · RTT min/max %s/%s", fmtMS(time.Duration(s.MinRTT)), fmtMS(time.Duration(s.MaxRTT)))
	}
	return sub
}

// drawNDP draws the diagram at x, y and returns its size.
func drawNDP(b *svgw, tr *ndptrace.Trace, x, y float64, title string) size {
	target := "?"
	if len(tr.Summary.MACs) > 0 {
		target = tr.Summary.MACs[0].String()
	}
	role := "on this link"
	if tr.Route != nil && !tr.Route.OnLink {
		role = "off-link: reached via " + tr.Route.Gateway.String()
	}
	s := newSeq(b, x, y, "ndp-header", title, ndpSub(tr), [3]seqHead{
		{"this host", tr.Interface + " " + tr.MAC.String(), "IP " + tr.Source.String()},
		{"solicited-node group", tr.SolicitedNode.String(), "MAC " + ndptrace.MulticastMAC(tr.SolicitedNode).String()},
		{"target " + tr.Target.String(), "MAC " + target, role},
	}, "data-target", tr.Target.String(), "data-mode", tr.Mode)
	s.route(tr.Route, tr.RouteError, tr.Notes)
	s.cache("before", tr.Before, "")
	rows := 0
	for _, p := range tr.Probes {
		if rows >= seqMaxRow {
			s.note("seq-info", fmt.Sprintf("and %d more solicitations", len(tr.Probes)-seqMaxRow), "")
			break
		}
		rows++
		f := p.Sent
		opt := "SLLA " + f.LLAddr.String()
		if f.LLAddr.IsZero() {
			opt = "from ::, no SLLA (DAD)"
		}
		s.msg(laneHost, laneLink, "nd-ns", "+"+fmtMS(time.Duration(p.Offset)),
			fmt.Sprintf("#%d NS who-has %v? %s", p.Seq, f.Target, opt),
			fmt.Sprintf("Neighbor Solicitation from %v to %v (eth %v > %v), hop limit 255", f.Src, f.Dst, f.EthSrc, f.EthDst), false)
		s.msg(laneLink, laneTarget, "nd-multicast", "", "to "+f.Dst.String()+": only the group's members listen",
			"the target joined its solicited-node group; other stations filter the frame in hardware", true)
		for _, r := range p.Replies {
			rows++
			rf := r.Frame
			cls := "nd-na"
			if len(tr.Summary.MACs) > 1 {
				cls += " conflict"
			}
			text := fmt.Sprintf("NA %v is-at %v  %s  RTT %s", rf.Target, rf.LLAddr, rf.Flags(), fmtMS(time.Duration(r.RTT)))
			if rf.Dst.IsMulticast() {
				text += " (to " + rf.Dst.String() + ")"
			}
			s.msg(laneTarget, laneHost, cls, "+"+fmtMS(time.Duration(r.Offset)), text,
				fmt.Sprintf("Neighbor Advertisement from %v to %v (eth %v > %v)\nR=router S=solicited O=override", rf.Src, rf.Dst, rf.EthSrc, rf.EthDst), false)
		}
		if len(p.Replies) == 0 {
			s.note("nd-noreply", fmt.Sprintf("#%d: no advertisement", p.Seq), "")
		}
	}
	if tr.Mode == "dad" {
		if tr.Summary.InUse {
			s.note("nd-dad dad-inuse", fmt.Sprintf("DAD: %v is in use by %s", tr.Target, target), "RFC 4862 5.4.4: an NA for the tentative address means it is a duplicate")
		} else {
			s.note("nd-dad dad-free", fmt.Sprintf("DAD: %v appears free", tr.Target), "RFC 4862 5.4: no NA answered the solicitations from ::")
		}
	}
	s.cache("after", tr.After, tr.AfterNote)
	for _, l := range wrap(tr.AfterNote, 2*seqLaneW+seqHeadW/2, 3) {
		s.note("seq-info", l, tr.AfterNote)
	}
	return s.finish()
}
