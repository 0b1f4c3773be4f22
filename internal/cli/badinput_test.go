package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/msgcheck"
)

// badInput is one wrong thing a user can type or point addrwalk at.
type badInput struct {
	name string
	args []string
	code int
	// want is a fragment the message must hold: the value, file:line,
	// flag or name that was wrong, or what is accepted.
	want string
	// stdout, when set, means the failure is reported on stdout (a DNS
	// failure prints dig's header and a ";; SERVFAIL:" line, with the
	// trace when asked): every line of stdout holding one of these
	// prefixes is checked, and stderr must be empty.
	stdout []string
	// output means stdout holds the result that came before the failure
	// (a picture that could not be written after the resolution).
	output bool
}

// runBadInputs runs each case with run and checks its status and message.
func runBadInputs(t *testing.T, cases []badInput, run func(t *testing.T, args ...string) (int, string, string)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
			var msgs []string
			if c.stdout != nil {
				if errOut != "" {
					t.Errorf("stderr %q, want nothing: the failure is on stdout", errOut)
				}
				for _, line := range strings.Split(out, "\n") {
					for _, p := range c.stdout {
						if strings.Contains(line, p) {
							msgs = append(msgs, strings.TrimSpace(line))
							break
						}
					}
				}
				if len(msgs) == 0 {
					t.Fatalf("no line with %q in stdout:\n%s", c.stdout, out)
				}
			} else {
				if out != "" && !c.output {
					t.Errorf("stdout %q, want nothing before or with the error", out)
				}
				lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
				if len(lines) == 2 && strings.HasPrefix(lines[1], "run 'addrwalk ") && strings.HasSuffix(lines[1], " --help' for usage") {
					lines = lines[:1]
				}
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "addrwalk: ") {
					t.Fatalf("stderr is not one 'addrwalk: ' line (and the usage hint):\n%s", errOut)
				}
				msgs = lines
			}
			if !strings.Contains(strings.Join(msgs, "\n"), c.want) {
				t.Errorf("message does not say %q:\n%s", c.want, strings.Join(msgs, "\n"))
			}
			for _, m := range msgs {
				for _, p := range msgcheck.Problems(m) {
					t.Errorf("%s\n  in: %s", p, m)
				}
			}
		})
	}
}

// writeFiles writes name→content files into dir and returns their paths.
func writeFiles(t *testing.T, dir string, files map[string]string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

// TestBadInputs runs wrong input across every command and checks each
// message: the documented exit status, one line on stderr (and the usage
// hint), what was wrong and where, and none of msgcheck's problems (no
// stutter, no Go library wording, no negative or unrounded durations);
// nothing announced before the failure.
// The arp and ndp cases use interface names that do not exist, so no
// frame is ever sent; TestBadInputsInNamespace has the interfaces that
// exist but cannot carry ARP or ND (loopback, down), in a namespace.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	f := writeFiles(t, dir, map[string]string{
		"hints.bad":         "garbage here\n",
		"hints.nons":        "a.root-servers.net. 3600000 A 127.0.0.1\n",
		"anchor.bad":        "garbage here\n",
		"anchor.a":          ". 3600 IN A 192.0.2.1\n",
		"syntax.toml":       "[server\n",
		"unknown.toml":      "[bogus]\nx = 1\n",
		"listenstr.toml":    "[server]\nlisten = \"127.0.0.1:53\"\n",
		"listen300.toml":    "[server]\nlisten = [\"127.0.0.300:53\"]\n",
		"listenport.toml":   "[server]\nlisten = [\"127.0.0.1:99999\"]\n",
		"listennoport.toml": "[server]\nlisten = [\"127.0.0.1\"]\n",
		"ttl.toml":          "[cache]\nmax-ttl = \"an hour\"\n",
		"ttlneg.toml":       "[cache]\nmax-ttl = -5\n",
		"udpsize.toml":      "[server]\nudp-size = 99999999\n",
		"udpsizestr.toml":   "[server]\nudp-size = \"big\"\n",
		"loglevel.toml":     "[log]\nlevel = \"verbose\"\n",
		"hintsmissing.toml": "[resolver]\nroot-hints = \"/nonexistent/root.hints\"\n",
		"allow.toml":        "[access]\nallow = [\"10.0.0.0/33\"]\n",
		"local.toml":        "[local]\nrecords = [\"router.example.org. 3600 IN A 300.1.1.1\"]\n",
		"state.json":        "{not json",
	})
	noDir := filepath.Join(dir, "nonexistent", "x.svg")
	// A closed port on loopback: every query is refused at once.
	deadHints := writeFiles(t, dir, map[string]string{"dead.hints": ". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n"})["dead.hints"]
	dead, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	deadPort := fmt.Sprint(dead.LocalAddr().(*net.UDPAddr).Port)
	dead.Close()
	// A silent server: it reads and never answers, so queries time out.
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silentPort := fmt.Sprint(silent.LocalAddr().(*net.UDPAddr).Port)
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	lab := []string{"--root-hints", deadHints, "--port", deadPort, "--allow-loopback", "--no-validate"}
	resolve := func(extra ...string) []string { return append(append([]string{"resolve"}, lab...), extra...) }
	servfail := []string{";; SERVFAIL", "got:", "!!", "<<"}

	cases := []badInput{
		// Names, types and addresses.
		{"resolve/empty label", resolve("bad..name"), ExitUsage, `"bad..name"`, nil, false},
		{"resolve/long label", resolve(strings.Repeat("a", 64) + ".org"), ExitUsage, "63", nil, false},
		{"resolve/unknown type", resolve("www.example.org", "NOSUCHTYPE"), ExitUsage, `"NOSUCHTYPE"`, nil, false},
		{"resolve/type number too big", resolve("www.example.org", "TYPE70000"), ExitUsage, "TYPE70000", nil, false},
		{"resolve/-x not an address", resolve("-x", "1.2.3"), ExitUsage, `"1.2.3"`, nil, false},
		{"demo/unknown type", []string{"demo", "www.example.org", "NOSUCHTYPE"}, ExitUsage, `"NOSUCHTYPE"`, nil, false},
		// Numbers and durations.
		{"resolve/port too big", resolve("--port", "99999", "x.org"), ExitUsage, `"99999"`, nil, false},
		{"resolve/port negative", resolve("--port", "-1", "x.org"), ExitUsage, `"-1"`, nil, false},
		{"resolve/port word", resolve("--port", "domain", "x.org"), ExitUsage, `"domain"`, nil, false},
		{"resolve/port missing", resolve("x.org", "--port"), ExitUsage, "--port", nil, false},
		{"resolve/timeout negative", resolve("--timeout", "-1", "x.org"), ExitUsage, `"-1" is negative`, nil, false},
		{"resolve/timeout unit", resolve("--timeout", "1x", "x.org"), ExitUsage, `"1x"`, nil, false},
		{"resolve/timeout zero", resolve("--timeout", "0", "x.org"), ExitUsage, "--timeout", nil, false},
		{"resolve/timeout missing", resolve("x.org", "--timeout"), ExitUsage, "--timeout", nil, false},
		{"resolve/query-timeout flag as value", resolve("--query-timeout", "--trace", "x.org"), ExitUsage, "--trace", nil, false},
		{"sim/port word", []string{"sim", "--port", "http"}, ExitUsage, `"http"`, nil, false},
		{"arp/count word", []string{"arp", "-c", "x", "192.0.2.1"}, ExitUsage, `"x"`, nil, false},
		{"arp/count negative", []string{"arp", "-c", "-1", "192.0.2.1"}, ExitUsage, "-c", nil, false},
		{"arp/deadline negative", []string{"arp", "-w", "-1", "192.0.2.1"}, ExitUsage, `"-1" is negative`, nil, false},
		{"arp scan/retry fraction", []string{"arp", "scan", "--retry", "1.5", "192.0.2.0/30"}, ExitUsage, `"1.5"`, nil, false},
		{"arp watch/duration word", []string{"arp", "watch", "-d", "soon"}, ExitUsage, `"soon"`, nil, false},
		{"path/arp-timeout negative", []string{"path", "--sim", "--arp-timeout", "-0.3", "www.example.org"}, ExitUsage, `"-0.3"`, nil, false},
		// Files given on the command line.
		{"resolve/root hints missing", resolve("--root-hints", "/nonexistent/root.hints", "x.org"), ExitUsage, "cannot read --root-hints /nonexistent/root.hints: no such file", nil, false},
		{"resolve/root hints without NS", resolve("--root-hints", f["hints.nons"], "x.org"), ExitUsage, f["hints.nons"], nil, false},
		{"resolve/trust anchor missing", []string{"resolve", "--root-hints", deadHints, "--trust-anchor", "/nonexistent/ta", "x.org"}, ExitUsage, "cannot read --trust-anchor /nonexistent/ta: no such file", nil, false},
		{"resolve/svg into missing dir", resolve("--svg", noDir, "x.org"), ExitUsage, "cannot write --svg " + noDir + ": no directory", nil, false},
		{"arp watch/state garbage", []string{"arp", "watch", "-i", "nosuchdev0", "--state", f["state.json"]}, ExitUsage, f["state.json"], nil, false},
		{"resolve/root hints garbage", resolve("--root-hints", f["hints.bad"], "x.org"), ExitUsage, f["hints.bad"] + ":1", nil, false},
		{"resolve/trust anchor garbage", append([]string{"resolve", "--root-hints", deadHints, "--trust-anchor", f["anchor.bad"]}, "x.org"), ExitUsage, f["anchor.bad"] + ":1", nil, false},
		{"resolve/trust anchor not DS", append([]string{"resolve", "--root-hints", deadHints, "--trust-anchor", f["anchor.a"]}, "x.org"), ExitUsage, "DS or DNSKEY", nil, false},
		{"serve/config local record", []string{"serve", "--check-config", "--config", f["local.toml"]}, ExitUsage, "300.1.1.1", nil, false},
		{"serve/tls cert missing", []string{"serve", "--check-config", "--dot", "127.0.0.1:8853", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"}, ExitUsage, "cannot read --tls-cert /nonexistent/c.pem: no such file", nil, false},
		// Configuration files.
		{"serve/config missing", []string{"serve", "--check-config", "--config", "/nonexistent/addrwalk.toml"}, ExitUsage, "cannot read --config /nonexistent/addrwalk.toml: no such file", nil, false},
		{"serve/config syntax", []string{"serve", "--check-config", "--config", f["syntax.toml"]}, ExitUsage, f["syntax.toml"] + ":1", nil, false},
		{"serve/config unknown key", []string{"serve", "--check-config", "--config", f["unknown.toml"]}, ExitUsage, `"bogus"`, nil, false},
		{"serve/config listen string", []string{"serve", "--check-config", "--config", f["listenstr.toml"]}, ExitUsage, f["listenstr.toml"] + ":2", nil, false},
		{"serve/config listen 300", []string{"serve", "--check-config", "--config", f["listen300.toml"]}, ExitUsage, "127.0.0.300:53", nil, false},
		{"serve/config listen port", []string{"serve", "--check-config", "--config", f["listenport.toml"]}, ExitUsage, "127.0.0.1:99999", nil, false},
		{"serve/config listen no port", []string{"serve", "--check-config", "--config", f["listennoport.toml"]}, ExitUsage, `"127.0.0.1" is not accepted; want an address and port`, nil, false},
		{"serve/config duration word", []string{"serve", "--check-config", "--config", f["ttl.toml"]}, ExitUsage, f["ttl.toml"] + ":2", nil, false},
		{"serve/config duration negative", []string{"serve", "--check-config", "--config", f["ttlneg.toml"]}, ExitUsage, f["ttlneg.toml"] + ":2", nil, false},
		{"serve/config udp-size range", []string{"serve", "--check-config", "--config", f["udpsize.toml"]}, ExitUsage, "512", nil, false},
		{"serve/config udp-size word", []string{"serve", "--check-config", "--config", f["udpsizestr.toml"]}, ExitUsage, f["udpsizestr.toml"] + ":2", nil, false},
		{"serve/config log level", []string{"serve", "--check-config", "--config", f["loglevel.toml"]}, ExitUsage, `"verbose"`, nil, false},
		{"serve/config root hints missing", []string{"serve", "--check-config", "--config", f["hintsmissing.toml"]}, ExitUsage, "cannot read resolver.root-hints /nonexistent/root.hints: no such file", nil, false},
		{"serve/config allow", []string{"serve", "--check-config", "--config", f["allow.toml"]}, ExitUsage, "10.0.0.0/33", nil, false},
		// serve's flags and listeners.
		{"serve/listen 300", []string{"serve", "--check-config", "--listen", "127.0.0.300:53"}, ExitUsage, "127.0.0.300:53", nil, false},
		{"serve/listen no port", []string{"serve", "--check-config", "--listen", "127.0.0.1"}, ExitUsage, "ADDR:PORT", nil, false},
		{"serve/allow prefix", []string{"serve", "--check-config", "--allow", "10.0.0.0/33"}, ExitUsage, "10.0.0.0/33", nil, false},
		{"serve/metrics", []string{"serve", "--check-config", "--metrics", "nowhere"}, ExitUsage, `"nowhere"`, nil, false},
		{"serve/log level", []string{"serve", "--check-config", "--log-level", "verbose"}, ExitUsage, `"verbose"`, nil, false},
		{"serve/port in use", []string{"serve", "--root-hints", deadHints, "--listen", busy.LocalAddr().String()}, ExitFailure, busy.LocalAddr().String(), nil, false},
		{"serve/address not here", []string{"serve", "--root-hints", deadHints, "--listen", "192.0.2.1:5353"}, ExitFailure, "192.0.2.1:5353", nil, false},
		{"ctl/no server", []string{"ctl", "--socket", filepath.Join(dir, "none.sock"), "status"}, ExitFailure, filepath.Join(dir, "none.sock"), nil, false},
		// Upstreams on loopback that refuse or never answer.
		// Upstreams on loopback that refuse or never answer.
		{"resolve/refused", resolve("--port", deadPort, "--timeout", "2", "www.example.org"), ExitDNSNoReply, "127.0.0.1", []string{";; SERVFAIL"}, false},
		{"resolve/refused trace", resolve("--port", deadPort, "--timeout", "2", "--trace", "www.example.org"), ExitDNSNoReply, "refused", servfail, false},
		{"resolve/silent trace", resolve("--port", silentPort, "--timeout", "1", "--query-timeout", "0.2", "--trace", "www.example.org"), ExitDNSNoReply, "no reply", servfail, false},
		{"resolve/deadline", resolve("--port", silentPort, "--timeout", "0.25", "--query-timeout", "0.2", "--trace", "www.example.org"), ExitDNSNoReply, "deadline", servfail, false},
		// arp and ndp with an interface that does not exist: said
		// plainly, with the interfaces that do, and nothing before.
		{"arp probe/no interface", []string{"arp", "-I", "nosuchdev0", "192.0.2.1"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"arp scan/no interface", []string{"arp", "scan", "-I", "nosuchdev0", "192.0.2.0/30"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"arp scan/localnet no interface", []string{"arp", "scan", "-I", "nosuchdev0", "--localnet"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"arp watch/no interface", []string{"arp", "watch", "-i", "nosuchdev0", "-d", "0.1"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"arp cache/no interface", []string{"arp", "cache", "-i", "nosuchdev0"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"ndp probe/no interface", []string{"ndp", "-I", "nosuchdev0", "2001:db8::1"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"ndp scan/no interface", []string{"ndp", "scan", "-I", "nosuchdev0"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"ndp cache/no interface", []string{"ndp", "cache", "-i", "nosuchdev0"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		{"path/no interface", []string{"path", "--sim", "-i", "nosuchdev0", "www.example.org"}, ExitUsage, `no interface named "nosuchdev0"`, nil, false},
		// Addresses that are not addresses: refused without asking the
		// system resolver to look them up as names.
		{"arp probe/short address", []string{"arp", "1.2.3"}, ExitUsage, `"1.2.3"`, nil, false},
		{"arp probe/octet 300", []string{"arp", "300.1.1.1"}, ExitUsage, `"300.1.1.1"`, nil, false},
		{"arp probe/IPv6", []string{"arp", "2001:db8::1"}, ExitUsage, "ndp", nil, false},
		{"arp scan/prefix /40", []string{"arp", "scan", "-I", "nosuchdev0", "10.0.0.0/40"}, ExitUsage, `"10.0.0.0/40"`, nil, false},
		{"arp scan/backwards range", []string{"arp", "scan", "192.0.2.9-192.0.2.1"}, ExitUsage, `"192.0.2.9-192.0.2.1"`, nil, false},
		{"arp scan/too large", []string{"arp", "scan", "10.0.0.0/8"}, ExitUsage, "10.0.0.0/8", nil, false},
		{"ndp probe/IPv4", []string{"ndp", "192.0.2.1"}, ExitUsage, "arp", nil, false},
		{"ndp probe/bad address", []string{"ndp", "fe80::zz"}, ExitUsage, `"fe80::zz"`, nil, false},
		// Commands and help.
		{"help/unknown command", []string{"help", "nosuch"}, ExitUsage, "nosuch", nil, false},
		{"completion/unknown shell", []string{"completion", "tcsh"}, ExitUsage, "tcsh", nil, false},
		{"unknown flag", []string{"resolve", "--bogus", "x.org"}, ExitUsage, "--bogus", nil, false},
	}
	cases = append(cases, fileCases(t, dir, deadHints)...)
	cases = append(cases, outputCases(t, dir)...)
	cases = append(cases, addressNameCases()...)
	runBadInputs(t, cases, runCLI)
}
