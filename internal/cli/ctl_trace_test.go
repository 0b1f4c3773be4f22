package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestCtlTrace turns tracing of a name on in a running serve, asks it
// more often than the count, and reads the walks back with trace-dump.
func TestCtlTrace(t *testing.T) {
	lab := startServeLab(t)
	s := startCtlServe(t, lab, "")
	run := func(t *testing.T, wantCode int, args ...string) string {
		t.Helper()
		code, out, errOut := s.ctl(t, "", args...)
		if code != wantCode {
			t.Fatalf("ctl %v: exit %d, want %d; %q %q", args, code, wantCode, out, errOut)
		}
		if wantCode != ExitOK {
			return errOut
		}
		return out
	}
	out := run(t, ExitOK, "trace-on", "www.example.org", "2")
	if !regexp.MustCompile(`^tracing www\.example\.org\.: the next 2 resolutions, until \S+Z \(10m0s\)\n$`).MatchString(out) {
		t.Errorf("trace-on said %q", out)
	}
	for range 3 {
		s.query(t, "www.example.org.", dns.TypeA)
	}
	s.query(t, "nope.example.org.", dns.TypeA) // not traced

	dump := run(t, ExitOK, "trace-dump")
	heads := regexp.MustCompile(`(?m)^#(\d+) \S+ (\S+) (\S+) from 127\.0\.0\.1 \(udp\): (\w+), (\d+) upstream queries`).FindAllStringSubmatch(dump, -1)
	var got [][]string
	for _, h := range heads {
		got = append(got, h[1:5])
	}
	want := [][]string{{"1", "www.example.org.", "A", "NOERROR"}, {"2", "www.example.org.", "A", "NOERROR"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded resolutions (-want +got):\n%s\n%s", diff, dump)
	}
	for _, w := range []string{
		"no name is traced", // the count was reached
		"why: ",             // the cold walk's upstream queries, with reasons
		"answer: www.example.org. 3600 IN A 192.0.2.10", // the answer
		"cache: ", // the second one came from the resolver's cache
	} {
		if !strings.Contains(dump, w) {
			t.Errorf("trace-dump lacks %q:\n%s", w, dump)
		}
	}
	if len(heads) > 0 && heads[0][5] == "0" {
		t.Errorf("the first resolution was not a walk:\n%s", dump)
	}

	t.Run("json", func(t *testing.T) {
		var doc struct {
			Tracing []json.RawMessage `json:"tracing"`
			Traces  []struct {
				Seq        int    `json:"seq"`
				Name       string `json:"name"`
				Transport  string `json:"transport"`
				Resolution struct {
					Rcode string          `json:"rcode"`
					Trace json.RawMessage `json:"trace"`
				} `json:"resolution"`
			} `json:"traces"`
		}
		if err := json.Unmarshal([]byte(run(t, ExitOK, "--json", "trace-dump", "www.example.org")), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Tracing) != 0 || len(doc.Traces) != 2 || doc.Traces[1].Seq != 2 || doc.Traces[0].Resolution.Rcode != "NOERROR" ||
			len(doc.Traces[0].Resolution.Trace) == 0 || doc.Traces[0].Transport != "udp" {
			t.Errorf("JSON dump: %+v", doc)
		}
	})

	t.Run("on and off", func(t *testing.T) {
		run(t, ExitOK, "trace-on", "WWW.example.org.", "5", "90")
		if out := run(t, ExitOK, "trace-dump", "nope.example.org"); !strings.Contains(out, "tracing www.example.org.: 5 more resolutions, 0 recorded") || strings.Contains(out, "#") {
			t.Errorf("trace-dump for another name: %q", out)
		}
		if out := run(t, ExitOK, "trace-off", "www.example.org"); out != "trace-off www.example.org.: 0 resolutions recorded\n" {
			t.Errorf("trace-off said %q", out)
		}
		if out := run(t, ExitOK, "trace-off", "all"); out != "no name was traced\n" {
			t.Errorf("trace-off all said %q", out)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"trace-on"}, "usage: trace-on NAME [COUNT [DURATION]]"},
			{[]string{"trace-on", "a..b"}, "not a domain name"},
			{[]string{"trace-on", "www.example.org", "0"}, "COUNT \"0\": want a number of resolutions from 1 to 100"},
			{[]string{"trace-on", "www.example.org", "101"}, "from 1 to 100"},
			{[]string{"trace-on", "www.example.org", "5", "2h"}, "DURATION \"2h\": want more than 0 and at most 1h0m0s"},
			{[]string{"trace-off"}, "usage: trace-off NAME|all"},
			{[]string{"trace-dump", "a", "b"}, "usage: trace-dump [NAME]"},
		} {
			t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
				if got := run(t, ExitUsage, tt.args...); !strings.Contains(got, tt.want) {
					t.Errorf("stderr %q lacks %q", got, tt.want)
				}
			})
		}
	})
}
