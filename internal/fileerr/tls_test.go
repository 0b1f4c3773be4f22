package fileerr

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/addrwalk/addrwalk/internal/tlscert"
)

func TestLoadKeyPair(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	now := time.Now()
	one, err := tlscert.SelfSigned([]string{"a.example"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	two, err := tlscert.SelfSigned([]string{"b.example"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, otherKey := write("c.pem", one.CertPEM), write("k.pem", one.KeyPEM), write("k2.pem", two.KeyPEM)
	garbage, missing := write("g.pem", []byte("not pem\n")), filepath.Join(dir, "none.pem")
	tests := []struct {
		name, cert, key, want string
		is                    error
	}{
		{"a pair", cert, key, "", nil},
		{"certificate missing", missing, key, "cannot read --tls-cert " + missing + ": no such file", fs.ErrNotExist},
		{"key missing", cert, missing, "cannot read --tls-key " + missing + ": no such file", fs.ErrNotExist},
		{"certificate not PEM", garbage, key, "--tls-cert " + garbage + " holds no PEM certificate (a -----BEGIN CERTIFICATE----- block)", ErrPEM},
		{"key not PEM", cert, garbage, "--tls-key " + garbage + " holds no PEM private key (a -----BEGIN PRIVATE KEY----- block)", ErrPEM},
		{"key is the certificate", cert, cert, "--tls-key " + cert + " holds no PEM private key (a -----BEGIN PRIVATE KEY----- block)", ErrPEM},
		{"another key", cert, otherKey, "--tls-cert " + cert + " and --tls-key " + otherKey + ": the key is not the certificate's", ErrKeyPair},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadKeyPair("--tls-cert", tt.cert, "--tls-key", tt.key)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LoadKeyPair (-want +got):\n%s", diff)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
	t.Run("CA bundle", func(t *testing.T) {
		if _, err := LoadCertPool("--ca", cert); err != nil {
			t.Errorf("LoadCertPool(certificate) = %v", err)
		}
		_, err := LoadCertPool("--ca", key)
		if want := "--ca " + key + " holds no PEM certificate (a -----BEGIN CERTIFICATE----- block)"; err == nil || err.Error() != want || !errors.Is(err, ErrPEM) {
			t.Errorf("LoadCertPool(key) = %v, want %q", err, want)
		}
	})
}
