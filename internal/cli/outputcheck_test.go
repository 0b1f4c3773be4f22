package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// outputCases are TestBadInputs' cases for every flag that names a file
// a command writes: each is checked before the work starts (no walk, no
// scan, no listener, nothing on stdout), exit 2, in fileerr's words with
// the flag's name.
func outputCases(t *testing.T, dir string) []badInput {
	t.Helper()
	missing := filepath.Join(dir, "no-such-dir")
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	noDir := func(flag, path string) string {
		return "cannot write " + flag + " " + path + ": no directory " + missing
	}
	return []badInput{
		{"output/resolve html is a directory", []string{"resolve", "--html", dir, "x.org"}, ExitUsage, "cannot write --html " + dir + ": it is a directory, not a file", nil, false},
		{"output/resolve svg below a file", []string{"resolve", "--svg", file + "/x.svg", "x.org"}, ExitUsage, "cannot write --svg " + file + "/x.svg: a part of the path is a file", nil, false},
		{"output/demo svg", []string{"demo", "--svg", missing + "/x.svg"}, ExitUsage, noDir("--svg", missing+"/x.svg"), nil, false},
		{"output/demo html", []string{"demo", "--all", "--html", missing + "/x.html"}, ExitUsage, noDir("--html", missing+"/x.html"), nil, false},
		{"output/path svg", []string{"path", "--sim", "--svg", missing + "/x.svg", "www.example.org"}, ExitUsage, noDir("--svg", missing+"/x.svg"), nil, false},
		{"output/arp svg", []string{"arp", "-I", "nosuchdev0", "--svg", missing + "/x.svg", "192.0.2.1"}, ExitUsage, noDir("--svg", missing+"/x.svg"), nil, false},
		{"output/ndp html", []string{"ndp", "-I", "nosuchdev0", "--html", missing + "/x.html", "2001:db8::1"}, ExitUsage, noDir("--html", missing+"/x.html"), nil, false},
		{"output/sim hints", []string{"sim", "--port", "0", "--hints", missing + "/h"}, ExitUsage, noDir("--hints", missing+"/h"), nil, false},
		{"output/sim anchor", []string{"sim", "--port", "0", "--hints", filepath.Join(dir, "sim.hints"), "--anchor", missing + "/ds"}, ExitUsage, noDir("--anchor", missing+"/ds"), nil, false},
		{"output/serve self-signed cert", []string{"serve", "--check-config", "--dot", "127.0.0.1:8853", "--self-signed", "--self-signed-cert", missing + "/c.pem"}, ExitUsage, noDir("--self-signed-cert", missing+"/c.pem"), nil, false},
		{"output/arp watch state is a directory", []string{"arp", "watch", "-i", "nosuchdev0", "--state", dir}, ExitUsage, "--state " + dir + ": it is a directory", nil, false},
		{"output/ctl setup dir below a file", []string{"ctl", "setup", "-d", file + "/ctl"}, ExitUsage, "cannot write --dir " + file + "/ctl: a part of the path is a file", nil, false},
		{"output/ctl setup dir is a file", []string{"ctl", "setup", "-d", file}, ExitUsage, "cannot write --dir " + file + ": a part of the path is a file", nil, false},
	}
}

// addressNameCases are TestBadInputs' cases for an IP address given
// where a domain name goes: dig and kdig send it as a name and get
// NXDOMAIN; addrwalk says what it is and how to ask for its PTR name.
func addressNameCases() []badInput {
	return []badInput{
		{"names/resolve IPv4 address", []string{"resolve", "192.0.2.1"}, ExitUsage, "is an IP address, not a domain name; its PTR name is 1.2.0.192.in-addr.arpa. (addrwalk resolve -x 192.0.2.1)", nil, false},
		{"names/resolve IPv6 address with a zone", []string{"resolve", "fe80::1%eth0", "AAAA"}, ExitUsage, `name "fe80::1%eth0" is an IP address`, nil, false},
		{"names/resolve IPv6 zone hint has no zone", []string{"resolve", "fe80::1%eth0"}, ExitUsage, "(addrwalk resolve -x fe80::1)", nil, false},
		{"names/demo address", []string{"demo", "2001:db8::10"}, ExitUsage, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", nil, false},
		{"names/path address with a zone", []string{"path", "fe80::1%eth0"}, ExitUsage, "-i eth0", nil, false},
		{"names/arp IPv4 address with a zone", []string{"arp", "192.0.2.1%eth0"}, ExitUsage, "an IPv4 address has no zone; give the interface with -I eth0", nil, false},
		// ndp takes the zone as the interface, as ping does.
		{"names/ndp zone is the interface", []string{"ndp", "fe80::1%nosuchdev0"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"names/ndp zone and another interface", []string{"ndp", "-I", "nosuchdev1", "fe80::1%nosuchdev0"}, ExitUsage, "is on link nosuchdev0, but the interface given is nosuchdev1", nil, false},
	}
}
