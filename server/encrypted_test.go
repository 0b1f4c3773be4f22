package server_test

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/tlscert"
	"github.com/addrwalk/addrwalk/server"
)

// encryptedLab is a server with DoT and DoH listeners whose certificate
// is issued by a test CA.
type encryptedLab struct {
	srv      *server.Server
	metrics  *server.Metrics
	dot, doh netip.AddrPort
	plain    netip.AddrPort
	roots    *tls.Config // a client configuration trusting the test CA
}

func startEncrypted(t *testing.T, mod func(*server.Config)) *encryptedLab {
	t.Helper()
	lab := startLab(t)
	m := server.NewMetrics()
	h := newHandler(t, lab, func(c *server.HandlerConfig) { c.Metrics = m })
	now := time.Now()
	ca, err := tlscert.NewCA("addrwalk test CA", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	addr := listenAddr()
	leaf, err := ca.Issue([]string{"dns.example.org", addr.Addr().String()}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, h, func(c *server.Config) {
		c.Listen = []netip.AddrPort{addr}
		c.Encrypted = server.EncryptedConfig{
			DoT: []netip.AddrPort{addr}, DoH: []netip.AddrPort{addr},
			TLS: &tls.Config{Certificates: []tls.Certificate{leaf.TLS}},
		}
		if mod != nil {
			mod(c)
		}
	})
	dot, doh := srv.EncryptedAddrs()
	return &encryptedLab{srv: srv, metrics: m, dot: dot[0], doh: doh[0], plain: srv.Addrs()[0],
		roots: &tls.Config{RootCAs: ca.Pool(), ServerName: "dns.example.org"}}
}

func (l *encryptedLab) dotExchange(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	r := new(dns.Msg)
	if err := r.Unpack(l.dotRaw(t, m)); err != nil {
		t.Fatal(err)
	}
	return r
}

// dotRaw sends m over a new DoT connection and returns the reply's wire
// bytes as the server sent them.
func (l *encryptedLab) dotRaw(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	conn, err := tls.Dial("tcp", l.dot.String(), l.roots)
	if err != nil {
		t.Fatalf("DoT dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(frame(pack(t, m))); err != nil {
		t.Fatal(err)
	}
	var n [2]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		t.Fatalf("DoT read: %v", err)
	}
	b := make([]byte, int(n[0])<<8|int(n[1]))
	if _, err := io.ReadFull(conn, b); err != nil {
		t.Fatalf("DoT read: %v", err)
	}
	return b
}

// httpClient speaks HTTP/2 when h2 is set, else HTTP/1.1 only.
func (l *encryptedLab) httpClient(h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: l.roots.Clone(), ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func (l *encryptedLab) url(path string) string { return "https://" + l.doh.String() + path }

func TestDoT(t *testing.T) {
	l := startEncrypted(t, nil)
	r := l.dotExchange(t, question("www.example.org.", dns.TypeA))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("DoT www A: %v", r)
	}
	// Pipelining on one connection, as over TCP (RFC 7858 §3.3).
	conn, err := tls.Dial("tcp", l.dot.String(), l.roots)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().NegotiatedProtocol; got != "" && got != "dot" {
		t.Errorf("ALPN %q", got)
	}
	dc := &dns.Conn{Conn: conn}
	for i, name := range []string{"www.example.org.", "alias.example.org.", "www.example.org."} {
		q := question(name, dns.TypeA)
		q.Id = uint16(100 + i)
		if err := dc.WriteMsg(q); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[uint16]bool{}
	for range 3 {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, err := dc.ReadMsg()
		if err != nil {
			t.Fatal(err)
		}
		seen[r.Id] = true
	}
	if len(seen) != 3 {
		t.Errorf("pipelined replies: %v", seen)
	}
	if got := counterFor(t, l.metrics, "dot").total(); got < 4 {
		t.Errorf("dot queries counted %v, want >= 4", got)
	}
}

// counterFor sums addrwalk_queries_total for one transport.
func counterFor(t *testing.T, m *server.Metrics, transport string) *sumCollector {
	t.Helper()
	return &sumCollector{m: m, transport: transport, t: t}
}

type sumCollector struct {
	m         *server.Metrics
	transport string
	t         *testing.T
}

func (s *sumCollector) total() float64 {
	fams, err := s.m.Registry().Gather()
	if err != nil {
		s.t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != "addrwalk_queries_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if lp.GetName() == "transport" && lp.GetValue() == s.transport {
					sum += mt.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestDoHMethodsAndProtocols(t *testing.T) {
	l := startEncrypted(t, nil)
	q := question("www.example.org.", dns.TypeA)
	q.Id = 0 // RFC 8484 §4.1: 0 makes GET responses cacheable
	wire := pack(t, q)
	get := l.url("/dns-query?dns=" + base64.RawURLEncoding.EncodeToString(wire))
	for _, h2 := range []bool{true, false} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(fmt.Sprintf("%s h2=%v", method, h2), func(t *testing.T) {
				var req *http.Request
				if method == "GET" {
					req, _ = http.NewRequest("GET", get, nil)
				} else {
					req, _ = http.NewRequest("POST", l.url("/dns-query"), bytes.NewReader(wire))
					req.Header.Set("Content-Type", "application/dns-message")
				}
				resp, err := l.httpClient(h2).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				wantProto := 1
				if h2 {
					wantProto = 2
				}
				if resp.ProtoMajor != wantProto || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/dns-message" {
					t.Fatalf("%s %d %q", resp.Proto, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				r := new(dns.Msg)
				if err := r.Unpack(body); err != nil || len(r.Answer) != 1 {
					t.Fatalf("reply %v %v", r, err)
				}
				cc := resp.Header.Get("Cache-Control")
				var maxAge uint32
				if _, err := fmt.Sscanf(cc, "max-age=%d", &maxAge); err != nil || maxAge == 0 || maxAge > r.Answer[0].Header().Ttl {
					t.Errorf("Cache-Control %q with answer TTL %d", cc, r.Answer[0].Header().Ttl)
				}
			})
		}
	}
	if got := counterFor(t, l.metrics, "doh").total(); got != 4 {
		t.Errorf("doh queries counted %v, want 4", got)
	}
}

func TestDoHBadRequests(t *testing.T) {
	l := startEncrypted(t, nil)
	wire := pack(t, question("www.example.org.", dns.TypeA))
	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		want                      int
	}{
		{"wrong path", "GET", "/resolve?dns=" + base64.RawURLEncoding.EncodeToString(wire), "", nil, 404},
		{"no dns parameter", "GET", "/dns-query", "", nil, 400},
		{"not base64url", "GET", "/dns-query?dns=%%%", "", nil, 400},
		{"base64 of garbage", "GET", "/dns-query?dns=AAAA", "", nil, 400},
		{"wrong media type", "POST", "/dns-query", "application/json", wire, 415},
		{"no media type", "POST", "/dns-query", "", wire, 415},
		{"body too large", "POST", "/dns-query", "application/dns-message", make([]byte, 70000), 413},
		{"empty body", "POST", "/dns-query", "application/dns-message", nil, 400},
		{"wrong method", "PUT", "/dns-query", "application/dns-message", wire, 405},
	}
	c := l.httpClient(true)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, l.url(tt.path), bytes.NewReader(tt.body))
			if err != nil {
				req, _ = http.NewRequest(tt.method, l.url("/dns-query"), nil)
				req.URL.RawQuery = strings.TrimPrefix(tt.path, "/dns-query?")
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestDoHClientAddressAndACL(t *testing.T) {
	// The lab server is on 127.55.x.y; loopback is allowed, 192.0.2.0/24
	// is not. 127.0.0.0/8 is a trusted proxy in the second case.
	wire := pack(t, question("www.example.org.", dns.TypeA))
	tests := []struct {
		name    string
		proxies []netip.Prefix
		xff     string
		want    int
	}{
		{"no header", nil, "", dns.RcodeSuccess},
		{"header from an untrusted peer is ignored", nil, "192.0.2.1", dns.RcodeSuccess},
		{"trusted proxy names a refused client", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "127.0.0.9, 192.0.2.1", dns.RcodeRefused},
		{"trusted proxy chain of loopback", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "127.0.0.9", dns.RcodeSuccess},
		{"garbled header from a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "not-an-ip", dns.RcodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := startEncrypted(t, func(c *server.Config) { c.Encrypted.DoHTrustedProxies = tt.proxies })
			req, _ := http.NewRequest("POST", l.url("/dns-query"), bytes.NewReader(wire))
			req.Header.Set("Content-Type", "application/dns-message")
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			resp, err := l.httpClient(true).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := new(dns.Msg)
			if err := r.Unpack(body); err != nil {
				t.Fatalf("status %d: %v", resp.StatusCode, err)
			}
			if r.Rcode != tt.want {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.want])
			}
		})
	}
}

// TestEncryptedPadding checks RFC 7830/8467: replies to padded queries
// over DoT and DoH are padded to a multiple of 468 octets; plain TCP and
// unpadded queries are not.
func TestEncryptedPadding(t *testing.T) {
	l := startEncrypted(t, nil)
	padded := func() *dns.Msg {
		m := withEDNS(question("www.example.org.", dns.TypeA), 1232, false)
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 128-m.Len()-4)})
		return m
	}
	hasPad := func(r *dns.Msg) bool {
		if opt := r.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if o.Option() == dns.EDNS0PADDING {
					return true
				}
			}
		}
		return false
	}
	raw := l.dotRaw(t, padded())
	if r := l.dotExchange(t, padded()); !hasPad(r) || len(raw)%468 != 0 {
		t.Errorf("DoT padded query: reply of %d octets, padding %v; want a multiple of 468", len(raw), hasPad(r))
	}
	if r := l.dotExchange(t, withEDNS(question("www.example.org.", dns.TypeA), 1232, false)); hasPad(r) {
		t.Error("DoT reply to an unpadded query is padded")
	}
	if r := exchange(t, l.plain, "tcp", padded()); hasPad(r) {
		t.Error("plain TCP reply is padded")
	}
	req, _ := http.NewRequest("POST", l.url("/dns-query"), bytes.NewReader(pack(t, padded())))
	req.Header.Set("Content-Type", "application/dns-message")
	resp, err := l.httpClient(true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(body)%468 != 0 {
		t.Errorf("DoH padded reply is %d octets", len(body))
	}
	// A refusal (a short reply) is padded too.
	q := padded()
	q.Question[0].Qtype = dns.TypeAXFR
	if raw := l.dotRaw(t, q); len(raw)%468 != 0 || l.dotExchange(t, q).Rcode != dns.RcodeRefused {
		t.Errorf("DoT refusal: %d octets", len(raw))
	}
}

func TestEncryptedNeedsCertificate(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	s, err := server.New(server.Config{Listen: []netip.AddrPort{listenAddr()}, Handler: h,
		Encrypted: server.EncryptedConfig{DoT: []netip.AddrPort{listenAddr()}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); !errors.Is(err, server.ErrNoCertificate) {
		t.Fatalf("Start without a certificate: %v", err)
	}
}
