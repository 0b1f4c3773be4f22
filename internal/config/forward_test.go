package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestServerAddr(t *testing.T) {
	tests := []struct {
		in      string
		want    ServerAddr
		wantErr string
	}{
		{in: "192.0.2.1", want: ServerAddr{Addr: netip.MustParseAddrPort("192.0.2.1:53")}},
		{in: "[2001:db8::1]:5353", want: ServerAddr{Addr: netip.MustParseAddrPort("[2001:db8::1]:5353")}},
		{in: "tls://192.0.2.1#dns.example.net", want: ServerAddr{Addr: netip.MustParseAddrPort("192.0.2.1:853"), TLSName: "dns.example.net"}},
		{in: "tls://[2001:db8::1]:8853#dns.example.net", want: ServerAddr{Addr: netip.MustParseAddrPort("[2001:db8::1]:8853"), TLSName: "dns.example.net"}},
		{in: "tls://192.0.2.1", wantErr: "needs #NAME"},
		{in: "tls://192.0.2.1#", wantErr: "needs #NAME"},
		{in: "tls://dns.example.net#dns.example.net", wantErr: "not an address"},
		{in: "dns.example.net", wantErr: "not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var a ServerAddr
			err := a.UnmarshalText([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || a != tt.want {
				t.Fatalf("got %+v, %v; want %+v", a, err, tt.want)
			}
			if got := a.String(); got != tt.in && !strings.HasPrefix(tt.in, "192.0.2.1") && !strings.HasPrefix(tt.in, "tls://192") {
				t.Errorf("String() = %q", got)
			}
		})
	}
	if _, err := Parse([]byte("[[stub-zone]]\nzone = \"lab.example.org\"\nservers = [\"tls://192.0.2.1#ns.example.org\"]\n"), "s.toml"); err == nil || !strings.Contains(err.Error(), "tls:// servers are for forward zones") {
		t.Errorf("tls:// in a stub zone: %v", err)
	}
}
