// Package tlscert makes certificates for loopback use: the one
// `addrwalk serve --self-signed` serves DoT and DoH with, and the test CAs
// of the encrypted-listener tests. Keys are ECDSA P-256 (what every DoT
// and DoH client accepts); nothing here is meant for production, where a
// real CA's certificate is configured with tls-cert and tls-key.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a certificate authority that can issue certificates.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate in PEM form, for clients' trust stores.
	PEM []byte
}

// NewCA makes a CA named name, valid from now for validFor.
func NewCA(name string, now time.Time, validFor time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour), // a little clock skew
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	return &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pool returns a pool holding the CA, for a client's RootCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issued is a certificate and its key.
type Issued struct {
	TLS     tls.Certificate
	CertPEM []byte // the chain: the leaf (then the CA when not self-signed)
	KeyPEM  []byte
}

// Issue makes a server certificate for hosts (names or IP addresses),
// signed by ca, valid from now for validFor.
func (ca *CA) Issue(hosts []string, now time.Time, validFor time.Duration) (*Issued, error) {
	return issue(ca, hosts, now, validFor, x509.ExtKeyUsageServerAuth)
}

// IssueClient issues a client certificate (extended key usage clientAuth)
// named name, signed by ca: what a server requiring mutual TLS (Redis's
// tls-auth-clients) verifies.
func (ca *CA) IssueClient(name string, now time.Time, validFor time.Duration) (*Issued, error) {
	return issue(ca, []string{name}, now, validFor, x509.ExtKeyUsageClientAuth)
}

// SelfSigned makes a self-signed server certificate for hosts that is also
// its own CA, so a client can trust it directly (curl --cacert, kdig
// +tls-ca).
func SelfSigned(hosts []string, now time.Time, validFor time.Duration) (*Issued, error) {
	return issue(nil, hosts, now, validFor, x509.ExtKeyUsageServerAuth)
}

func issue(ca *CA, hosts []string, now time.Time, validFor time.Duration, usage x509.ExtKeyUsage) (*Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "addrwalk"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.Cert, ca.key
	} else {
		tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	out := &Issued{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}
	if ca != nil {
		out.CertPEM = append(out.CertPEM, ca.PEM...)
	}
	out.TLS, err = tls.X509KeyPair(out.CertPEM, out.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	return out, nil
}

// Pin is the certificate's SPKI pin: base64 of the SHA-256 of its
// SubjectPublicKeyInfo (RFC 7858 §4.2's pin, kdig's +tls-pin).
func Pin(c *tls.Certificate) (string, error) {
	if len(c.Certificate) == 0 {
		return "", fmt.Errorf("tlscert: empty certificate")
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return "", fmt.Errorf("tlscert: %w", err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// serial is a random 128-bit serial number (RFC 5280 §4.1.2.2 allows up
// to 20 octets).
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return big.NewInt(1)
	}
	return n
}
