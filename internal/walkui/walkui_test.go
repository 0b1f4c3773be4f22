package walkui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/walkview"
	"github.com/addrwalk/addrwalk/resolver"
)

func record(r *Ring, name string) {
	res := &resolver.Result{Name: name, Type: dns.TypeA, Rcode: dns.RcodeSuccess, Trace: &resolver.Trace{Name: name, Type: "A"}}
	r.Record(netip.MustParseAddrPort("127.0.0.1:5300"), "udp", name, dns.TypeA, res, nil)
}

type summaryView struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
}

// TestRing keeps the newest resolutions, newest first, and forgets the
// oldest when full.
func TestRing(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := NewRing(3, func() time.Time { return fixed })
	for _, n := range []string{"a.example.", "b.example.", "c.example.", "d.example."} {
		record(r, n)
	}
	var got []string
	for _, v := range r.List() {
		got = append(got, v.Name)
	}
	if d := cmp.Diff([]string{"d.example.", "c.example.", "b.example."}, got); d != "" {
		t.Errorf("List (-want +got):\n%s", d)
	}
	if r.Get(1) != nil {
		t.Error("the oldest resolution is still kept")
	}
	v := r.Get(4)
	if v == nil || v.Name != "d.example." || v.Client != "127.0.0.1 (udp)" || !v.When.Equal(fixed) {
		t.Errorf("Get(4) = %+v", v)
	}
}

// TestRingConvertsOnDemand: a resolution recorded while no page follows
// is kept as the resolver gave it and converted when first shown, once;
// one recorded while a page follows is converted at once. Both give the
// same page form.
func TestRingConvertsOnDemand(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		follow bool
	}{
		{"nobody follows", false},
		{"a page follows", true},
	}
	var views []*walkview.Resolution
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(4, func() time.Time { return fixed })
			var s *subscriber
			if tt.follow {
				var ok bool
				if s, ok = r.subscribe(); !ok {
					t.Fatal("subscribe refused")
				}
				defer r.unsubscribe(s)
			}
			record(r, "www.example.org.")
			if got := r.buf[0].view != nil; got != tt.follow {
				t.Errorf("converted at once = %v, want %v", got, tt.follow)
			}
			first := r.Get(1)
			if first == nil {
				t.Fatal("Get(1) = nil")
			}
			if again := r.List()[0]; again != first {
				t.Error("List converted the resolution again")
			}
			if r.buf[0].res != nil {
				t.Error("the resolver's result is still held after conversion")
			}
			if tt.follow {
				if got := <-s.ch; got != first {
					t.Error("the live page got another copy")
				}
			}
			views = append(views, first)
		})
	}
	if len(views) == 2 {
		if d := cmp.Diff(views[0], views[1]); d != "" {
			t.Errorf("page form differs by when it was converted (-later +live):\n%s", d)
		}
	}
}

// serve runs the handler on a loopback test server.
func serve(t *testing.T, r *Ring) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(r))
	t.Cleanup(srv.Close)
	return srv
}

func TestRoutes(t *testing.T) {
	r := NewRing(8, nil)
	record(r, "www.example.org.")
	srv := serve(t, r)
	cases := []struct {
		name, path, host string
		code             int
		ctype, contains  string
	}{
		{"page", "/ui/", "", 200, "text/html", `<ul id="list"`},
		{"script", "/ui/assets/app.js", "", 200, "javascript", "EventSource"},
		{"style", "/ui/assets/app.css", "", 200, "text/css", "#list"},
		{"list", "/ui/api/resolutions", "", 200, "application/json", `"name":"www.example.org."`},
		{"svg", "/ui/api/resolutions/1/svg", "", 200, "image/svg+xml", `class="walkview"`},
		{"gone", "/ui/api/resolutions/99/svg", "", 404, "", "left the ring"},
		{"bad id", "/ui/api/resolutions/x/svg", "", 404, "", ""},
		{"rebinding host", "/ui/", "attacker.example", 403, "", "loopback only"},
		{"localhost", "/ui/", "localhost:8080", 200, "text/html", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.code, body)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(string(body), tc.contains) {
				t.Errorf("Content-Type %q, body lacks %q:\n%.300s", resp.Header.Get("Content-Type"), tc.contains, body)
			}
		})
	}
}

// TestGuardPeers refuses peers off loopback, whatever the listener.
func TestGuardPeers(t *testing.T) {
	h := Handler(NewRing(1, nil))
	for _, tc := range []struct {
		remote string
		code   int
	}{{"127.0.0.1:4000", 200}, {"[::1]:4000", 200}, {"192.0.2.7:4000", 403}, {"[2001:db8::1]:4000", 403}} {
		req := httptest.NewRequest("GET", "http://127.0.0.1/ui/", nil)
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Errorf("peer %s: status %d, want %d", tc.remote, rec.Code, tc.code)
		}
	}
}

// TestEvents streams a resolution recorded after the page subscribed.
func TestEvents(t *testing.T) {
	r := NewRing(8, nil)
	srv := serve(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/ui/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	// The stream's first comment says it is live: the subscription exists.
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ": live\n" {
			break
		}
	}
	record(r, "live.example.org.")
	var event string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "event: ") {
			event = strings.TrimSpace(strings.TrimPrefix(line, "event: "))
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var v summaryView
			if err := json.Unmarshal([]byte(data), &v); err != nil {
				t.Fatal(err)
			}
			if event != "resolution" || v.Name != "live.example.org." || v.ID != 1 {
				t.Errorf("event %q, data %+v", event, v)
			}
			return
		}
	}
}

// TestSubscriberLimit bounds live pages, and a slow one is told it missed
// resolutions instead of blocking the server.
func TestSubscriberLimit(t *testing.T) {
	r := NewRing(8, nil)
	var subs []*subscriber
	for i := 0; i < maxSubscribers; i++ {
		s, ok := r.subscribe()
		if !ok {
			t.Fatalf("subscriber %d refused", i)
		}
		subs = append(subs, s)
	}
	if _, ok := r.subscribe(); ok {
		t.Error("one subscriber too many was accepted")
	}
	for i := 0; i < subscriberBuffer+5; i++ {
		record(r, fmt.Sprintf("n%d.example.", i))
	}
	if !r.takeMissed(subs[0]) || r.takeMissed(subs[0]) {
		t.Error("a full subscriber is not told once that it missed resolutions")
	}
	r.unsubscribe(subs[0])
	if _, ok := r.subscribe(); !ok {
		t.Error("a freed slot is not reused")
	}
}
