package zoneerr

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		name, text, file, want string
	}{
		{"bad TTL in a file", "garbage here\n", "hints.txt", `hints.txt:1:12: not a TTL (at "here")`},
		{"second line", ". 3600 IN NS a.\na. 3600 IN A 300.1.1.1\n", "f", `f:2:22: bad A record data (at "300.1.1.1")`},
		{"one record, no file", "x. 60 IN MX pref x.", "", `column 17: bad MX Pref (at "pref")`},
		{"several lines, no file", "\n\nx. 60 IN NOSUCH 1\n", "", `line 3, column 16: unknown RR type (at "NOSUCH")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zp := dns.NewZoneParser(strings.NewReader(tt.text), ".", "parser-name")
			for _, ok := zp.Next(); ok; _, ok = zp.Next() {
			}
			err := Explain(zp.Err(), tt.file)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("Explain (-want +got):\n%s", diff)
			}
			var pe *dns.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("the parser's error is not wrapped")
			}
		})
	}
	other := errors.New("not a parse error")
	if got := Explain(other, "f"); got != other {
		t.Errorf("Explain(other) = %v, want it unchanged", got)
	}
}
