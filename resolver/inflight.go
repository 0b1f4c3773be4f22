package resolver

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// Identical questions in flight to the same server are sent once: when
// several requests walk the same cuts at the same time (a cold cache under
// load: twenty names under test. all ask the root for test. NS), the
// first sends the query and the others wait for its reply, as PowerDNS
// Recursor does. Measured with bench/peers.sh, this is the class of
// upstream query ("re-asks") where addrwalk sent the most beyond
// PowerDNS.

// flightKey names a question to a server: transport, address, the name
// without regard to case (0x20 gives each request its own pattern), type,
// class, whether the case was randomised, and the flags that change the
// reply (RD, EDNS, DO).
func flightKey(q *dns.Msg, caps bool, network string, server netip.AddrPort) string {
	qq := q.Question[0]
	b := make([]byte, 0, 64+len(qq.Name))
	b = append(b, network...)
	b = append(b, ' ')
	b = server.AppendTo(b)
	b = append(b, ' ')
	b = append(b, strings.ToLower(qq.Name)...)
	b = strconv.AppendUint(append(b, ' '), uint64(qq.Qtype), 10)
	b = strconv.AppendUint(append(b, ' '), uint64(qq.Qclass), 10)
	if caps {
		b = append(b, " 0x20"...)
	}
	if q.RecursionDesired {
		b = append(b, " rd"...)
	}
	if opt := q.IsEdns0(); opt != nil {
		b = append(b, " edns"...)
		if opt.Do() {
			b = append(b, " do"...)
		}
	}
	return string(b)
}

// flight is the outcome of one query sent for several requests: the
// reply and the name exactly as the sender asked it (its 0x20 pattern).
type flight struct {
	m    *dns.Msg
	sent string
}

// sharedExchange sends q to server through the Exchanger, or joins an
// identical query already in flight. Every caller gets a reply of its
// own (a copy, with its own query's ID: the Exchanger checked the ID of
// the query it sent) to classify and change as it likes. With 0x20 (caps)
// a joiner's copy carries the joiner's own case only when the reply
// echoed the sender's case exactly, so the caller's case check means for
// a joiner what it means for the sender: a reply that fails it there
// fails it everywhere. The query runs under timeout from its own start,
// not under the context of whichever request started it, so one request
// giving up fails no other; each caller still stops waiting when its own
// ctx ends.
func (r *Resolver) sharedExchange(ctx context.Context, q *dns.Msg, caps bool, network string, server netip.AddrPort, timeout time.Duration) (*dns.Msg, error) {
	key := flightKey(q, caps, network, server)
	m, err := awaitFlight(ctx, r.startFlight(ctx, key, q, network, server, timeout), q)
	if err != nil && ctx.Err() != nil {
		// This caller gave up (its own timeout): its retry must send a
		// fresh query, not join the flight it just gave up on, which may
		// not outlive it by much.
		r.upFlights.Forget(key)
	}
	return m, err
}

// startFlight sends q, or joins the identical query in flight (key is
// its flightKey).
func (r *Resolver) startFlight(ctx context.Context, key string, q *dns.Msg, network string, server netip.AddrPort, timeout time.Duration) <-chan singleflight.Result {
	return r.upFlights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		m, err := r.cfg.Exchanger.Exchange(fctx, q, network, server)
		return flight{m: m, sent: q.Question[0].Name}, err
	})
}

// awaitFlight waits for the reply to q's flight, or for ctx to end.
func awaitFlight(ctx context.Context, ch <-chan singleflight.Result, q *dns.Msg) (*dns.Msg, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		f := res.Val.(flight)
		m := f.m
		if res.Shared {
			m = m.Copy()
			m.Id = q.Id
			if len(m.Question) == 1 && m.Question[0].Name == f.sent {
				m.Question[0].Name = q.Question[0].Name
			}
		}
		return m, nil
	}
}
