package resolver

import (
	"context"
	"net/netip"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// Identical questions in flight to the same server are sent once: when
// several requests walk the same cuts at the same time (a cold cache under
// load: twenty names under test. all ask the root for test. NS), the
// first sends the query and the others wait for its reply, as PowerDNS
// Recursor does. Measured with bench/peers.sh, this is the class of
// upstream query ("re-asks") where addrwalk sent the most beyond
// PowerDNS.

// flightKey names a question to a server: transport, address, the name
// as sent (case included: the reply's question is checked against it),
// type, class, and the flags that change the reply (RD, EDNS, DO).
func flightKey(q *dns.Msg, network string, server netip.AddrPort) string {
	qq := q.Question[0]
	b := make([]byte, 0, 64+len(qq.Name))
	b = append(b, network...)
	b = append(b, ' ')
	b = server.AppendTo(b)
	b = append(b, ' ')
	b = append(b, qq.Name...)
	b = strconv.AppendUint(append(b, ' '), uint64(qq.Qtype), 10)
	b = strconv.AppendUint(append(b, ' '), uint64(qq.Qclass), 10)
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

// sharedExchange sends q to server through the Exchanger, or joins an
// identical query already in flight. Every caller gets a reply of its
// own (a copy, with its own query's ID: the Exchanger checked the ID of
// the query it sent) to classify and change as it likes. The query runs
// under timeout from its own start, not under the context of whichever
// request started it, so one request giving up does not fail the others;
// each caller still stops waiting when its own ctx ends.
func (r *Resolver) sharedExchange(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort, timeout time.Duration) (*dns.Msg, error) {
	ch := r.upFlights.DoChan(flightKey(q, network, server), func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		return r.x.Exchange(fctx, q, network, server)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		m := res.Val.(*dns.Msg)
		if res.Shared {
			m = m.Copy()
			m.Id = q.Id
		}
		return m, nil
	}
}
