package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// lastServer names the server asked last, "name (address:port)", for
// an Error; "" before any query.
func (rq *request) lastServer() string {
	if !rq.lastAddr.IsValid() {
		return ""
	}
	return rq.lastNS + " (" + rq.lastAddr.String() + ")"
}

// exchange sends one question to one server address, retrying over TCP
// when the UDP reply is truncated and without EDNS when the server does not
// understand it, and classifies the reply. outcome names what happened when
// err is set (timeout, error, malformed).
func (rq *request) exchange(ctx context.Context, zs *zoneServers, c *candidate, pick pickWhy, qname string, qtype uint16, cl *classifier) (resp response, outcome string, err error) {
	why := "" // the trace's Event.Why, in words only for a trace
	if rq.obs != nil {
		why = pick.String()
	}
	port := rq.r.cfg.Port
	if c.ns.port != 0 {
		port = c.ns.port
	}
	server := netip.AddrPortFrom(c.addr, port)
	rq.lastNS, rq.lastAddr = c.ns.name, server
	up := rq.r.up
	network := "udp"
	edns := true
	caps := up.usesCaps(server)
	// caseTCP: the exchange went to TCP after a 0x20 case mismatch over
	// UDP; noTCP: that TCP query failed, so a second mismatch over UDP
	// is the evidence instead (caps.go).
	caseTCP, noTCP := false, false
	badCookies := 0
	for attempt := 0; attempt < maxExchangeAttempts; attempt++ {
		if err := rq.checkBudget(ctx); err != nil {
			return response{}, "", err
		}
		q := rq.newQuery(qname, qtype, edns)
		q.RecursionDesired = zs.forward
		sent := qname
		if caps {
			sent = randomiseCase(qname)
			q.Question[0].Name = sent
		}
		cookies := up.h.Cookies && edns
		if cookies {
			opt := q.IsEdns0()
			opt.Option = append(opt.Option, up.jar.option(server))
		}
		timeout := rq.r.cfg.QueryTimeout
		if c.rto > 0 && c.rto < timeout && network == "udp" {
			timeout = c.rto
		}
		t0 := rq.r.cfg.Now()
		a, lerr, xerr := rq.ask(ctx, zs, server, c.asked, q, caps, network, timeout)
		c.settleFlight()
		c.settle = a.settle
		if lerr != nil {
			outcome = "busy"
			if errors.Is(lerr, ErrRateLimited) {
				outcome = "rate-limited"
			}
			if rq.obs != nil {
				rq.emit(Event{Kind: EventQuery, Zone: zs.zone, Server: c.ns.name, Addr: server, Why: why,
					Name: qname, Type: dns.TypeToString[qtype], Transport: network, Outcome: outcome,
					Err: failureWords(lerr, 0), Detail: failureWords(lerr, 0)})
			}
			return response{}, outcome, lerr
		}
		m := a.m
		c.joined = a.joined
		if a.joined {
			if a.from != server {
				// Another request's query of the same question to
				// another server of the zone: the reply is that
				// server's, for everything that follows.
				c.ns, c.addr, server = rq.nsFor(zs, a.from), a.from.Addr(), a.from
				rq.lastNS, rq.lastAddr = c.ns.name, server
			}
			if rq.obs != nil {
				why += "; the same question was in flight to " + server.String() + ": its reply is shared"
			}
		}
		rtt := rq.r.cfg.Now().Sub(t0)
		rq.upstream++
		metric := rq.metric
		if a.joined {
			metric = func(string, time.Duration, string) {} // not an upstream query
		}
		ev := Event{Kind: EventQuery, Zone: zs.zone, Server: c.ns.name, Addr: server, Why: why,
			Name: sent, Type: dns.TypeToString[qtype], Transport: network, RTT: rtt}
		if xerr == nil {
			if merr := matchesQuestion(m, q, network != "udp"); merr != nil {
				xerr = fmt.Errorf("%w: %w", ErrMalformed, merr)
			}
		}
		if tcp, detail := spoofedUDP(xerr, network, cookies && up.jar.sendsCookies(server)); tcp {
			metric(network, rtt, "rejected")
			if rq.obs != nil {
				ev.Outcome, ev.Err, ev.Detail = "rejected", failureWords(xerr, timeout), detail
				rq.emit(ev)
			}
			network = "tcp"
			why = "retry over TCP after rejected UDP replies"
			continue
		}
		if errors.Is(xerr, errOversizedReply) && network == "udp" {
			rq.metric(network, rtt, "truncated")
			if rq.obs != nil {
				ev.Outcome, ev.Detail = "truncated", "UDP reply over 4096 bytes: retry over TCP"
				rq.emit(ev)
			}
			network = "tcp"
			why = "retry over TCP after an oversized UDP reply"
			continue
		}
		if xerr != nil && caseTCP && network == "tcp" && ctx.Err() == nil {
			// The server does not answer over TCP: ask over UDP
			// again, in a new random case, rather than give up on a
			// server that may only lower-case names (caps.go).
			outcome = "error"
			if isExchangeTimeout(xerr) {
				outcome = "timeout"
			}
			metric(network, rtt, outcome)
			if rq.obs != nil {
				ev.Outcome, ev.Err = outcome, failureWords(xerr, timeout)
				ev.Detail = ev.Err + "; no TCP after a 0x20 case mismatch: ask again over UDP in a new random case"
				rq.emit(ev)
			}
			network, caseTCP, noTCP = "udp", false, true
			why = "retry over UDP in a new random case: no TCP after a 0x20 case mismatch"
			continue
		}
		if xerr != nil {
			outcome = "error"
			switch {
			case isExchangeTimeout(xerr):
				// A timeout changes nothing the resolver knows about
				// the server's cookie or case: a flood causes timeouts.
				outcome = "timeout"
				if ctx.Err() != nil {
					xerr = ctxEnded(ctx)
				} else if !errors.Is(xerr, ErrTimeout) {
					// Go's words ("read udp …: i/o timeout") say no more.
					xerr = fmt.Errorf("%w after %v", ErrTimeout, timeout.Round(time.Millisecond))
				}
			case errors.Is(xerr, ErrMalformed):
				outcome = "malformed"
			}
			metric(network, rtt, outcome)
			if rq.obs != nil {
				ev.Outcome, ev.Err = outcome, failureWords(xerr, timeout)
				ev.Detail = ev.Err + "; try another server"
				rq.emit(ev)
			}
			return response{}, outcome, xerr
		}
		if !a.joined {
			rq.r.infra.RecordRTT(c.addr, zs.zone, rtt)
		}
		ev.Rcode, ev.Flags = dns.RcodeToString[m.Rcode], flagString(m)
		noEcho := false
		if sent != qname {
			if m.Question[0].Name != sent {
				// The exact case did not come back. Over UDP that is a
				// server that does not echo it or a forger who guessed
				// ID and port: ask over TCP. Over TCP it is the server;
				// so is a second mismatch over UDP, in another random
				// case, from a server that did not answer over TCP.
				if network == "udp" && noTCP {
					metric(network, rtt, "case_mismatch")
					up.noCaps(server)
					if rq.obs != nil {
						ev.Outcome, ev.Detail = "case_mismatch", "0x20 case not echoed twice ("+m.Question[0].Name+") and no TCP: the server is asked without 0x20 for "+capsFallbackTTL.String()
						rq.emit(ev)
					}
					caps = false
					why = "retry without 0x20: the server does not echo case and does not answer over TCP"
					continue
				}
				if network == "udp" {
					metric(network, rtt, "case_mismatch")
					if rq.obs != nil {
						ev.Outcome, ev.Detail = "case_mismatch", "0x20 case not echoed ("+m.Question[0].Name+"): ask again over TCP"
						rq.emit(ev)
					}
					network, caseTCP = "tcp", true
					why = "retry over TCP after a 0x20 case mismatch"
					continue
				}
				caps, noEcho = false, true
				up.noCaps(server)
			}
			restoreCase(m, qname)
		}
		if cookies {
			// A reply without a cookie, over TCP too, unlearns nothing
			// (cookies.go).
			up.jar.learn(server, m)
			if m.Rcode == dns.RcodeBadCookie {
				// RFC 7873 §5.3: retry once with the server cookie just
				// learnt, then over TCP.
				badCookies++
				metric(network, rtt, "badcookie")
				detail := "BADCOOKIE: retry with the new server cookie"
				if badCookies > 1 {
					network = "tcp"
					detail = "BADCOOKIE again: retry over TCP"
				}
				if rq.obs != nil {
					ev.Outcome, ev.Detail = "badcookie", detail
					rq.emit(ev)
				}
				why = "retry after BADCOOKIE"
				continue
			}
		}
		if m.Truncated && network == "udp" {
			metric(network, rtt, "truncated")
			if rq.obs != nil {
				ev.Outcome, ev.Detail = "truncated", "TC=1: retry over TCP"
				rq.emit(ev)
			}
			network = "tcp"
			why = "retry over TCP after TC=1"
			continue
		}
		if edns && m.IsEdns0() == nil && (m.Rcode == dns.RcodeFormatError || m.Rcode == dns.RcodeNotImplemented) {
			metric(network, rtt, "error")
			if rq.obs != nil {
				ev.Outcome, ev.Detail = "error", dns.RcodeToString[m.Rcode]+" to an EDNS query: retry without EDNS (RFC 6891 §7)"
				rq.emit(ev)
			}
			edns = false
			why = "retry without EDNS"
			continue
		}
		resp = cl.classify(m)
		resp.servedBy, resp.from = zs.zone, c.addr
		if rq.r.anchors != nil {
			cl.collectDNSSEC(&resp, m)
		}
		metric(network, rtt, resp.kind.String())
		if rq.obs != nil {
			ev.Outcome = resp.kind.String()
			describe(&ev, resp, zs.zone)
			if noEcho {
				ev.Detail += "; 0x20 case not echoed over TCP either: the server is asked without 0x20 for " + capsFallbackTTL.String()
			}
			rq.emit(ev)
		}
		return resp, "", nil
	}
	return response{}, "error", fmt.Errorf("%w: no usable reply after retries", ErrMalformed)
}

// spoofedUDP says whether a failed UDP exchange is to be asked again over
// TCP, which no blind forger can answer, and why: a flood of replies
// failing the checks (transport.go), or any such reply from a server known
// to send cookies (sendsCookies: a forgery, or a server that stopped
// sending them: cookies.go).
func spoofedUDP(xerr error, network string, sendsCookies bool) (bool, string) {
	switch {
	case xerr == nil || network != "udp":
		return false, ""
	case errors.Is(xerr, errReplyFlood):
		return true, "a flood of replies failing the checks: retry over TCP"
	case sendsCookies && errors.Is(xerr, errRejected):
		return true, "only replies failing the checks from a server known to send cookies: retry over TCP"
	}
	return false, ""
}

// isExchangeTimeout reports whether err, from one query to a server, is a
// timeout: the resolver's own, the context's, or the network's.
func isExchangeTimeout(err error) bool {
	return errors.Is(err, ErrTimeout) || isCtxErr(err) || isNetTimeout(err)
}

// maxExchangeAttempts bounds the queries one exchange with a server
// sends: the first, one over TCP (after TC=1, an oversized reply, a 0x20
// case mismatch or rejected UDP replies, spoofedUDP: each switches to TCP
// for good, except a 0x20 retry the server does not answer over TCP,
// which asks over UDP in a new case and then without 0x20: two more),
// one without EDNS and two after BADCOOKIE; 8 leaves room and is never
// reached by a well-behaved server.
const maxExchangeAttempts = 8

// newQuery builds an iterative query: RD clear, a random ID, and EDNS(0)
// with a 1232-byte payload.
func (rq *request) newQuery(qname string, qtype uint16, edns bool) *dns.Msg {
	qm := &queryMsg{}
	q := &qm.m
	q.Id = dns.Id()
	q.RecursionDesired = false
	qm.question[0] = dns.Question{Name: qname, Qtype: qtype, Qclass: rq.class}
	q.Question = qm.question[:]
	if edns {
		// What Msg.SetEdns0 makes, in qm. DO when validating: the
		// RRSIGs and NSEC records are needed.
		qm.opt.Hdr = dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}
		qm.opt.SetUDPSize(EDNSBufferSize)
		if rq.r.anchors != nil {
			qm.opt.SetDo()
		}
		qm.extra[0] = &qm.opt
		q.Extra = qm.extra[:]
	}
	return q
}

// queryMsg is a query and its parts in one allocation, not four (the
// message, its question, the OPT record and the additional section: #11).
// Changing the query (0x20, cookies, Copy) works as on any Msg: what
// grows is made anew.
type queryMsg struct {
	m        dns.Msg
	question [1]dns.Question
	opt      dns.OPT
	extra    [1]dns.RR
}

// describe fills the trace fields that say what a response taught.
func describe(ev *Event, r response, zone string) {
	switch r.kind {
	case kindReferral:
		ri := &ReferralInfo{Zone: r.zone}
		for _, n := range r.ns {
			ri.NS = append(ri.NS, dns.CanonicalName(n.Ns))
		}
		for _, g := range r.glue {
			ri.Glue = append(ri.Glue, glueString(g))
		}
		for _, g := range r.ignoredGlue {
			ri.IgnoredGlue = append(ri.IgnoredGlue, glueString(g)+" (outside "+zone+")")
		}
		ev.Referral = ri
		// The outcome ("referral") is said beside the detail: the
		// detail does not say it again.
		ev.Detail = fmt.Sprintf("%s is served by %d NS, with %d glue record(s)", r.zone, len(ri.NS), len(ri.Glue))
		if len(ri.IgnoredGlue) > 0 {
			ev.Detail += fmt.Sprintf("; %d out-of-bailiwick glue ignored", len(ri.IgnoredGlue))
		}
	case kindAnswer:
		ev.Answer = rrStrings(r.answer)
		ev.Detail = fmt.Sprintf("%d record(s)", len(r.answer))
	case kindCNAME:
		ev.Answer = rrStrings(r.answer)
		ev.Target = r.target
		ev.Detail = "alias to " + r.target + ", outside " + zone
	case kindNXDomain:
		ev.Answer = rrStrings(r.answer)
		ev.Negative = rrStrings(r.soa)
		ev.Detail = "name does not exist"
	case kindNoData:
		ev.Answer = rrStrings(r.answer)
		ev.Negative = rrStrings(r.soa)
		ev.Detail = "name exists, no record of this type"
	default:
		ev.Detail = r.reason + "; try another server"
	}
}

func glueString(rr dns.RR) string {
	a, _ := rrAddr(rr)
	return dns.CanonicalName(rr.Header().Name) + " " + a.String()
}

// rrStrings renders records as zone-file lines with single spaces.
func rrStrings(rrs []dns.RR) []string {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = strings.ReplaceAll(rr.String(), "\t", " ")
	}
	return out
}

// flagString lists the header flags that are set, dig style.
func flagString(m *dns.Msg) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, " ")
}

func (rq *request) metric(network string, rtt time.Duration, outcome string) {
	if mt := rq.r.cfg.Metrics; mt != nil {
		mt.UpstreamQuery(network, rtt, outcome)
	}
}

// isNetTimeout reports a timeout from an Exchanger that is not ours.
func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
