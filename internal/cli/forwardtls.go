package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"

	"github.com/addrwalk/addrwalk/internal/config"
	"github.com/addrwalk/addrwalk/internal/fileerr"
)

// upstreamTLS builds the TLS configuration of every tls:// forwarder: its
// certificate must be valid for the name after '#', checked against the
// zone's tls-ca-file, or the system roots when none is set.
func upstreamTLS(cfg *config.Config) (map[netip.AddrPort]*tls.Config, error) {
	var out map[netip.AddrPort]*tls.Config
	for i, z := range cfg.Forward {
		var roots *x509.CertPool // nil: the system roots
		if z.TLSCAFile != "" {
			var err error
			if roots, err = fileerr.LoadCertPool(fmt.Sprintf("forward-zone[%d] (%s) tls-ca-file", i, z.Zone), z.TLSCAFile); err != nil {
				return nil, err
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
