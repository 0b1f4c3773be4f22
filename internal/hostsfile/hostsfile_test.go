package hostsfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // "line addr names" or "line error: text"
	}{
		{"comments and blanks", "# header\n\n   \n127.0.0.1 localhost # trailing\n", []string{"4 127.0.0.1 [localhost]"}},
		{"aliases and IPv6 zone", "192.0.2.1\tgw gw.example.org\nfe80::1%eth0 router\n", []string{"1 192.0.2.1 [gw gw.example.org]", "2 fe80::1%eth0 [router]"}},
		{"address without names", "192.0.2.1\n", []string{"1 error: address without names"}},
		{"not an address", "router 192.0.2.1\n", []string{`1 error: "router" is not an IPv4 or IPv6 address`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := Scan(strings.NewReader(tt.in), func(e Entry) error {
				if e.Err != nil {
					got = append(got, fmt.Sprintf("%d error: %v", e.Line, e.Err))
				} else {
					got = append(got, fmt.Sprintf("%d %s %v", e.Line, e.Addr, e.Names))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("fn stops the scan", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := Scan(strings.NewReader("192.0.2.1 a\n192.0.2.2 b\n"), func(Entry) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("got %v after %d calls, want stop after 1", err, calls)
		}
	})
	t.Run("too many lines", func(t *testing.T) {
		err := Scan(strings.NewReader(strings.Repeat("\n", MaxLines+1)), func(Entry) error { return nil })
		if !errors.Is(err, ErrTooLong) {
			t.Errorf("got %v, want ErrTooLong", err)
		}
	})
}
