package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/addrwalk/addrwalk/internal/control"
)

// ctlRemoteFlags are `addrwalk ctl`'s flags for the remote control
// listener (mutual TLS), as unbound-control's -s server@port with its
// control-key-file and control-cert-file.
type ctlRemoteFlags struct {
	Remote     string `name:"remote" placeholder:"HOST:PORT" help:"Talk to the remote control listener ([control] remote) over mutual TLS instead of the socket; without :PORT, port 8953."`
	Cert       string `name:"cert" placeholder:"FILE" help:"With --remote: the client certificate (default: ${control_dir}/control-client.pem, made by 'addrwalk ctl setup')."`
	Key        string `name:"key" placeholder:"FILE" help:"With --remote: the client key (default: ${control_dir}/control-client.key)."`
	CA         string `name:"ca" placeholder:"FILE" help:"With --remote: the CA the server's certificate must chain to (default: ${control_dir}/control-ca.pem)."`
	ServerName string `name:"server-name" placeholder:"NAME" default:"${control_server_name}" help:"With --remote: the name the server's certificate must carry."`
}

// errRemoteUsage is wrapped by errors in the remote flags themselves.
var errRemoteUsage = errors.New("ctl")

// do sends req over the socket, or over the remote listener with --remote.
func (c *CtlCmd) do(ctx context.Context, req control.Request, upload io.Reader, out io.Writer) error {
	f := &c.ctlRemoteFlags
	if f.Remote == "" {
		if f.Cert != "" || f.Key != "" || f.CA != "" {
			return fmt.Errorf("%w: --cert, --key and --ca go with --remote", errRemoteUsage)
		}
		return control.Do(ctx, c.Socket, req, upload, out)
	}
	addr, err := remoteAddr(f.Remote)
	if err != nil {
		return err
	}
	files := control.RemoteFiles{Cert: f.Cert, Key: f.Key, CA: f.CA, Names: [3]string{"--cert", "--key", "--ca"}}
	for i, p := range []*string{&files.Cert, &files.Key, &files.CA} {
		if *p == "" { // the default, which ctl setup writes
			*p = filepath.Join(control.DefaultDir, []string{control.ClientCertFile, control.ClientKeyFile, control.CAFile}[i])
		}
	}
	cfg, err := control.ClientTLS(files, f.ServerName)
	if err != nil {
		return err
	}
	return control.DoRemote(ctx, addr, cfg, req, upload, out)
}

// remoteAddr is HOST[:PORT] with the default port added when missing; an
// IPv6 address may come with or without brackets.
func remoteAddr(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
			return "", fmt.Errorf("%w: --remote %q: bad port", errRemoteUsage, s)
		}
		if host == "" {
			return "", fmt.Errorf("%w: --remote %q: no host", errRemoteUsage, s)
		}
		return s, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if host == "" || strings.ContainsAny(host, "[]/ ") {
		return "", fmt.Errorf("%w: --remote %q: want HOST or HOST:PORT", errRemoteUsage, s)
	}
	return net.JoinHostPort(host, strconv.Itoa(control.DefaultRemotePort)), nil
}
