//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/addrwalk/addrwalk/arptrace"
	"github.com/addrwalk/addrwalk/internal/netlab"
	"github.com/google/go-cmp/cmp"
)

// arpTestTimeout bounds each CLI lab test.
const arpTestTimeout = 30 * time.Second

// runArpIn runs the CLI inside namespace ns and returns status and output.
func runArpIn(t *testing.T, ns string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), arpTestTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := -1
	if err := netlab.Do(ns, func() error {
		code = Run(ctx, args, &stdout, &stderr)
		return nil
	}); err != nil {
		t.Fatalf("netlab.Do: %v", err)
	}
	return code, stdout.String(), stderr.String()
}

func TestArpProbeCLI(t *testing.T) {
	lab := netlab.New(t)
	h1, h2 := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // substrings of stdout
	}{
		{"reply", []string{"arp", "192.0.2.2", "-c", "1"}, ExitOK,
			[]string{"ARPING 192.0.2.2 from 192.0.2.1 eth0\n", "  route: 192.0.2.2 is on-link on eth0",
				"  neighbour cache before: no entry", "-> #1 who-has 192.0.2.2 tell 192.0.2.1  [broadcast to ff:ff:ff:ff:ff:ff from " + h1.MAC,
				"Unicast reply from 192.0.2.2 [" + strings.ToUpper(h2.MAC) + "]  ", "Sent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n"}},
		{"no reply", []string{"arp", "192.0.2.9", "-c", "2", "-i", "0.1"}, ExitNoReply,
			[]string{"-> #2 who-has 192.0.2.9", "Sent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n"}},
		{"dad in use", []string{"arp", "-D", "192.0.2.2", "-c", "1", "-I", "eth0"}, ExitNoReply,
			[]string{"ARPING 192.0.2.2 from 0.0.0.0 eth0", "probe who-has 192.0.2.2 tell 0.0.0.0", "DAD: 192.0.2.2 is in use by " + h2.MAC}},
		{"dad free", []string{"arp", "-D", "192.0.2.77", "-c", "1", "-i", "200ms"}, ExitOK,
			[]string{"DAD: 192.0.2.77 appears free"}},
		{"announce", []string{"arp", "-U", "192.0.2.1", "-c", "1", "-i", "0.1"}, ExitOK,
			[]string{"-> #1 gratuitous who-has 192.0.2.1 tell 192.0.2.1", "Received 0 response(s)"}},
		{"answer", []string{"arp", "-A", "192.0.2.1", "-c", "1", "-i", "0.1"}, ExitOK,
			[]string{"-> #1 gratuitous 192.0.2.1 is-at " + h1.MAC}},
		{"unicast after reply", []string{"arp", "192.0.2.2", "-c", "2", "-i", "0.05", "--no-cache"}, ExitOK,
			[]string{"-> #2 who-has 192.0.2.2 tell 192.0.2.1  [unicast to " + h2.MAC, "neighbour cache before: skipped (--no-cache)"}},
		{"broadcast only", []string{"arp", "192.0.2.2", "-b", "-c", "2", "-i", "0.05"}, ExitOK,
			[]string{"-> #2 who-has 192.0.2.2 tell 192.0.2.1  [broadcast to ff:ff:ff:ff:ff:ff", "Sent 2 probes (2 broadcast(s))"}},
		{"quit on reply", []string{"arp", "192.0.2.2", "-f", "--interval", "5"}, ExitOK, []string{"Sent 1 probes"}},
		{"quiet", []string{"arp", "192.0.2.2", "-q", "-c", "1", "-i", "0.05"}, ExitOK, nil},
		{"ipv6 goes to ndp", []string{"arp", "2001:db8::1"}, ExitUsage, nil},
		{"bad ip", []string{"arp", "192.0.2.300"}, ExitUsage, nil},
		{"old -i interface", []string{"arp", "192.0.2.2", "-i", "eth0"}, ExitUsage, nil},
		{"zero count", []string{"arp", "192.0.2.2", "-c", "0"}, ExitUsage, nil},
		{"dad and unsolicited", []string{"arp", "-D", "-U", "192.0.2.2"}, ExitUsage, nil},
		{"foreign source", []string{"arp", "-s", "192.0.2.50", "192.0.2.2"}, ExitUsage, nil},
		{"loopback", []string{"arp", "127.0.0.1", "-I", "lo"}, ExitUsage, nil},
		{"unknown interface", []string{"arp", "192.0.2.2", "-I", "nope0"}, ExitUsage, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runArpIn(t, h1.NS, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tc.want == nil && out != "" {
				t.Errorf("stdout not empty:\n%s", out)
			}
			if tc.wantCode == ExitUsage && errOut == "" {
				t.Errorf("exit %d without a message on stderr", tc.wantCode)
			}
		})
	}
}

func TestArpProbeJSONAndCache(t *testing.T) {
	lab := netlab.New(t)
	h1, h2 := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	// Fill the kernel's table: ping via the kernel, inside the lab.
	if out, err := lab.Exec(h1.NS, "ip", "neigh", "replace", "192.0.2.2", "lladdr", h2.MAC, "dev", "eth0", "nud", "reachable"); err != nil {
		t.Fatalf("ip neigh replace: %v: %s", err, out)
	}
	code, out, errOut := runArpIn(t, h1.NS, "arp", "192.0.2.2", "-c", "1", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var tr arptrace.Trace
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if tr.Before == nil || !tr.Before.Found || tr.Before.Entry.MAC.String() != h2.MAC {
		t.Errorf("before = %+v, want entry with %s", tr.Before, h2.MAC)
	}
	if tr.Summary.Received != 1 {
		t.Errorf("received = %d", tr.Summary.Received)
	}

	code, out, errOut = runArpIn(t, h1.NS, "arp", "cache", "-i", "eth0")
	if code != ExitOK {
		t.Fatalf("cache exit %d: %s", code, errOut)
	}
	if want := "192.0.2.2 dev eth0 lladdr " + h2.MAC + " REACHABLE"; !strings.Contains(out, want) {
		t.Errorf("cache output lacks %q:\n%s", want, out)
	}
	code, out, _ = runArpIn(t, h1.NS, "arp", "cache", "--json")
	var ns []arptrace.Neighbour
	if err := json.Unmarshal([]byte(out), &ns); err != nil || code != ExitOK || len(ns) != 1 || ns[0].State != "REACHABLE" {
		t.Errorf("cache --json: code %d err %v entries %+v", code, err, ns)
	}
}

// TestArpNoCapNetRaw runs the CLI in a child process (this test binary)
// whose bounding set lacks CAP_NET_RAW: the error must name the capability
// and the setcap command.
func TestArpNoCapNetRaw(t *testing.T) {
	if os.Getenv("ADDRWALK_ARP_HELPER") == "1" {
		os.Exit(Run(context.Background(), strings.Fields(os.Getenv("ADDRWALK_ARP_ARGS")), os.Stdout, os.Stderr))
	}
	lab := netlab.New(t)
	h1, _ := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv (Debian package util-linux) not found: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "ip", "netns", "exec", h1.NS,
		"setpriv", "--inh-caps=-all", "--bounding-set=-net_raw", exe, "-test.run=^TestArpNoCapNetRaw$")
	cmd.Env = append(os.Environ(), "ADDRWALK_ARP_HELPER=1", "ADDRWALK_ARP_ARGS=arp 192.0.2.2 -c 1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != ExitUsage {
		t.Fatalf("child: err %v, want exit %d; stderr:\n%s", err, ExitUsage, stderr.String())
	}
	for _, want := range []string{"CAP_NET_RAW", "setcap cap_net_raw+ep $(command -v addrwalk)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestArpScanCLI(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(4, "192.0.2.0/24")
	code, out, errOut := runArpIn(t, hosts[0].NS, "arp", "scan", "192.0.2.0/29", "-I", "eth0", "-i", "500u", "-t", "100", "--json", "-R")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// JSON Lines: one "host" object per reply, then one "summary".
	got := map[string]string{}
	var types []string
	var sum arptrace.ScanResult
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var line struct {
			Type string `json:"type"`
			arptrace.ScanResponse
			Scanned int                 `json:"scanned"`
			Hosts   []arptrace.ScanHost `json:"hosts"`
		}
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("json line: %v\n%s", err, out)
		}
		types = append(types, line.Type)
		if line.Type == "host" {
			got[line.IP.String()] = line.MAC.String()
		} else {
			sum.Scanned, sum.Hosts = line.Scanned, line.Hosts
		}
	}
	want := map[string]string{}
	for _, h := range hosts[1:] {
		want[h.Addr.Addr().String()] = h.MAC
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scan vs ip link (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"host", "host", "host", "summary"}, types); diff != "" {
		t.Errorf("line types (-want +got):\n%s", diff)
	}
	if sum.Scanned != 8 || len(sum.Hosts) != 3 {
		t.Errorf("summary: scanned %d, %d hosts; want 8 and 3", sum.Scanned, len(sum.Hosts))
	}

	code, out, _ = runArpIn(t, hosts[0].NS, "arp", "scan", "192.0.2.0/29", "-I", "eth0", "-B", "1M", "-t", "100ms")
	for _, w := range []string{"Interface: eth0, type: EN10MB, MAC: " + hosts[0].MAC + ", IPv4: 192.0.2.1\n",
		"Starting addrwalk arp scan with 8 hosts (interval 0.512ms, 2 attempts, timeout 100.000ms, backoff 1.50)",
		"192.0.2.2\t" + hosts[1].MAC + "\t(Unknown: locally administered)\n",
		"3 packets received by filter, 0 packets dropped by kernel", "8 hosts scanned in", "3 responded"} {
		if code != ExitOK || !strings.Contains(out, w) {
			t.Errorf("exit %d; text output lacks %q:\n%s", code, w, out)
		}
	}

	tests := []struct {
		name string
		args []string
	}{
		{"huge range", []string{"arp", "scan", "10.0.0.0/8", "-I", "eth0"}},
		{"not a prefix", []string{"arp", "scan", "192.0.2.0/33"}},
		{"ipv6", []string{"arp", "scan", "2001:db8::/120"}},
		{"bad bandwidth", []string{"arp", "scan", "192.0.2.0/30", "-B", "fast"}},
		{"interval and bandwidth", []string{"arp", "scan", "192.0.2.0/30", "-B", "1M", "-i", "2"}},
		{"bad interval", []string{"arp", "scan", "192.0.2.0/30", "-i", "soon"}},
		{"zero retry", []string{"arp", "scan", "192.0.2.0/30", "-r", "0"}},
		{"no targets", []string{"arp", "scan", "-I", "eth0"}},
		{"localnet and targets", []string{"arp", "scan", "-l", "192.0.2.0/30"}},
		{"name with --numeric", []string{"arp", "scan", "-N", "printer.example.org"}},
		{"missing ouifile", []string{"arp", "scan", "-O", "/nonexistent/oui.txt", "192.0.2.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runArpIn(t, hosts[0].NS, tc.args...)
			if code != ExitUsage || errOut == "" {
				t.Errorf("exit %d, want %d with a message; stderr %q", code, ExitUsage, errOut)
			}
		})
	}
}

// maxAnnounceTries bounds how often the test re-sends an announcement
// while waiting for the watcher to see one (each arping takes ~1 s).
const maxAnnounceTries = 10

// TestArpWatchCLI seeds a state file in which 192.0.2.3 has another MAC,
// then h3 announces itself: the watcher reports a changed MAC and saves
// the new one.
func TestArpWatchCLI(t *testing.T) {
	lab := netlab.New(t)
	hosts := lab.Bridge(3, "192.0.2.0/24")
	state := t.TempDir() + "/stations.json"
	old := arptrace.MAC{0x02, 0, 0x5e, 0, 0, 0x99}
	if err := arptrace.SaveStations("--state", state, []arptrace.Station{{IP: hosts[2].Addr.Addr(), MAC: old,
		FirstSeen: time.Now().Add(-time.Hour), LastSeen: time.Now().Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := runArpIn(t, hosts[0].NS, "arp", "watch", "-i", "eth0", "--json", "--count", "1",
			"--duration", "20", "--state", state)
		done <- result{code, out, errOut}
	}()
	var r result
	for i := 0; ; i++ {
		if i == maxAnnounceTries {
			t.Fatalf("watcher saw nothing after %d announcements", i)
		}
		if out, err := lab.Exec(hosts[2].NS, "arping", "-U", "-c", "1", "-I", "eth0", "192.0.2.3"); err != nil {
			t.Fatalf("arping -U: %v: %s", err, out)
		}
		select {
		case r = <-done:
		default:
			continue
		}
		break
	}
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var kinds []string
	dec := json.NewDecoder(strings.NewReader(r.out))
	for dec.More() {
		var ev arptrace.Event
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("json line: %v\n%s", err, r.out)
		}
		kinds = append(kinds, string(ev.Kind)+" "+ev.MAC.String()+" was "+ev.OldMAC.String())
	}
	want := []string{
		"packet " + hosts[2].MAC + " was 00:00:00:00:00:00",
		"changed-mac " + hosts[2].MAC + " was " + old.String(),
	}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	st, err := arptrace.LoadStations("--state", state)
	if err != nil || len(st) != 1 || st[0].MAC.String() != hosts[2].MAC || st[0].PrevMAC != old {
		t.Errorf("saved state %+v, %v; want %s (was %s)", st, err, hosts[2].MAC, old)
	}
}

// TestArpCacheMatchesIPNeigh fills a namespace's neighbour table with
// entries in several states and wants `arp cache` to list what `ip -4
// neigh` lists (NOARP hidden), and `--all` what `ip -4 neigh show nud all`
// lists, each line followed only by the entry's ages.
func TestArpCacheMatchesIPNeigh(t *testing.T) {
	lab := netlab.New(t)
	h1, _ := lab.Pair("192.0.2.1/24", "192.0.2.2/24")
	lab.Batch(h1.NS,
		"neigh replace 192.0.2.2 lladdr 02:00:5e:00:53:02 dev eth0 nud reachable",
		"neigh replace 192.0.2.3 lladdr 02:00:5e:00:53:03 dev eth0 nud permanent",
		"neigh replace 192.0.2.4 lladdr 02:00:5e:00:53:04 dev eth0 nud stale",
		"neigh replace 192.0.2.5 lladdr 02:00:5e:00:53:05 dev eth0 nud noarp",
		"neigh replace 192.0.2.6 lladdr 02:00:5e:00:53:06 dev eth0 nud stale router")
	ages := regexp.MustCompile(` \(updated [^)]*\)$`)
	for _, tc := range []struct {
		name    string
		args    []string
		ipNeigh []string
	}{
		{"default", nil, []string{"-4", "neigh", "show"}},
		{"all", []string{"--all"}, []string{"-4", "neigh", "show", "nud", "all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := lab.Exec(h1.NS, append([]string{"ip"}, tc.ipNeigh...)...)
			if err != nil {
				t.Fatalf("ip neigh: %v: %s", err, ref)
			}
			code, out, errOut := runArpIn(t, h1.NS, append([]string{"arp", "cache"}, tc.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got, want []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if !ages.MatchString(l) {
					t.Errorf("line without ages: %q", l)
				}
				got = append(got, ages.ReplaceAllString(l, ""))
			}
			for _, l := range strings.Split(strings.TrimSpace(string(ref)), "\n") {
				want = append(want, strings.TrimSpace(l))
			}
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("arp cache vs ip %s (-ip +addrwalk):\n%s", strings.Join(tc.ipNeigh, " "), diff)
			}
		})
	}
}
