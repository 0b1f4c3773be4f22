package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// DNS over HTTPS (RFC 8484): GET with ?dns= (base64url) and POST with an
// application/dns-message body, on one path, over HTTP/2 or HTTP/1.1.

const (
	// dohMediaType is the DNS wire format's media type (RFC 8484 §6).
	dohMediaType = "application/dns-message"
	// DefaultDoHPath is the path of queries when none is configured.
	DefaultDoHPath = "/dns-query"
	// maxDoHQuery bounds a query's size: a DNS message is at most 65535
	// octets (RFC 8484 §6 keeps the wire format's limit).
	maxDoHQuery = maxTCPSize
	// maxForwardedHops bounds the X-Forwarded-For entries examined, so a
	// huge header costs little.
	maxForwardedHops = 16
)

// dohHandler answers DoH requests with the Server's Handler, its misses
// on the Server's miss pool (answerDoH).
type dohHandler struct {
	s       *Server
	path    string
	proxies []netip.Prefix
}

func newDoHHandler(s *Server, path string, proxies []netip.Prefix) *dohHandler {
	if path == "" {
		path = DefaultDoHPath
	}
	return &dohHandler{s: s, path: path, proxies: proxies}
}

func (d *dohHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != d.path {
		http.Error(w, "not found: DNS queries go to "+d.path, http.StatusNotFound)
		return
	}
	var req []byte
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		v := r.URL.Query().Get("dns")
		if v == "" {
			http.Error(w, "missing dns parameter (base64url DNS message)", http.StatusBadRequest)
			return
		}
		if len(v) > base64.RawURLEncoding.EncodedLen(maxDoHQuery)+2 {
			http.Error(w, "dns parameter too long", http.StatusRequestURITooLong)
			return
		}
		// RFC 8484 §4.1: base64url without padding; padding is
		// tolerated, as most servers do.
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil {
			http.Error(w, "dns parameter is not base64url", http.StatusBadRequest)
			return
		}
		req = b
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != dohMediaType {
			http.Error(w, "Content-Type must be "+dohMediaType, http.StatusUnsupportedMediaType)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDoHQuery))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "query larger than 65535 octets", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		req = b
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	client := d.client(r)
	resp, ok := d.s.answerDoH(r.Context(), req, client)
	if r.Context().Err() != nil {
		return // the client went away while its miss was resolved
	}
	if !ok {
		http.Error(w, "not a DNS query", http.StatusBadRequest)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", dohMediaType)
	hd.Set("Content-Length", strconv.Itoa(len(resp)))
	// RFC 8484 §5.1: the freshness lifetime must not exceed the smallest
	// TTL of the answer; §4.2.1's example uses max-age.
	hd.Set("Cache-Control", "max-age="+strconv.FormatUint(uint64(minReplyTTL(resp)), 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp)
	}
}

// dohMiss is a DoH query's miss on a worker of the miss pool: the worker
// appends the reply to out, sets resp and closes done; the request's
// goroutine waits for that.
type dohMiss struct {
	out, resp []byte
	done      chan struct{}
}

// answerDoH answers a DoH query as the other listeners answer theirs:
// a hit on the request's goroutine, a miss on a worker of the miss pool
// (misspool.go) within the same pending slots, in total and per client,
// and shed (from the resolver's cache, else SERVFAIL) when they are
// full. Run on net/http's goroutine, a miss was outside those bounds and
// outside the pool's start rule, so a DoH flood could fill Go's run
// queue ahead of the UDP readers (#11). The request's goroutine waits for
// the worker's reply, or until ctx (the client's request) ends. ok is
// false when the query is dropped (not a DNS query, or a panic).
func (s *Server) answerDoH(ctx context.Context, req []byte, client netip.AddrPort) (resp []byte, ok bool) {
	h := s.h
	c := call{st: h.st.Load(), client: client, transport: TransportHTTPS, start: h.now()}
	out, v := h.fast(make([]byte, 0, maxReplyHint), req, &c)
	switch v {
	case verdictDrop:
		return nil, false
	case verdictReply:
		return out, true
	}
	if !s.enterPending(client.Addr()) {
		return h.shed(out, &c, reasonOverload), true
	}
	dm := &dohMiss{out: out, done: make(chan struct{})}
	j := missJob{req: req, c: c, doh: dm}
	j.c.q = query{} // the worker parses its copy of req
	if !s.misses.submit(&j) {
		s.leavePending(client.Addr())
		return h.shed(out, &c, reasonOverload), true
	}
	select {
	case <-dm.done:
		return dm.resp, len(dm.resp) > 0
	case <-ctx.Done():
		return nil, false // the worker still answers, to no one
	}
}

// answerMiss is the miss pool's work for a DoH query: resolve w's miss
// and hand the reply to the request's goroutine.
func (dm *dohMiss) answerMiss(s *Server, w *missWorker) {
	defer close(dm.done)
	defer s.leavePending(w.job.c.client.Addr())
	dm.resp = s.h.resolveRaw(context.Background(), dm.out, w.job.req, w.job.c, false)
}

// client is the address the ACL and the rate limit see: the connection's,
// or, when the connection comes from a trusted proxy, the nearest address
// in X-Forwarded-For that is not itself a trusted proxy.
func (d *dohHandler) client(r *http.Request) netip.AddrPort {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.AddrPort{} // never allowed by the ACL
	}
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if !d.trusted(peer.Addr()) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	var addrs []string
	for _, h := range hops {
		addrs = append(addrs, strings.Split(h, ",")...)
	}
	for i, n := len(addrs)-1, 0; i >= 0 && n < maxForwardedHops; i, n = i-1, n+1 {
		s := strings.TrimSpace(addrs[i])
		if host, _, err := net.SplitHostPort(s); err == nil {
			s = host
		}
		a, err := netip.ParseAddr(strings.Trim(s, "[]"))
		if err != nil {
			return netip.AddrPort{} // a garbled header from our own proxy: refuse
		}
		a = a.Unmap()
		if !d.trusted(a) {
			return netip.AddrPortFrom(a, 0)
		}
	}
	return peer
}

func (d *dohHandler) trusted(a netip.Addr) bool {
	for _, p := range d.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// minReplyTTL is the freshness lifetime of a reply (RFC 8484 §5.1): the
// smallest TTL of its records (the OPT record aside), where an SOA counts
// with the smaller of its TTL and its MINIMUM field, the negative-caching
// TTL of RFC 2308 §5, so that a negative answer is not kept by HTTP caches
// longer than a resolver would keep it. A reply without records (an
// error) has 0: it is not to be cached.
func minReplyTTL(b []byte) uint32 {
	var ttl uint32
	seen := false
	rrWalk(b, func(off int, typ uint16) {
		if typ == typeOPT {
			return
		}
		t := binary.BigEndian.Uint32(b[off:])
		if typ == typeSOA {
			// RDATA is MNAME RNAME SERIAL REFRESH RETRY EXPIRE
			// MINIMUM: MINIMUM is its last four octets.
			rdlen := int(binary.BigEndian.Uint16(b[off+4:]))
			if end := off + 6 + rdlen; rdlen >= soaMinRDLen && end <= len(b) {
				t = min(t, binary.BigEndian.Uint32(b[end-4:]))
			}
		}
		if !seen || t < ttl {
			ttl, seen = t, true
		}
	})
	return ttl
}

// soaMinRDLen is the shortest SOA RDATA: two root names (one octet each)
// and five 32-bit fields.
const soaMinRDLen = 2 + 5*4
