package resolver

import (
	"strings"
	"testing"
)

func TestDefaultHints(t *testing.T) {
	h := DefaultHints()
	if h.Zone != "." || len(h.Servers) != 13 {
		t.Fatalf("zone %q with %d servers, want . with 13", h.Zone, len(h.Servers))
	}
	for _, s := range h.Servers {
		var v4, v6 int
		for _, a := range s.Addrs {
			if a.Is4() {
				v4++
			} else {
				v6++
			}
		}
		if v4 != 1 || v6 != 1 {
			t.Errorf("%s: %d IPv4 and %d IPv6 addresses, want 1 and 1", s.Name, v4, v6)
		}
	}
}

func TestParseHintsErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"no NS", "a.root.lab. 3600 IN A 127.0.0.1\n", "no NS records"},
		{"no addresses", ". 3600 IN NS a.root.lab.\n", "no addresses"},
		{"two zones", ". 3600 IN NS a.root.lab.\norg. 3600 IN NS b.root.lab.\na.root.lab. 3600 IN A 127.0.0.1\n", "two zones"},
		{"syntax", ". 3600 IN NS\n", "hints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHints(strings.NewReader(tt.text), "test.hints")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
