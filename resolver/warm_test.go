package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/resolver/dnssec"
)

// TestKeysFetchedWhileWalking: a validating resolution fetches the keys
// of the signed zones a referral leads to while the walk goes on, not
// after the answer. The transport holds the final question back until
// sub.example.org.'s DNSKEY question arrived: fetched after the answer,
// as before, it never would, and the held query times out.
func TestKeysFetchedWhileWalking(t *testing.T) {
	lab, hints := startSharedLab(t, []string{".", "org.", "example.org.", "sub.example.org."})
	anchors, err := dnssec.ParseAnchors(lab.TrustAnchor())
	if err != nil {
		t.Fatal(err)
	}
	keyAsked := make(chan struct{})
	var mu sync.Mutex // guards order, held and once
	var order []string
	held, once := "", false
	nx := &NetExchanger{}
	x := ExchangerFunc(func(ctx context.Context, q *dns.Msg, network string, server netip.AddrPort) (*dns.Msg, error) {
		if !server.Addr().IsLoopback() {
			return nil, fmt.Errorf("test: refusing to send to %s", server)
		}
		key := strings.ToLower(q.Question[0].Name) + " " + dns.TypeToString[q.Question[0].Qtype]
		mu.Lock()
		order = append(order, key)
		if key == "sub.example.org. DNSKEY" && !once {
			once = true
			close(keyAsked)
		}
		hold := key == "h1.sub.example.org. A" && held == ""
		if hold {
			held = "waiting"
		}
		mu.Unlock()
		if hold {
			select {
			case <-keyAsked:
				mu.Lock()
				held = "released by the DNSKEY question"
				mu.Unlock()
			case <-ctx.Done():
				mu.Lock()
				held = "timed out: no DNSKEY question while the answer was outstanding"
				mu.Unlock()
				return nil, ctx.Err()
			}
		}
		return nx.Exchange(ctx, q, network, server)
	})
	r, err := New(Config{Hints: hints, Port: lab.Port(), Exchanger: x, AllowLoopback: true, TrustAnchors: anchors})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(r.Close)
	res, err := r.Query(t.Context(), Request{Name: "h1.sub.example.org.", Type: dns.TypeA, Class: dns.ClassINET, DO: true})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "released by the DNSKEY question"; held != want {
		t.Errorf("the answer's query was %s, want %s; queries: %v", held, want, order)
	}
	if res.Security != dnssec.Secure {
		t.Errorf("security %v, want Secure", res.Security)
	}
	n := 0
	for _, k := range order {
		if k == "sub.example.org. DNSKEY" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("sub.example.org. DNSKEY asked %d times, want once; queries: %v", n, order)
	}
}
