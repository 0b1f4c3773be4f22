package dnssec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSentinel(t *testing.T) {
	t.Parallel()
	type result struct {
		Kind SentinelKind
		Tag  uint16
	}
	tests := []struct {
		name, qname string
		want        result
	}{
		{"is-ta", "root-key-sentinel-is-ta-20326.example.org.", result{SentinelIsTA, 20326}},
		{"not-ta", "root-key-sentinel-not-ta-38696.example.org.", result{SentinelNotTA, 38696}},
		{"upper case", "ROOT-KEY-SENTINEL-IS-TA-00042.example.org.", result{SentinelIsTA, 42}},
		{"four digits", "root-key-sentinel-is-ta-2032.example.org.", result{}},
		{"six digits", "root-key-sentinel-is-ta-203260.example.org.", result{}},
		{"above 65535", "root-key-sentinel-is-ta-70000.example.org.", result{}},
		{"not digits", "root-key-sentinel-is-ta-2032x.example.org.", result{}},
		{"not the leftmost label", "www.root-key-sentinel-is-ta-20326.example.org.", result{}},
		{"plain name", "www.example.org.", result{}},
		{"root", ".", result{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kind, tag := ParseSentinel(tc.qname)
			if diff := cmp.Diff(tc.want, result{kind, tag}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSentinelServfail(t *testing.T) {
	t.Parallel()
	a := RootAnchors()
	tests := []struct {
		name, qname string
		want        bool
	}{
		{"is-ta for an anchor", "root-key-sentinel-is-ta-20326.example.org.", false},
		{"is-ta for another key", "root-key-sentinel-is-ta-19036.example.org.", true},
		{"not-ta for an anchor", "root-key-sentinel-not-ta-38696.example.org.", true},
		{"not-ta for another key", "root-key-sentinel-not-ta-19036.example.org.", false},
		{"no sentinel", "www.example.org.", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SentinelServfail(tc.qname, a); got != tc.want {
				t.Errorf("SentinelServfail(%s) = %v, want %v", tc.qname, got, tc.want)
			}
		})
	}
	if got := []string{NotSentinel.String(), SentinelIsTA.String(), SentinelNotTA.String()}; !cmp.Equal(got, []string{"none", "is-ta", "not-ta"}) {
		t.Errorf("String() = %v", got)
	}
}
