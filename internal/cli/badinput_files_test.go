package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/internal/tlscert"
)

// fileCases are TestBadInputs' files that cannot be read, written or used:
// every flag and configuration key naming a file, each said as "cannot
// read FLAG-or-key FILE: why" (or what the file holds instead), never
// Go's "open FILE: no such file or directory". hints is a root hints
// file of a dead lab, for commands that need one to get that far.
func fileCases(t *testing.T, dir, hints string) []badInput {
	t.Helper()
	now := time.Now()
	one, err := tlscert.SelfSigned([]string{"a.example"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	two, err := tlscert.SelfSigned([]string{"b.example"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := writeFiles(t, dir, map[string]string{
		"cert.pem":   string(one.CertPEM),
		"key.pem":    string(one.KeyPEM),
		"other.pem":  string(two.KeyPEM),
		"notpem.txt": "not a certificate\n",
		"state.v2":   `{"version": 2, "stations": []}`,
		"hosts.bad":  "300.1.1.1 router\n",
	})
	missing := filepath.Join(dir, "nonexistent")
	toml := writeFiles(t, dir, map[string]string{
		"hostsmissing.toml":  "[local]\nhosts-file = \"" + missing + "/hosts\"\n",
		"hostsbad.toml":      "[local]\nhosts-file = \"" + f["hosts.bad"] + "\"\n",
		"anchormissing.toml": "[dnssec]\ntrust-anchor-file = \"" + missing + "/ta\"\n",
		"autotrust.toml":     "[dnssec]\nauto-trust-anchor-file = \"" + missing + "/dir/root.key\"\n",
		"autotrustdir.toml":  "[dnssec]\nauto-trust-anchor-file = \"" + dir + "\"\n",
		"remote.toml":        "[control]\nremote = \"127.0.0.1:8953\"\nserver-cert = \"" + missing + "/s.pem\"\nserver-key = \"" + f["key.pem"] + "\"\nclient-ca = \"" + f["cert.pem"] + "\"\n",
		"remoteca.toml":      "[control]\nremote = \"127.0.0.1:8953\"\nserver-cert = \"" + f["cert.pem"] + "\"\nserver-key = \"" + f["key.pem"] + "\"\nclient-ca = \"" + f["notpem.txt"] + "\"\n",
		"cachedbpw.toml":     "[cachedb]\nbackend = \"redis\"\naddresses = [\"127.0.0.1:6379\"]\npassword-file = \"" + missing + "/pw\"\n",
		"forwardca.toml":     "[[forward-zone]]\nzone = \"example.org.\"\nservers = [\"tls://127.0.0.1#dns.example\"]\ntls-ca-file = \"" + missing + "/ca.pem\"\n",
		"socketlong.toml":    "[control]\nsocket = \"/tmp/" + strings.Repeat("s", 120) + ".sock\"\n",
	})
	// A control socket nobody listens on any more (its server died): the
	// file is there with the right mode and owner.
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if err := os.Chmod(stale, 0o600); err != nil {
		t.Fatal(err)
	}
	dot := []string{"--dot", "127.0.0.1:8853"}
	serveCheck := func(args ...string) []string { return append([]string{"serve", "--check-config"}, args...) }
	resolveHints := func(args ...string) []string {
		return append([]string{"resolve", "--root-hints", hints, "--allow-loopback", "--no-validate"}, args...)
	}
	return []badInput{
		{"resolve/root hints directory", []string{"resolve", "--root-hints", dir, "x.org"}, ExitUsage, "cannot read --root-hints " + dir + ": it is a directory", nil, false},
		{"resolve/root hints endless", []string{"resolve", "--root-hints", "/dev/zero", "x.org"}, ExitUsage, "cannot read --root-hints /dev/zero: it is larger than", nil, false},
		{"resolve/trust anchor directory", []string{"resolve", "--root-hints", hints, "--trust-anchor", dir, "x.org"}, ExitUsage, "cannot read --trust-anchor " + dir + ": it is a directory", nil, false},
		{"resolve/trust anchor below a file", []string{"resolve", "--root-hints", hints, "--trust-anchor", f["cert.pem"] + "/ta", "x.org"}, ExitUsage, "a part of the path is a file", nil, false},
		{"resolve/html into missing dir", resolveHints("--html", missing+"/x.html", "--port", "1", "--timeout", "0.2", "x.org"), ExitUsage, "cannot write --html " + missing + "/x.html: no directory " + missing, nil, false},
		{"serve/config directory", serveCheck("--config", dir), ExitUsage, "cannot read --config " + dir + ": it is a directory", nil, false},
		{"serve/config endless", serveCheck("--config", "/dev/zero"), ExitUsage, "cannot read --config /dev/zero: it is larger than", nil, false},
		{"serve/root hints flag missing", serveCheck("--root-hints", missing+"/root.hints"), ExitUsage, "cannot read --root-hints " + missing + "/root.hints: no such file", nil, false},
		{"serve/trust anchor flag missing", serveCheck("--trust-anchor", missing+"/ta"), ExitUsage, "cannot read --trust-anchor " + missing + "/ta: no such file", nil, false},
		{"serve/config trust anchor missing", serveCheck("--config", toml["anchormissing.toml"]), ExitUsage, "cannot read dnssec.trust-anchor-file " + missing + "/ta: no such file", nil, false},
		{"serve/config hosts file missing", serveCheck("--config", toml["hostsmissing.toml"]), ExitUsage, "cannot read local.hosts-file " + missing + "/hosts: no such file", nil, false},
		{"serve/config hosts file bad address", serveCheck("--config", toml["hostsbad.toml"]), ExitUsage, f["hosts.bad"] + `:1: "300.1.1.1" is not an IPv4 or IPv6 address`, nil, false},
		{"serve/config auto trust anchor directory missing", serveCheck("--config", toml["autotrust.toml"]), ExitUsage, "cannot write dnssec.auto-trust-anchor-file " + missing + "/dir/root.key: no directory " + missing + "/dir", nil, false},
		{"serve/config auto trust anchor is a directory", serveCheck("--config", toml["autotrustdir.toml"]), ExitUsage, "cannot read dnssec.auto-trust-anchor-file " + dir + ": it is a directory", nil, false},
		{"serve/config remote certificate missing", serveCheck("--config", toml["remote.toml"]), ExitUsage, "cannot read control.server-cert " + missing + "/s.pem: no such file", nil, false},
		{"serve/config remote CA not PEM", serveCheck("--config", toml["remoteca.toml"]), ExitUsage, "control.client-ca " + f["notpem.txt"] + " holds no PEM certificate", nil, false},
		{"serve/config cachedb password file", serveCheck("--config", toml["cachedbpw.toml"]), ExitUsage, "cannot read cachedb.password-file " + missing + "/pw: no such file", nil, false},
		{"serve/config forward CA missing", serveCheck("--config", toml["forwardca.toml"]), ExitUsage, "tls-ca-file " + missing + "/ca.pem: no such file", nil, false},
		{"serve/config socket path too long", serveCheck("--config", toml["socketlong.toml"]), ExitUsage, "longer than a Unix socket path may be", nil, false},
		{"serve/control path too long", serveCheck("--control", "/tmp/"+strings.Repeat("s", 120)+".sock"), ExitUsage, "--control \"/tmp/sss", nil, false},
		{"serve/tls cert not PEM", serveCheck(append(dot, "--tls-cert", f["notpem.txt"], "--tls-key", f["key.pem"])...), ExitUsage, "--tls-cert " + f["notpem.txt"] + " holds no PEM certificate", nil, false},
		{"serve/tls key not PEM", serveCheck(append(dot, "--tls-cert", f["cert.pem"], "--tls-key", f["cert.pem"])...), ExitUsage, "--tls-key " + f["cert.pem"] + " holds no PEM private key", nil, false},
		{"serve/tls key of another certificate", serveCheck(append(dot, "--tls-cert", f["cert.pem"], "--tls-key", f["other.pem"])...), ExitUsage, "the key is not the certificate's", nil, false},
		{"serve/tls key missing", serveCheck(append(dot, "--tls-cert", f["cert.pem"], "--tls-key", missing+"/k.pem")...), ExitUsage, "cannot read --tls-key " + missing + "/k.pem: no such file", nil, false},
		{"path/hosts missing", []string{"path", "--hosts", missing + "/hosts", "www.example.org"}, ExitUsage, "cannot read --hosts " + missing + "/hosts: no such file", nil, false},
		{"path/hosts directory", []string{"path", "--hosts", dir, "www.example.org"}, ExitUsage, "cannot read --hosts " + dir + ": it is a directory", nil, false},
		{"arp scan/ouifile missing", []string{"arp", "scan", "-I", "nosuchdev0", "-O", missing + "/oui.txt", "192.0.2.0/30"}, ExitUsage, "cannot read --ouifile " + missing + "/oui.txt: no such file", nil, false},
		{"arp scan/ouifile endless", []string{"arp", "scan", "-I", "nosuchdev0", "-O", "/dev/zero", "192.0.2.0/30"}, ExitUsage, "cannot use --ouifile /dev/zero: a line is longer than 64 KiB", nil, false},
		{"arp watch/state directory missing", []string{"arp", "watch", "-i", "nosuchdev0", "--state", missing + "/state.json"}, ExitUsage, "cannot write --state " + missing + "/state.json: no directory " + missing, nil, false},
		{"arp watch/state version", []string{"arp", "watch", "-i", "nosuchdev0", "--state", f["state.v2"]}, ExitUsage, "has version 2", nil, false},
		{"ctl/load-cache missing", []string{"ctl", "--socket", stale, "load-cache", missing + "/dump"}, ExitUsage, "cannot read " + missing + "/dump: no such file", nil, false},
		{"ctl/stale socket", []string{"ctl", "--socket", stale, "status"}, ExitFailure, "nothing listens on " + stale, nil, false},
		{"ctl/remote certificate missing", []string{"ctl", "--remote", "127.0.0.1", "--cert", missing + "/c.pem", "--key", f["key.pem"], "--ca", f["cert.pem"], "status"}, ExitUsage, "cannot read --cert " + missing + "/c.pem: no such file", nil, false},
	}
}
