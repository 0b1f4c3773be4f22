package resolvertest

import (
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// maxLoggedQueries bounds the query log so a long benchmark or `addrwalk
// sim` session cannot grow it without limit; tests reset it long before.
// Queries beyond the bound are not kept.
const maxLoggedQueries = 1 << 16

// Query is one query a lab server received.
type Query struct {
	Server    string         // name of the server (as given to AddServer)
	ServerIP  netip.Addr     // the server's address
	Client    netip.AddrPort // where the query came from
	Transport string         // "udp" or "tcp"
	ID        uint16
	Name      string // question name as sent (case preserved)
	Type      uint16
	RD        bool // recursion desired
	CD        bool // checking disabled
	EDNS      bool // the query had an OPT record
	DO        bool // DNSSEC OK
	UDPSize   uint16
}

// queryLog is the lab's record of received queries.
type queryLog struct {
	mu      sync.Mutex // guards the following
	queries []Query
}

func (l *queryLog) add(q Query) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queries) >= maxLoggedQueries {
		return
	}
	l.queries = append(l.queries, q)
}

func (l *queryLog) snapshot() []Query {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Query(nil), l.queries...)
}

func (l *queryLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = nil
}

// newQuery describes q received by s from client over transport.
func newQuery(s *Server, client netip.AddrPort, transport string, q *dns.Msg) Query {
	r := Query{
		Server:    s.name,
		ServerIP:  s.addr,
		Client:    client,
		Transport: transport,
		ID:        q.Id,
		RD:        q.RecursionDesired,
		CD:        q.CheckingDisabled,
	}
	if len(q.Question) > 0 {
		r.Name = q.Question[0].Name
		r.Type = q.Question[0].Qtype
	}
	if opt := q.IsEdns0(); opt != nil {
		r.EDNS = true
		r.DO = opt.Do()
		r.UDPSize = opt.UDPSize()
	}
	return r
}
