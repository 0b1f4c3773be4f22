package config

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestControlRemote checks the [control] remote listener's keys: off by
// default, and never on without the three certificate files.
func TestControlRemote(t *testing.T) {
	files := "server-cert = \"/etc/addrwalk/control-server.pem\"\nserver-key = \"/etc/addrwalk/control-server.key\"\nclient-ca = \"/etc/addrwalk/control-ca.pem\"\n"
	tests := []struct {
		name    string
		doc     string
		want    *netip.AddrPort
		wantErr string
	}{
		{name: "off by default", doc: "[control]\nsocket = \"default\"\n"},
		{name: "files without remote stay off", doc: "[control]\n" + files},
		{name: "remote with its files", doc: "[control]\nremote = \"127.0.0.1:8953\"\n" + files,
			want: new(netip.MustParseAddrPort("127.0.0.1:8953"))},
		{name: "remote without files", doc: "[control]\nremote = \"127.0.0.1:8953\"\n",
			wantErr: "x.toml:2: control.remote 127.0.0.1:8953 needs control.server-cert, control.server-key, control.client-ca"},
		{name: "remote without the CA", doc: "[control]\nremote = \"[::1]:8953\"\nserver-cert = \"/c.pem\"\nserver-key = \"/c.key\"\n",
			wantErr: "needs control.client-ca: the remote control channel is mutual TLS only"},
		{name: "remote without a port", doc: "[control]\nremote = \"127.0.0.1\"\n" + files, wantErr: "x.toml:2"},
		{name: "remote with a zone", doc: "[control]\nremote = \"[fe80::1%eth0]:8953\"\n" + files, wantErr: "without a zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "x.toml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Control.Remote, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("remote (-want +got):\n%s", diff)
			}
			if got := c.Control.Enabled(); got != (tt.want != nil || c.Control.Socket != "") {
				t.Errorf("Enabled() = %v", got)
			}
		})
	}
}
