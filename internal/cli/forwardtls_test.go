package cli

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/tlscert"
)

// TestForwardZoneOverTLS forwards a zone to a tls:// upstream (another
// serve with a DoT listener and a test CA's certificate) and checks that
// the certificate's name is enforced.
func TestForwardZoneOverTLS(t *testing.T) {
	lab := startServeLab(t)
	dir := t.TempDir()
	ca, err := tlscert.NewCA("forward test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	is, err := ca.Issue([]string{"dns.corp.example"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string][]byte{caFile: ca.PEM, certFile: is.CertPEM, keyFile: is.KeyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	encrypted := make(chan []netip.AddrPort, 1)
	upstream := startServeWith(t, lab, `[local]
records = ["host.corp.example. 60 IN A 192.0.2.77"]
`, func(c *ServeCmd) {
		c.DoT = []string{"127.56.207.1:0"}
		c.TLSCert, c.TLSKey = certFile, keyFile
		c.readyEncrypted = func(dot, _ []netip.AddrPort) { encrypted <- dot }
	})
	dot := (<-encrypted)[0]

	tests := []struct {
		name  string
		tname string
		want  int
	}{
		{"certificate name matches", "dns.corp.example", dns.RcodeSuccess},
		{"certificate name does not match", "other.corp.example", dns.RcodeServerFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startCtlServe(t, lab, fmt.Sprintf(`[[forward-zone]]
zone = "corp.example."
servers = ["tls://%s#%s"]
tls-ca-file = %q
`, dot, tt.tname, caFile))
			r := s.query(t, "host.corp.example.", dns.TypeA)
			if r.Rcode != tt.want {
				t.Fatalf("rcode %s, want %s: %v", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.want], r)
			}
			if tt.want == dns.RcodeSuccess && (len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), "192.0.2.77")) {
				t.Errorf("answer %v", r.Answer)
			}
			_, out, _ := s.ctl(t, "", "list-forwards")
			if !strings.Contains(out, "tls://"+dot.String()+"#"+tt.tname) {
				t.Errorf("list-forwards: %q", out)
			}
		})
	}
	_, out, _ := upstream.ctl(t, "", "stats")
	if !strings.Contains(out, `rcode="NOERROR",transport="dot",type="A"`) {
		t.Errorf("the upstream saw no DoT query:\n%s", out)
	}
}
