package fileerr

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrPEM is a file that does not hold the PEM block it should
// (errors.Is matches the error LoadKeyPair and LoadCertPool return).
var ErrPEM = errors.New("no PEM block")

// ErrKeyPair is a certificate and key that do not make a pair: the key is
// not the certificate's, or one of them cannot be parsed.
var ErrKeyPair = errors.New("not a key pair")

// LoadKeyPair reads a certificate chain and its private key, as
// tls.LoadX509KeyPair does, naming the file (and its flag or key) that is
// missing, unreadable, not PEM, or does not match the other.
func LoadKeyPair(certWhat, certPath, keyWhat, keyPath string) (tls.Certificate, error) {
	certPEM, err := ReadFile(certWhat, certPath, MaxSmall)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := ReadFile(keyWhat, keyPath, MaxSmall)
	if err != nil {
		return tls.Certificate{}, err
	}
	if !hasBlock(certPEM, func(t string) bool { return t == "CERTIFICATE" }) {
		return tls.Certificate{}, &pemError{certWhat, certPath, "certificate", "CERTIFICATE"}
	}
	if !hasBlock(keyPEM, func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") }) {
		return tls.Certificate{}, &pemError{keyWhat, keyPath, "private key", "PRIVATE KEY"}
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, &pairError{certWhat: certWhat, certPath: certPath, keyWhat: keyWhat, keyPath: keyPath, err: err}
	}
	return c, nil
}

// LoadCertPool reads a bundle of CA certificates in PEM form.
func LoadCertPool(what, path string) (*x509.CertPool, error) {
	b, err := ReadFile(what, path, MaxSmall)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, &pemError{what, path, "certificate", "CERTIFICATE"}
	}
	return pool, nil
}

func named(what, path string) string {
	if what == "" {
		return path
	}
	return what + " " + path
}

// pemError is a file without the PEM block it should hold.
type pemError struct{ what, path, want, block string }

func (e *pemError) Error() string {
	return fmt.Sprintf("%s holds no PEM %s (a -----BEGIN %s----- block)", named(e.what, e.path), e.want, e.block)
}

func (e *pemError) Is(target error) bool { return target == ErrPEM }

// pairError is crypto/tls's refusal of a key pair, in a user's words;
// the original stays reachable with errors.As.
type pairError struct {
	certWhat, certPath, keyWhat, keyPath string
	err                                  error
}

func (e *pairError) Error() string {
	why := strings.TrimPrefix(e.err.Error(), "tls: ")
	switch {
	case strings.Contains(why, "does not match"):
		why = "the key is not the certificate's"
	case strings.Contains(why, "private key"):
		why = "the key cannot be parsed (want PKCS #1, PKCS #8 or SEC 1 in PEM)"
	case strings.Contains(why, "x509:") || strings.Contains(why, "certificate"):
		why = "the certificate cannot be parsed (want X.509 in PEM)"
	}
	return fmt.Sprintf("%s and %s: %s", named(e.certWhat, e.certPath), named(e.keyWhat, e.keyPath), why)
}

func (e *pairError) Unwrap() error { return e.err }

func (e *pairError) Is(target error) bool { return target == ErrKeyPair }

// hasBlock reports whether b holds a PEM block whose type ok accepts.
func hasBlock(b []byte, ok func(string) bool) bool {
	// Bounded by len(b): each round consumes a block or ends.
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return false
		}
		if ok(blk.Type) {
			return true
		}
	}
}
