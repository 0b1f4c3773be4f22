package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/resolver/report/reporttest"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// runCLI runs the command line and returns status, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// simHints starts the simulated internet and writes its root hints.
func simHints(t *testing.T) (string, string) {
	t.Helper()
	lab, err := sim.New(sim.Config{NoLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	path := filepath.Join(t.TempDir(), "root.hints")
	if err := os.WriteFile(path, []byte(lab.RootHints()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, strconv.Itoa(int(lab.Port()))
}

func TestResolveCLI(t *testing.T) {
	hints, port := simHints(t)
	base := []string{"resolve", "--root-hints", hints, "--port", port, "--allow-loopback"}
	// A closed port on loopback: every query is refused at once.
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	deadPort := strconv.Itoa(l.LocalAddr().(*net.UDPAddr).Port)
	l.Close()

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		stderr   string
	}{
		{"answer", append(base, "www.example.org"), ExitOK,
			[]string{"status: NOERROR", "www.example.org.\t3600\tIN\tA\t192.0.2.10"}, ""},
		{"trace", append(base, "--trace", "www.quiet-harbor.org"), ExitOK,
			[]string{"[.] org. NS -> ", "why: RTT unknown, tried first", "got: referral", "  >> ns1.dnshost.net. is a name server",
				"  << ns1.dnshost.net. has 127.10.2.7", "[quiet-harbor.org.] www.quiet-harbor.org. A", ";; walk: 5 upstream queries"}, ""},
		{"short", append(base, "--short", "example.org", "MX"), ExitOK,
			[]string{"10 mail.example.org.\n20 mail-backup.example.net.\n"}, ""},
		{"nxdomain is an answer", append(base, "nonexistent.example.org"), ExitOK,
			[]string{"status: NXDOMAIN", ";; AUTHORITY SECTION:", "IN\tSOA\t"}, ""},
		{"idn", append(base, "bücher.example.org"), ExitOK,
			[]string{";xn--bcher-kva.example.org.\t\tIN\tA"}, ""},
		{"typennn", append(base, "--short", "www.example.org", "TYPE1"), ExitOK, []string{"192.0.2.10"}, ""},
		{"show infra", append(base, "--show-infra", "www.example.org"), ExitOK,
			// root, org. and example.org. servers: a record for the zone
			// and an address-wide one each.
			[]string{";; server selection (infrastructure cache): 6 entries", "SRTT", "(any zone)"}, ""},
		{"no reply", []string{"resolve", "--root-hints", hints, "--port", deadPort, "--query-timeout", "100ms", "www.example.org"}, ExitDNSNoReply,
			[]string{"status: SERVFAIL", ";; SERVFAIL: no reachable authoritative server"}, ""},
		{"unknown type", append(base, "www.example.org", "BOGUS"), ExitUsage, nil, `type "BOGUS": unknown`},
		{"bad name", append(base, "a..b"), ExitUsage, nil, "not a domain name"},
		{"type 65536", append(base, "www.example.org", "TYPE65536"), ExitUsage, nil, "TYPEnnn with nnn 1..65535"},
		{"service labels", append(base, "--short", "_sip._tcp.example.org", "SRV"), ExitOK, []string{"10 60 5060 sip.example.org.\n"}, ""},
		{"idn beside a service label", append(base, "_tcp.bücher.example.org", "SRV"), ExitOK, []string{";_tcp.xn--bcher-kva.example.org.\t\tIN\tSRV"}, ""},
		{"invalid idn label", append(base, "\u0301b\u00fc.example.org"), ExitUsage, nil, "is not a valid internationalised name"},
		{"short prints the cname chain", append(base, "--short", "go.example.com"), ExitOK,
			[]string{"start.example.com.\nhop.example.net.\nend.example.org.\n192.0.2.99\n"}, ""},
		{"any passes on what the server sent", append(base, "--short", "www.example.org", "ANY"), ExitOK,
			[]string{"192.0.2.10\n2001:db8::10\n"}, ""},
		{"reverse -x", append(base, "-x", "192.0.2.10", "--short"), ExitOK, []string{"www.example.org."}, ""},
		{"reverse -x drops a zone and says so", append(base, "-x", "fe80::1%eth0"), ExitOK,
			[]string{";1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa.\t\tIN\tPTR"},
			"addrwalk: -x fe80::1%eth0: the zone %eth0 is left out: a reverse name (ip6.arpa.) is the same on every link\n"},
		{"reverse -x of an IPv4-mapped address says it looks up the IPv4 one", append(base, "-x", "::ffff:192.0.2.10", "--short"), ExitOK,
			[]string{"www.example.org."},
			"addrwalk: -x ::ffff:192.0.2.10: an IPv4-mapped IPv6 address: the IPv4 address 192.0.2.10 is looked up (in-addr.arpa.)\n"},
		{"reverse -x bad address", append(base, "-x", "192.0.2.300"), ExitUsage, nil, "not an IPv4 or IPv6 address"},
		{"cd", append(base, "--cd", "--short", "www.example.org"), ExitOK, []string{"192.0.2.10"}, ""},
		{"-4 and -6", append(base, "-4", "-6", "www.example.org"), ExitUsage, nil, "exclude each other"},
		{"missing hints file", []string{"resolve", "--root-hints", "/nonexistent/hints", "x.org"}, ExitUsage, nil, "cannot read --root-hints /nonexistent/hints: no such file"},
		{"no name", []string{"resolve"}, ExitUsage, nil, "expected \"<name>\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tt.stderr != "" && !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
		})
	}
}

// TestResolveJSON checks resolve --json against the published schema
// for every kind of outcome, and the shape of a trace.
func TestResolveJSON(t *testing.T) {
	hints, port := simHints(t)
	base := []string{"resolve", "--root-hints", hints, "--port", port, "--allow-loopback", "--json"}
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	deadPort := strconv.Itoa(l.LocalAddr().(*net.UDPAddr).Port)
	l.Close()
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"cname", append(base, "alias.example.org"), ExitOK},
		{"nxdomain", append(base, "nonexistent.example.org"), ExitOK},
		{"nodata", append(base, "www.example.org", "MX"), ExitOK},
		{"glueless", append(base, "www.quiet-harbor.org"), ExitOK},
		{"any", append(base, "www.example.org", "ANY"), ExitOK},
		{"show infra", append(base, "--show-infra", "www.example.org"), ExitOK},
		{"servfail", []string{"resolve", "--json", "--root-hints", hints, "--port", deadPort, "--query-timeout", "100ms", "www.example.org"}, ExitDNSNoReply},
		{"demo dnssec", []string{"demo", "--no-latency", "--json", "--dnssec", "dnssec-secure"}, ExitOK},
		{"demo bogus", []string{"demo", "--no-latency", "--json", "--dnssec", "dnssec-bogus-expired"}, ExitDNSNoReply},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut)
			}
			reporttest.Validate(t, reporttest.Resolution, []byte(out))
		})
	}

	code, out, errOut := runCLI(t, append(base, "alias.example.org")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got := doc["answer"].([]any)[0].(string); strings.Contains(got, "\t") || !strings.HasPrefix(got, "alias.example.org. 3600 IN CNAME ") {
		t.Errorf("answer record %q, want presentation format with single spaces", got)
	}
	steps := doc["trace"].(map[string]any)["steps"].([]any)
	var kinds []string
	for _, s := range steps {
		kinds = append(kinds, s.(map[string]any)["kind"].(string))
	}
	want := "cache query query query restart cache query query query done"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("step kinds %q, want %q", got, want)
	}
	q := steps[1].(map[string]any)
	for _, k := range []string{"name", "type", "zone", "server", "addr", "why", "transport", "rtt_ms", "rcode", "flags", "outcome", "referral"} {
		if _, ok := q[k]; !ok {
			t.Errorf("query step lacks %q: %v", k, q)
		}
	}
}

func TestDemoCLI(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"default walk", []string{"demo", "--no-latency"}, []string{
			";; simulated internet: 35 servers", "[.] org. NS", "[org.] example.org. NS", "[example.org.] www.example.org. A", "answer (NOERROR; qr aa): 1 record(s)"}},
		{"named example", []string{"demo", "--no-latency", "tcp"}, []string{"truncated", "TC=1: retry over TCP", " tcp "}},
		{"list", []string{"demo", "--list"}, []string{"glueless", "dead-server", "www.tideline.com."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestREADMECommands checks that the README's two set-up commands are
// the ones this repository answers to, and runs the demo one.
func TestREADMECommands(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, cmd := range []string{"go run ./cmd/addrwalk demo", "scripts/test"} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README lacks %q", cmd)
		}
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^scripts/test`).Match(ci) {
		t.Errorf(".ci/run does not run scripts/test")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out bytes.Buffer
	if code := Run(ctx, []string{"demo"}, &out, &out); code != ExitOK || !strings.Contains(out.String(), "ANSWER SECTION") {
		t.Errorf("README's demo: exit %d\n%s", code, out.String())
	}
}

// TestDemoDNSSEC validates on the signed simulated internet and prints
// the chain of trust for a secure, an insecure and a bogus name.
func TestDemoDNSSEC(t *testing.T) {
	tests := []struct {
		example  string
		wantCode int
		want     []string
	}{
		{"dnssec-secure", ExitOK, []string{"dnssec: Secure", ";; DNSSEC: Secure", ".  (trust anchor)  Secure",
			"org.  (DS in .)  Secure", "dnssec-test.org.  (DS in org.)  Secure", "www.dnssec-test.org. A  Secure",
			"RRSIG www.dnssec-test.org. A by dnssec-test.org. key"}},
		{"dnssec-insecure", ExitOK, []string{";; DNSSEC: Insecure", "insecure.dnssec-test.org.  (DS in dnssec-test.org.)  Insecure",
			"why: unsigned delegation"}},
		{"dnssec-bogus-expired", ExitDNSNoReply, []string{"status: SERVFAIL", ";; DNSSEC: Bogus", "signature expired",
			"expired.dnssec-test.org.  (DS in dnssec-test.org.)  Bogus", "alg 13 ZSK  (sent, not trusted)",
			"RRSIG expired.dnssec-test.org. DNSKEY by expired.dnssec-test.org. key"}},
		{"dnssec-bogus-wrong-ds", ExitDNSNoReply, []string{"status: SERVFAIL", ";; DNSSEC: Bogus"}},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			code, out, errOut := runCLI(t, "demo", "--no-latency", "--dnssec", tt.example)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d: %s", code, tt.wantCode, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
