package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"

	"github.com/addrwalk/addrwalk/internal/config"
)

// upstreamTLS builds the TLS configuration of every tls:// forwarder: its
// certificate must be valid for the name after '#', checked against the
// zone's tls-ca-file, or the system roots when none is set.
func upstreamTLS(cfg *config.Config) (map[netip.AddrPort]*tls.Config, error) {
	var out map[netip.AddrPort]*tls.Config
	for i, z := range cfg.Forward {
		var roots *x509.CertPool // nil: the system roots
		if z.TLSCAFile != "" {
			pem, err := os.ReadFile(z.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("forward-zone[%d] (%s) tls-ca-file: %w", i, z.Zone, err)
			}
			roots = x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("forward-zone[%d] (%s) tls-ca-file %s: no PEM certificate in it", i, z.Zone, z.TLSCAFile)
			}
		}
		for _, s := range z.Servers {
			if s.TLSName == "" {
				continue
			}
			if out == nil {
				out = map[netip.AddrPort]*tls.Config{}
			}
			if prev, ok := out[s.Addr]; ok && prev.ServerName != s.TLSName {
				return nil, fmt.Errorf("forward-zone[%d] (%s): %v is named %s here and %s in another zone", i, z.Zone, s.Addr, s.TLSName, prev.ServerName)
			}
			out[s.Addr] = &tls.Config{ServerName: s.TLSName, RootCAs: roots, MinVersion: tls.VersionTLS12}
		}
	}
	return out, nil
}
