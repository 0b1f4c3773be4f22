package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/addrwalk/addrwalk/internal/fileerr"
	"github.com/addrwalk/addrwalk/internal/tlscert"
)

// DefaultDir is where `addrwalk ctl setup` writes, and where
// `addrwalk ctl --remote` looks for the client's files by default: beside
// the configuration file, as unbound-control-setup writes to
// /etc/unbound.
const DefaultDir = "/etc/addrwalk"

// The files `addrwalk ctl setup` writes. The CA's private key is not
// among them: it signs these two certificates and is dropped, so nobody
// can mint another client certificate from a copy of it; running setup
// again with --force replaces the whole set.
const (
	CAFile         = "control-ca.pem"
	ServerCertFile = "control-server.pem"
	ServerKeyFile  = "control-server.key"
	ClientCertFile = "control-client.pem"
	ClientKeyFile  = "control-client.key"
)

// setupValidity is how long the CA and the certificates are valid:
// unbound-control-setup's 7200 days (about 20 years). Nobody renews a
// local control channel's certificates, and an expired one would lock the
// operator out; the CA is the channel's alone and its key is gone.
const setupValidity = 7200 * 24 * time.Hour

// ErrExists is wrapped by Setup's error when a file is already there and
// force is not set.
var ErrExists = errors.New("control: setup: files already exist")

// SetupFiles are what Setup wrote.
type SetupFiles struct {
	Dir    string
	Server RemoteFiles // the server's certificate and key, and the CA its clients chain to
	Client RemoteFiles // the client's, and the CA the server chains to
}

// setupFile is one file Setup writes.
type setupFile struct {
	name string
	data []byte
	mode fs.FileMode
}

// Setup makes a CA, a server key and certificate (named ServerName) and a
// client key and certificate in dir, as unbound-control-setup does: keys
// mode 0600, certificates 0644. Existing files are kept and the call
// fails unless force is set; then all five are replaced. Files appear
// whole (written aside, then renamed or linked into place). what names
// the flag or key that gave dir ("--dir"), for errors ("" for none).
func Setup(what, dir string, force bool, now time.Time) (*SetupFiles, error) {
	given := dir
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("control: setup: %w", fileerr.Write(what, given, err))
	}
	names := []string{CAFile, ServerCertFile, ServerKeyFile, ClientCertFile, ClientKeyFile}
	if !force {
		var there []string
		for _, n := range names {
			if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
				there = append(there, n)
			}
		}
		if len(there) > 0 {
			return nil, fmt.Errorf("%w in %s: %s (--force replaces them all)", ErrExists, dir, strings.Join(there, ", "))
		}
	}
	ca, err := tlscert.NewCA("addrwalk control CA", now, setupValidity)
	if err != nil {
		return nil, err
	}
	srv, err := ca.Issue([]string{ServerName}, now, setupValidity)
	if err != nil {
		return nil, err
	}
	cl, err := ca.IssueClient("addrwalk-control-client", now, setupValidity)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("control: setup: %w", fileerr.Write(what, given, err))
	}
	for _, f := range []setupFile{
		{CAFile, ca.PEM, 0o644},
		{ServerCertFile, srv.CertPEM, 0o644},
		{ServerKeyFile, srv.KeyPEM, 0o600},
		{ClientCertFile, cl.CertPEM, 0o644},
		{ClientKeyFile, cl.KeyPEM, 0o600},
	} {
		if err := writeSetupFile(what, dir, f, force); err != nil {
			return nil, err
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	return &SetupFiles{
		Dir:    dir,
		Server: RemoteFiles{Cert: p(ServerCertFile), Key: p(ServerKeyFile), CA: p(CAFile)},
		Client: RemoteFiles{Cert: p(ClientCertFile), Key: p(ClientKeyFile), CA: p(CAFile)},
	}, nil
}

// writeSetupFile writes f into dir through a temporary file that has its
// final mode before it holds the data, so a key is never readable by
// others, not even for a moment. Without force it is linked into place,
// which fails rather than replace a file that appeared meanwhile.
// what is the flag that named dir, for errors.
func writeSetupFile(what, dir string, f setupFile, force bool) error {
	dst := filepath.Join(dir, f.name)
	tmp, err := os.CreateTemp(dir, "."+f.name+".*")
	if err != nil {
		return fmt.Errorf("control: setup: %w", fileerr.Write(what, dst, err))
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(f.mode); err != nil {
		tmp.Close()
		return fmt.Errorf("control: setup: %w", fileerr.Write(what, dst, err))
	}
	if _, err := tmp.Write(f.data); err != nil {
		tmp.Close()
		return fmt.Errorf("control: setup: %w", fileerr.Write(what, dst, err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("control: setup: %w", fileerr.Write(what, dst, err))
	}
	if force {
		err = os.Rename(tmp.Name(), dst)
	} else {
		err = os.Link(tmp.Name(), dst)
		if errors.Is(err, fs.ErrExist) {
			// It appeared since Setup looked.
			return fmt.Errorf("%w in %s: %s (--force replaces them all)", ErrExists, dir, f.name)
		}
	}
	if err != nil {
		return fmt.Errorf("control: setup: %w", fileerr.Write(what, dst, err))
	}
	return nil
}
