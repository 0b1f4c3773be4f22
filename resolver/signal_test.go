package resolver

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestKeyTagName(t *testing.T) {
	ds := func(tag uint16) *dns.DS { return &dns.DS{KeyTag: tag} }
	tests := []struct {
		name string
		zone string
		ds   []*dns.DS
		want string
	}{
		{"root, IANA's two keys", ".", []*dns.DS{ds(38696), ds(20326)}, "_ta-4f66-9728."},
		{"duplicates once, small tags padded", "example.org.", []*dns.DS{ds(5), ds(5), ds(0xabc)}, "_ta-0005-0abc.example.org."},
		{"no anchors", ".", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, keyTagName(tc.zone, tc.ds, nil)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
