package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/server"
)

// reasonResolver fails every question whose first label names an error.
type reasonResolver struct{ errs map[string]error }

func (r reasonResolver) Query(_ context.Context, req resolver.Request) (*resolver.Result, error) {
	label := strings.SplitN(req.Name, ".", 2)[0]
	if err, ok := r.errs[label]; ok {
		return nil, &resolver.Error{Name: req.Name, Type: req.Type, Err: err, EDE: dns.ExtendedErrorCodeOther}
	}
	return echoResolver{}.Query(context.Background(), req)
}

// logFields parses one slog text line into its key=value fields.
func logFields(line string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			out[k] = v
		}
	}
	return out
}

// TestQueryLogEveryReply checks that every kind of reply, the ones the
// edge makes itself included, gets one query-log line with its source and
// reason, and that resolver failures are counted under their reason.
func TestQueryLogEveryReply(t *testing.T) {
	var buf bytes.Buffer
	m := server.NewMetrics()
	h, err := server.NewHandler(server.HandlerConfig{
		Logger:  slog.New(slog.NewTextHandler(&buf, nil)),
		Metrics: m,
		Settings: server.Settings{QueryLog: true, Resolver: reasonResolver{errs: map[string]error{
			"bogus":    fmt.Errorf("%w: %w", resolver.ErrBogus, resolver.ErrMalformed),
			"sentinel": resolver.ErrSentinel,
			"timeout":  resolver.ErrTimeout,
			"cached":   fmt.Errorf("%w: %w", resolver.ErrCachedFailure, resolver.ErrLame),
		}}, RateLimit: server.RateLimit{QPS: 1, Burst: 1}},
		PacketCacheEntries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	notify := question("www.example.org.", dns.TypeSOA)
	notify.Opcode = dns.OpcodeNotify
	twoQ := question("www.example.org.", dns.TypeA)
	twoQ.Question = append(twoQ.Question, twoQ.Question[0])
	badVers := withEDNS(question("www.example.org.", dns.TypeA), 1232, false)
	badVers.IsEdns0().SetVersion(1)
	chaos := question("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS

	tests := []struct {
		name      string
		client    string
		transport server.Transport
		msg       *dns.Msg
		want      map[string]string
	}{
		{"answer", "127.1.0.1:1000", server.TransportUDP, question("www.example.org.", dns.TypeA),
			map[string]string{"rcode": "NOERROR", "source": "resolver"}},
		{"acl", "192.0.2.1:1000", server.TransportUDP, question("www.example.org.", dns.TypeA),
			map[string]string{"rcode": "REFUSED", "source": "server", "reason": "acl"}},
		{"opcode", "127.2.0.1:1000", server.TransportUDP, notify,
			map[string]string{"rcode": "NOTIMP", "source": "server", "reason": "opcode"}},
		{"formerr", "127.3.0.1:1000", server.TransportUDP, twoQ,
			map[string]string{"rcode": "FORMERR", "source": "server", "reason": "malformed"}},
		{"badvers", "127.4.0.1:1000", server.TransportUDP, badVers,
			map[string]string{"rcode": "BADVERS", "source": "server", "reason": "edns_version"}},
		{"class", "127.5.0.1:1000", server.TransportUDP, chaos,
			map[string]string{"rcode": "REFUSED", "source": "server", "reason": "class"}},
		{"meta type", "127.6.0.1:1000", server.TransportUDP, question("www.example.org.", dns.TypeMAILB),
			map[string]string{"rcode": "NOTIMP", "source": "server", "reason": "meta_type"}},
		{"zone transfer", "127.7.0.1:1000", server.TransportTCP, question("example.org.", dns.TypeAXFR),
			map[string]string{"rcode": "REFUSED", "source": "server", "reason": "zone_transfer", "transport": "tcp"}},
		{"bogus", "127.8.0.1:1000", server.TransportUDP, question("bogus.example.org.", dns.TypeA),
			map[string]string{"rcode": "SERVFAIL", "source": "resolver", "reason": "bogus"}},
		{"sentinel", "127.9.0.1:1000", server.TransportUDP, question("sentinel.example.org.", dns.TypeA),
			map[string]string{"rcode": "SERVFAIL", "source": "resolver", "reason": "sentinel"}},
		{"timeout", "127.10.0.1:1000", server.TransportUDP, question("timeout.example.org.", dns.TypeA),
			map[string]string{"rcode": "SERVFAIL", "source": "resolver", "reason": "timeout"}},
		{"cached failure keeps its reason", "127.11.0.1:1000", server.TransportUDP, question("cached.example.org.", dns.TypeA),
			map[string]string{"rcode": "SERVFAIL", "source": "resolver", "reason": "lame"}},
		// The second query of one client network in the same instant
		// (burst 1; "timeout" was the first): over TCP
		// the limit answers REFUSED (over UDP it drops, and logs nothing).
		{"rate limit", "127.10.0.1:1001", server.TransportTCP, question("www.example.org.", dns.TypeA),
			map[string]string{"rcode": "REFUSED", "source": "server", "reason": "ratelimit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			if _, ok := h.Handle(t.Context(), pack(t, tt.msg), netip.MustParseAddrPort(tt.client), tt.transport); !ok {
				t.Fatal("query dropped")
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("query log has %d lines, want 1:\n%s", len(lines), buf.String())
			}
			got := logFields(lines[0])
			want := map[string]string{"msg": "query", "client": tt.client, "transport": tt.transport.String()}
			for k, v := range tt.want {
				want[k] = v
			}
			if _, ok := tt.want["reason"]; !ok {
				want["reason"] = ""
			}
			sub := map[string]string{}
			for k := range want {
				sub[k] = got[k]
			}
			if diff := cmp.Diff(want, sub); diff != "" {
				t.Errorf("query log fields (-want +got):\n%s\nline: %s", diff, lines[0])
			}
		})
	}

	rec := httptest.NewRecorder()
	server.DebugHandler(h, m).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`addrwalk_servfail_total{reason="bogus"} 1`,
		`addrwalk_servfail_total{reason="sentinel"} 1`,
		`addrwalk_servfail_total{reason="timeout"} 1`,
		`addrwalk_servfail_total{reason="lame"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(rec.Body.String(), `addrwalk_servfail_total{reason="other"}`) {
		t.Errorf("a failure counted as other:\n%s", rec.Body.String())
	}
}

func TestTransportString(t *testing.T) {
	for tr, want := range map[server.Transport]string{
		server.TransportUDP: "udp", server.TransportTCP: "tcp", server.TransportTLS: "dot",
		server.TransportHTTPS: "doh", 0: "transport0", 9: "transport9",
	} {
		if got := tr.String(); got != want {
			t.Errorf("Transport(%d).String() = %q, want %q", tr, got, want)
		}
	}
}
