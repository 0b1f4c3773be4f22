package cli

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/arptrace"
)

func TestScanHosts(t *testing.T) {
	const file = "# comment\n::1 localhost6\n192.0.2.5 a.example.org a  # x\n192.0.2.6 b.example.org\nbad line\n2001:db8::5 a.example.org\nfe80::1%eth0 a\n"
	tests := []struct {
		name, host string
		want       []PathHostsEntry
	}{
		{"canonical, both families", "a.example.org.", []PathHostsEntry{{netip.MustParseAddr("192.0.2.5"), 3}, {netip.MustParseAddr("2001:db8::5"), 6}}},
		{"alias, case; zoned skipped", "A", []PathHostsEntry{{netip.MustParseAddr("192.0.2.5"), 3}}},
		{"ipv6 only", "localhost6", []PathHostsEntry{{netip.MustParseAddr("::1"), 2}}},
		{"absent", "c.example.org", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanHosts(strings.NewReader(file), tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
				t.Errorf("scanHosts(%q) (-want +got):\n%s", tt.host, d)
			}
		})
	}
}

// TestChooseAddress checks the choice between a name's addresses with a
// fake route table: IPv6 first when it has a route (RFC 6724), IPv4 when
// it has none, the order given within a family, and why in words.
func TestChooseAddress(t *testing.T) {
	v4, v4b := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11")
	v6, far6 := netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("2001:db8:ffff::1")
	errUnreachable := errors.New("network is unreachable")
	route := func(_ context.Context, a netip.Addr) (arptrace.RouteInfo, error) {
		if a == far6 || a == v4b {
			return arptrace.RouteInfo{}, errUnreachable
		}
		return arptrace.RouteInfo{Destination: a, Interface: "eth0", OnLink: true, NextHop: a}, nil
	}
	tests := []struct {
		name       string
		addrs      []netip.Addr
		forced     bool
		want       netip.Addr
		wantReason string
		rejected   int
		wantErr    bool
	}{
		{"ipv4 only", []netip.Addr{v4}, false, v4, "the name has only IPv4 addresses", 0, false},
		{"ipv6 preferred", []netip.Addr{v4, v6}, false, v6, "IPv6 is preferred (RFC 6724 default policy, as getaddrinfo) and has a route", 0, false},
		{"ipv6 without route", []netip.Addr{v4, far6}, false, v4, "no IPv6 address has a route, so IPv4", 1, false},
		{"first of several", []netip.Addr{v4, v4}, false, v4, "the first of 2, in the order given", 0, false},
		{"skip unroutable in a family", []netip.Addr{v4b, v4}, false, v4, "1 address(es) before it had no route", 1, false},
		{"forced", []netip.Addr{v4}, true, v4, "only IPv4 was asked for (--family)", 0, false},
		{"nothing routable", []netip.Addr{far6, v4b}, false, netip.Addr{}, "", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, r, err := chooseAddress(context.Background(), tt.addrs, tt.forced, route)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if ch.Address != tt.want || !strings.Contains(ch.Reason, tt.wantReason) || len(ch.Rejected) != tt.rejected {
				t.Errorf("chose %v (%q), rejected %v; want %v (%q), %d rejected", ch.Address, ch.Reason, ch.Rejected, tt.want, tt.wantReason, tt.rejected)
			}
			if err == nil && r.NextHop != tt.want {
				t.Errorf("route next hop %v, want %v", r.NextHop, tt.want)
			}
			if tt.wantErr && !errors.Is(err, errNoUsableAddress) {
				t.Errorf("error %v is not errNoUsableAddress", err)
			}
		})
	}
}
