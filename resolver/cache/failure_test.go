package cache

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"
)

func TestFailureWindow(t *testing.T) {
	errServFail := errors.New("SERVFAIL from all servers")
	tests := []struct {
		name  string
		cfg   Config
		at    time.Duration
		want  FailureHit
		found bool

		bogus bool // marked with MarkBogus
	}{
		{"at once", Config{}, 0, FailureHit{Err: errServFail, Remaining: 5 * time.Second, TTL: 5 * time.Second}, true, false},
		{"just before the default 5s", Config{}, 4999 * time.Millisecond, FailureHit{Err: errServFail, Remaining: time.Millisecond, TTL: 5 * time.Second}, true, false},
		{"after the default 5s", Config{}, 5 * time.Second, FailureHit{}, false, false},
		{"configured 1s", Config{FailureTTL: time.Second}, time.Second, FailureHit{}, false, false},
		{"configured 5min", Config{FailureTTL: 5 * time.Minute}, 4 * time.Minute, FailureHit{Err: errServFail, Remaining: time.Minute, TTL: 5 * time.Minute}, true, false},
		{"bogus: the default 60s, not FailureTTL", Config{FailureTTL: time.Second}, 59 * time.Second, FailureHit{Err: errServFail, Remaining: time.Second, TTL: time.Minute}, true, true},
		{"bogus: after the default 60s", Config{}, time.Minute, FailureHit{}, false, true},
		{"bogus: configured 2s", Config{BogusTTL: 2 * time.Second}, 2 * time.Second, FailureHit{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache(t, tt.cfg)
			mark := c.MarkFailed
			if tt.bogus {
				mark = c.MarkBogus
			}
			if err := mark("Fail.example.org", dns.TypeA, dns.ClassINET, errServFail); err != nil {
				t.Fatal(err)
			}
			clk.Advance(tt.at)
			got, ok := c.Failed("fail.example.org.", dns.TypeA, dns.ClassINET)
			if ok != tt.found {
				t.Fatalf("Failed = %v, want %v", ok, tt.found)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Failed (-want +got):\n%s", diff)
			}
			if _, ok := c.Failed("fail.example.org.", dns.TypeAAAA, dns.ClassINET); ok {
				t.Error("failure of A reported for AAAA")
			}
		})
	}
}

func TestClearFailed(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	if err := c.MarkFailed("fail.example.org.", dns.TypeA, dns.ClassINET, nil); err != nil {
		t.Fatal(err)
	}
	c.ClearFailed("fail.example.org.", dns.TypeA, dns.ClassINET)
	if _, ok := c.Failed("fail.example.org.", dns.TypeA, dns.ClassINET); ok {
		t.Error("failure remembered after ClearFailed")
	}
	if err := c.MarkFailed("", dns.TypeA, dns.ClassINET, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("MarkFailed(\"\") error = %v, want ErrInvalid", err)
	}
}
