package walkview

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/resolver"
)

// wellFormed fails t unless s parses as XML.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

// TestHostileText draws names and texts that could break the markup:
// XML metacharacters, control octets, invalid UTF-8 and very long labels.
func TestHostileText(t *testing.T) {
	cases := []struct{ name, text string }{
		{"metacharacters", `<script>alert("x")</script>&amp;'`},
		{"control octets", "a\x00b\x01c\x1fd"},
		{"invalid utf-8", "caf\xc3"},
		{"long", strings.Repeat("x", 5000)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			step := &resolver.Step{Event: resolver.Event{Kind: resolver.EventQuery, Zone: tc.text, Name: tc.text, Type: "A",
				Server: tc.text, Why: tc.text, Transport: "udp", RTT: time.Millisecond, Outcome: tc.text, Detail: tc.text, Err: tc.text,
				Referral: &resolver.ReferralInfo{Zone: tc.text, NS: []string{tc.text}, IgnoredGlue: []string{tc.text}}}}
			sub := &resolver.Step{Event: resolver.Event{Kind: resolver.EventSubBegin, Name: tc.text, Zone: tc.text}, Steps: []*resolver.Step{step}}
			val := &resolver.Step{Event: resolver.Event{Kind: resolver.EventValidate, DNSSEC: &resolver.DNSSECInfo{Zone: tc.text,
				Status: "Bogus", Reason: tc.text, DS: []string{tc.text}, DNSKEY: []string{tc.text}, Signatures: []string{tc.text}}}}
			r := &Resolution{Name: tc.text, Type: "A", Rcode: "SERVFAIL", Error: tc.text, Answer: []string{tc.text},
				Trace: &resolver.Trace{Steps: []*resolver.Step{step, sub, val,
					{Event: resolver.Event{Kind: resolver.EventRestart, Name: tc.text, Target: tc.text}}}}}
			svg := Render(r)
			wellFormed(t, svg)
			if strings.Contains(svg, "<script>") {
				t.Error("a name became markup")
			}
			var b strings.Builder
			if err := HTML(&b, tc.text, []*Resolution{r}); err != nil {
				t.Fatal(err)
			}
			if strings.Count(b.String(), "<script>") != 1 {
				t.Error("the page holds a script besides its own")
			}
		})
	}
}

// TestNoTrace draws a resolution without a trace (a cache-only answer).
func TestNoTrace(t *testing.T) {
	svg := Render(&Resolution{Name: "www.example.org.", Type: "A", Rcode: "NOERROR", Answer: []string{"www.example.org. 60 IN A 192.0.2.1"}})
	wellFormed(t, svg)
	if !strings.Contains(svg, `class="result rcode-noerror"`) {
		t.Errorf("no result box:\n%s", svg)
	}
}

// TestHTMLOffline checks that the page fetches nothing: no src or href to
// anything but the page itself.
func TestHTMLOffline(t *testing.T) {
	var b strings.Builder
	if err := HTML(&b, "t", []*Resolution{{Name: "a.", Type: "A", Rcode: "NOERROR"}, {Name: "b.", Type: "A", Rcode: "NOERROR"}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"src=", "href=\"http", "@import", "url(http"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("the page refers outside itself: %q", bad)
		}
	}
}
