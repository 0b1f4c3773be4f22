package walkview

import (
	"fmt"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
)

// RenderARP draws an ARP trace (arptrace.Trace, the data `arp --json`
// prints) as a sequence diagram between this host, the broadcast domain
// and the target: the route, the neighbour cache before, every request
// (broadcast through the domain, or unicast), every reply with its RTT,
// the cache after, and the summary.
func RenderARP(tr *arptrace.Trace) string {
	body := &svgw{}
	title := "ARP for " + tr.Probed.String()
	if tr.Host != "" {
		title = "ARP for " + tr.Host + " (" + tr.Probed.String() + ")"
	}
	w := drawARP(body, tr, margin, margin, title)
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

// drawARP draws the diagram at x, y and returns its size.
func drawARP(b *svgw, tr *arptrace.Trace, x, y float64, title string) size {
	target := "?"
	if len(tr.Summary.MACs) > 0 {
		target = tr.Summary.MACs[0].String()
	}
	s := newSeq(b, x, y, "arp-header", title, arpSub(tr), [3]seqHead{
		{"this host", tr.Interface.Name + " " + tr.Interface.MAC.String(), "IP " + tr.Source.String()},
		{"broadcast domain", "every station on " + tr.Interface.Name, "the switch floods broadcasts"},
		{"target " + tr.Probed.String(), "MAC " + target, targetRole(tr)},
	}, "data-target", tr.Target.String(), "data-probed", tr.Probed.String())
	s.route(tr.Route, tr.RouteError, tr.Notes)
	s.cache("before", tr.Before, "")
	// Probes and replies.
	rows := 0
	for _, p := range tr.Probes {
		if rows >= seqMaxRow {
			s.note("seq-info", fmt.Sprintf("and %d more probes", len(tr.Probes)-seqMaxRow), "")
			break
		}
		rows++
		f := p.Sent
		at := "+" + fmtMS(time.Duration(p.Offset))
		label := fmt.Sprintf("#%d %s %v? tell %v", p.Seq, f.Kind, f.TargetIP, f.SenderIP)
		title := fmt.Sprintf("sent %s from %v to %v\nsender %v %v, target %v %v", f.Kind, f.EthSrc, f.EthDst, f.SenderMAC, f.SenderIP, f.TargetMAC, f.TargetIP)
		if p.Unicast {
			s.msg(laneHost, laneTarget, "arp-request unicast", at, label+" (unicast to "+f.EthDst.String()+")", title, false)
		} else {
			s.msg(laneHost, laneLink, "arp-request broadcast", at, label, title, false)
			s.msg(laneLink, laneTarget, "arp-flood", "", "to ff:ff:ff:ff:ff:ff: flooded to every port", "the broadcast reaches every station of the link", true)
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
			s.msg(laneTarget, laneHost, cls, "+"+fmtMS(time.Duration(r.Offset)), text,
				fmt.Sprintf("%s from %v to %v\nsender %v %v", rf.Kind, rf.EthSrc, rf.EthDst, rf.SenderMAC, rf.SenderIP), false)
		}
		if len(p.Replies) == 0 {
			s.note("arp-noreply", fmt.Sprintf("#%d: no reply", p.Seq), "")
		}
	}
	if tr.After != nil {
		s.cache("after", tr.After, tr.AfterNote)
		for _, l := range wrap(tr.AfterNote, 2*seqLaneW+seqHeadW/2, 3) {
			s.note("seq-info", l, tr.AfterNote)
		}
	}
	return s.finish()
}

func targetRole(tr *arptrace.Trace) string {
	if tr.ViaGateway {
		return "the gateway towards " + tr.Target.String()
	}
	return "on this link"
}
