package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/report/reporttest"
	"github.com/addrwalk/addrwalk/server"
)

func TestReloadKeepsCacheAndSwapsACL(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	s := startServer(t, h, nil)
	addr := s.Addrs()[0]
	q := question("www.example.org.", dns.TypeA)
	exchange(t, addr, "udp", q)
	// From here every lab server is dead, so only the cache can answer q.
	// (Counting upstream queries instead failed once on a loaded machine;
	// a count can move after the answer, when a retry of a query
	// answered late reaches the lab after the count is taken.)
	dropAll(lab, true)

	st := h.Settings()
	st.KeepAnswers = true
	local := server.NewLocal()
	if err := local.AddRecord("new.example.org. 60 IN A 192.0.2.99"); err != nil {
		t.Fatal(err)
	}
	st.Local = local
	if err := h.Reload(st); err != nil {
		t.Fatal(err)
	}
	if r := exchange(t, addr, "udp", q); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("after reload, with every upstream dead: %s %v; want the cached answer", dns.RcodeToString[r.Rcode], r.Answer)
	}
	if r := exchange(t, addr, "udp", question("new.example.org.", dns.TypeA)); len(r.Answer) != 1 {
		t.Errorf("new local data not served: %v", r.Answer)
	}

	// Allow adds to loopback; loopback is refused only when denied.
	st.ACL = server.ACL{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	if err := h.Reload(st); err != nil {
		t.Fatal(err)
	}
	if r := exchange(t, addr, "udp", q); r.Rcode != dns.RcodeSuccess {
		t.Errorf("after allowing 192.0.2.0/24: %s, want loopback still served", dns.RcodeToString[r.Rcode])
	}
	st.ACL.Deny = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	if err := h.Reload(st); err != nil {
		t.Fatal(err)
	}
	if r := exchange(t, addr, "udp", q); r.Rcode != dns.RcodeRefused {
		t.Errorf("after denying loopback: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
	st.Resolver = nil
	if err := h.Reload(st); err == nil {
		t.Errorf("Reload without resolver succeeded")
	}
}

func TestShutdownFinishesQueriesInFlight(t *testing.T) {
	lab := startLab(t)
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(300 * time.Millisecond))
	h := newHandler(t, lab, nil)
	s := startServer(t, h, nil)
	addr := s.Addrs()[0]
	type result struct {
		m   *dns.Msg
		err error
	}
	results := make(chan result, 2)
	names := map[string]string{"udp": "a.slow.org.", "tcp": "b.slow.org."}
	for network, name := range names {
		go func() {
			c := &dns.Client{Net: network, Timeout: 5 * time.Second}
			m, _, err := c.Exchange(question(name, dns.TypeA), addr.String())
			results <- result{m, err}
		}()
	}
	// Both resolutions are in flight once the slow server saw both names.
	seen := map[string]bool{}
	for len(seen) < len(names) {
		n := strings.ToLower(<-lab.arrived)
		if n == names["udp"] || n == names["tcp"] {
			seen[n] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 2 {
		r := <-results
		if r.err != nil || r.m.Rcode != dns.RcodeSuccess || len(r.m.Answer) != 1 {
			t.Errorf("query in flight during shutdown: %v %v", r.m, r.err)
		}
	}
	// New queries are not served.
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	if _, _, err := c.Exchange(question("www.example.org.", dns.TypeA), addr.String()); err == nil {
		t.Errorf("query after shutdown answered")
	}
}

func TestTCPPipeliningOutOfOrder(t *testing.T) {
	lab := startLab(t)
	lab.Server("ns1.slow.org.").SetFaults(slowFaults(500 * time.Millisecond))
	h := newHandler(t, lab, nil)
	addr := startServer(t, h, nil).Addrs()[0]
	conn, err := dns.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	slow := question("a.slow.org.", dns.TypeA)
	fast := question("www.example.org.", dns.TypeA)
	fast.Id = slow.Id + 1
	for _, m := range []*dns.Msg{slow, fast} {
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	for range 2 {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, err := conn.ReadMsg()
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, r.Question[0].Name)
	}
	if diff := cmp.Diff([]string{"www.example.org.", "a.slow.org."}, order); diff != "" {
		t.Errorf("reply order (-want +got):\n%s", diff)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestTCPSlowClient(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	addr := startServer(t, h, func(c *server.Config) {
		c.TCPReadTimeout = 100 * time.Millisecond
		c.TCPIdleTimeout = 200 * time.Millisecond
	}).Addrs()[0]
	tests := []struct {
		name string
		send []byte
	}{
		{"idle", nil},
		{"stalls inside a message", []byte{0, 40, 0x12, 0x34}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Read(make([]byte, 1))
			if !errors.Is(err, io.EOF) && !isReset(err) {
				t.Fatalf("read error %v, want the server to close", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("closed after %v", d)
			}
		})
	}
}

func TestBindErrors(t *testing.T) {
	lab := startLab(t)
	h := newHandler(t, lab, nil)
	s := startServer(t, h, nil)
	busy := s.Addrs()[0]
	s2, err := server.New(server.Config{Listen: []netip.AddrPort{listenAddr(), busy}, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	err = s2.Start(t.Context())
	want := "server: cannot listen on tcp " + busy.String() + ": the port is in use by another program (see 'ss -lntup')"
	if err == nil || err.Error() != want {
		t.Fatalf("Start on a busy address: %v, want %q", err, want)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("errors.Is(%v, EADDRINUSE) = false", err)
	}
}

func TestMetricsAndDebug(t *testing.T) {
	lab := startLab(t)
	m := server.NewMetrics()
	res := newResolver(t, lab, nil)
	_ = res
	h := newHandler(t, lab, func(c *server.HandlerConfig) {
		c.Metrics = m
	})
	m.SetCacheSource(res)
	for range 2 {
		handle(t, h, loopClient, pack(t, question("www.example.org.", dns.TypeA)))
	}
	handle(t, h, "192.0.2.1:1", pack(t, question("www.example.org.", dns.TypeA)))
	dbg := server.DebugHandler(h, m)

	rec := httptest.NewRecorder()
	dbg.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`addrwalk_queries_total{cached="true",rcode="NOERROR",transport="udp",type="A"} 1`,
		`addrwalk_queries_total{cached="false",rcode="REFUSED",transport="udp",type="A"} 1`,
		`addrwalk_packet_cache_entries 1`,
		`addrwalk_resolutions_in_flight 0`,
		`addrwalk_cache_entries`,
		`addrwalk_cache_part_entries{part="packet"} 1`,
		`addrwalk_cache_part_bytes{part="packet"} `,
		`addrwalk_cache_part_entries{part="rrset"} `,
		`addrwalk_cache_part_bytes{part="negative"} `,
		`addrwalk_cache_part_bytes{part="failure"} `,
		`addrwalk_cache_part_bytes{part="nsec"} `,
		`addrwalk_cache_part_bytes{part="infra"} `,
		`addrwalk_cache_part_entries{part="inflight"} 0`,
		`addrwalk_cache_part_bytes{part="inflight"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	rec = httptest.NewRecorder()
	dbg.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/trace?name=www.example.org&type=AAAA", nil))
	var tr struct {
		Rcode      string         `json:"rcode"`
		Answer     []string       `json:"answer"`
		Trace      map[string]any `json:"trace"`
		DurationMS float64        `json:"duration_ms"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("trace: %d %v %s", rec.Code, err, rec.Body)
	}
	if tr.Rcode != "NOERROR" || len(tr.Answer) != 1 || tr.Trace == nil || strings.Contains(tr.Answer[0], "\t") {
		t.Errorf("trace reply: %+v", tr)
	}
	reporttest.Validate(t, reporttest.Resolution, rec.Body.Bytes())

	for _, q := range []string{"name=www.example.org&type=AXFR", "name=www.example.org&type=BOGUS", "name=a..b"} {
		rec = httptest.NewRecorder()
		dbg.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/trace?"+q, nil))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("/debug/trace?%s: %d, want 400", q, rec.Code)
		}
	}

	rec = httptest.NewRecorder()
	dbg.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/trace?name=", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("trace without name: %d", rec.Code)
	}

	rec = httptest.NewRecorder()
	dbg.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/infra", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"addr": "127.54.`) || !strings.Contains(rec.Body.String(), `"srtt_ms": `) {
		t.Errorf("infra: %d %s", rec.Code, rec.Body)
	}
	reporttest.Validate(t, reporttest.Infra, rec.Body.Bytes())

	h2, err := server.NewHandler(server.HandlerConfig{Settings: server.Settings{Resolver: echoResolver{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	rec = httptest.NewRecorder()
	server.DebugHandler(h2, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/debug/infra", nil))
	if rec.Code != http.StatusNotImplemented {
		t.Errorf("infra without table: %d, want 501", rec.Code)
	}
}
