package server_test

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver"
	"github.com/addrwalk/addrwalk/server"
)

// sink records what the handler gives a TraceSink.
type sink struct {
	mu   sync.Mutex
	got  []string
	deep bool // every record came with a trace
}

func (s *sink) Record(client netip.AddrPort, transport, name string, qtype uint16, res *resolver.Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, client.Addr().String()+" "+transport+" "+name+" "+dns.TypeToString[qtype])
	if res == nil || res.Trace == nil {
		s.deep = false
	}
}

// TestTraceSink: each resolution reaches the sink once with its trace;
// a packet-cache answer runs no resolution and is not recorded.
func TestTraceSink(t *testing.T) {
	lab := startLab(t)
	s := &sink{deep: true}
	h := newHandler(t, lab, func(c *server.HandlerConfig) { c.Traces = s })
	for range 2 {
		handle(t, h, loopClient, pack(t, question("www.example.org.", dns.TypeA)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) != 1 || s.got[0] != "127.0.0.1 udp www.example.org. A" || !s.deep {
		t.Errorf("sink got %q (all traced: %v), want one traced www.example.org. A", s.got, s.deep)
	}
}

// TestServeDebugShutdown: a long-lived response (a live page's event
// stream) ends when Shutdown starts instead of holding it up.
func TestServeDebugShutdown(t *testing.T) {
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
	})
	d, err := server.ServeDebug(context.Background(), listenAddr(), mux)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		resp, err := http.Get("http://" + d.Addr().String() + "/stream")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with an open stream: %v", err)
	}
}
