package cli

import (
	"strings"
	"testing"
)

// TestParseNameEscapes: a name's final dot is the root's only when it is
// not escaped, and a trailing backslash that escapes nothing is refused
// (FuzzParseQuestion found "\0\" accepted as "\0\.", which is not fully
// qualified).
func TestParseNameEscapes(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"plain", "www.example.org", "www.example.org.", ""},
		{"root dot", "www.example.org.", "www.example.org.", ""},
		{"escaped dot in a label", `a\.b.example`, `a\.b.example.`, ""},
		{"escaped final dot", `a\.`, `a\..`, ""},
		{"escaped backslash", `a\\`, `a\\.`, ""},
		{"escaped backslash then root", `a\\.`, `a\\.`, ""},
		{"lone trailing backslash", `\0\`, "", "ends in a backslash that escapes nothing"},
		{"lone trailing backslash after a label", `www.example\`, "", "ends in a backslash that escapes nothing"},
		{"three backslashes", `a\\\`, "", "ends in a backslash that escapes nothing"},
		{"only a backslash", `\`, "", "ends in a backslash that escapes nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseName(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseName(%q) = %q, %v; want an error saying %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
