package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"

	"github.com/addrwalk/addrwalk/internal/sim"
	"github.com/addrwalk/addrwalk/resolver/resolvertest"
)

// chromiumPath finds the browser; without one the test skips on a
// developer's machine and fails in CI (which installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("no chromium on PATH (apt-get install chromium); skipped outside CI")
	}
	t.Fatal("no chromium on PATH: .ci/run installs the Debian package chromium")
	return ""
}

// startServeSim runs `addrwalk serve` in process against the simulated
// internet, with the debug listener (and so the walk page) on.
func startServeSim(t *testing.T) (dnsAddr, debugAddr netip.AddrPort) {
	t.Helper()
	lab, err := sim.New(sim.Config{NoLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	resolvertest.Start(t, lab)
	dir := t.TempDir()
	hints, anchor := filepath.Join(dir, "root.hints"), filepath.Join(dir, "root.ds")
	if err := os.WriteFile(hints, []byte(lab.RootHints()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(anchor, []byte(lab.TrustAnchor()), 0o600); err != nil {
		t.Fatal(err)
	}
	// A random 127.59.x.y address: tests in other worktrees run at the
	// same time.
	host := fmt.Sprintf("127.59.%d.%d", 1+rand.IntN(250), 1+rand.IntN(250))
	type addrs struct{ dns, debug netip.AddrPort }
	ready := make(chan addrs, 1)
	cmd := &ServeCmd{Listen: []string{host + ":0"}, Metrics: host + ":0", RootHints: hints, Port: lab.Port(),
		AllowLoopback: true, TrustAnchor: anchor, LogLevel: "warn",
		ready: func(d []netip.AddrPort, m netip.AddrPort) { ready <- addrs{d[0], m} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- cmd.Run(&Globals{Ctx: ctx, Stdout: io.Discard, Stderr: &lockedWriter{w: &stderr}})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a.dns, a.debug
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, stderr.String())
	}
	return
}

func query(t *testing.T, server netip.AddrPort, name string) {
	t.Helper()
	c := &dns.Client{Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	if _, _, err := c.Exchange(m, server.String()); err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
}

// TestWalkPageInChromium loads the serve command's walk page in real
// headless Chromium: the resolutions a client asked for are listed, the
// search narrows the list, opening one draws its zones and servers, the
// live mode shows a new resolution within a second, and the console stays
// free of errors. On failure the screenshots are kept (under
// $ADDRWALK_ARTIFACTS when set, else the test's artifact directory, kept
// with go test -artifacts).
func TestWalkPageInChromium(t *testing.T) {
	chrome := chromiumPath(t)
	dnsAddr, debugAddr := startServeSim(t)
	for _, name := range []string{"www.example.org.", "www.quiet-harbor.org.", "www.wrong-ds.dnssec-test.org."} {
		query(t, dnsAddr, name)
	}

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000),
		chromedp.Flag("no-proxy-server", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The whole browser session is bounded: a hung page fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	// Console messages, collected until the session ends.
	var mu sync.Mutex
	var consoleErrs []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				consoleErrs = append(consoleErrs, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()

	dir := os.Getenv("ADDRWALK_ARTIFACTS")
	keepAlways := dir != ""
	if dir == "" {
		dir = t.ArtifactDir()
	}
	shot := func(name string) {
		sctx, scancel := context.WithTimeout(bctx, 10*time.Second)
		defer scancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		p := filepath.Join(dir, "walkpage-"+name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		t.Logf("screenshot: %s", p)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(name + "-failed")
			t.Fatalf("%s: %v", name, err)
		}
		if keepAlways {
			shot(name)
		}
	}
	eval := func(name, js string) []string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			shot(name + "-failed")
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	base := "http://" + debugAddr.String()

	// The list shows what the client asked, newest first.
	step("list",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css(`#list li[data-name="www.wrong-ds.dnssec-test.org."]`)),
		chromedp.WaitVisible(css(`.status.live`)),
	)
	names := eval("list", `Array.from(document.querySelectorAll("#list li")).map(li => li.dataset.name)`)
	want := []string{"www.wrong-ds.dnssec-test.org.", "www.quiet-harbor.org.", "www.example.org."}
	if !slices.Equal(names, want) {
		t.Errorf("list = %v, want %v", names, want)
	}

	// The search narrows the list.
	step("search", chromedp.SendKeys(css(`#search`), "sec:bogus"))
	if shown := eval("search", `Array.from(document.querySelectorAll("#list li")).map(li => li.dataset.name)`); !slices.Equal(shown, []string{"www.wrong-ds.dnssec-test.org."}) {
		t.Errorf("search sec:bogus shows %v", shown)
	}
	eval("clear-search", `((s) => (s.value = "", s.dispatchEvent(new Event("input")), []))(document.getElementById("search"))`)

	// Opening the glueless walk draws its zones, servers and branch.
	step("open-glueless",
		chromedp.Click(css(`#list li[data-name="www.quiet-harbor.org."]`)),
		chromedp.WaitVisible(css(`#view svg .branch`)),
	)
	zones := eval("zones", `Array.from(document.querySelectorAll("#view svg .walk > .segment > .zone")).map(g => g.dataset.zone)`)
	// org. comes from the cache: www.example.org. was resolved first.
	if !slices.Equal(zones, []string{"org.", "quiet-harbor.org."}) {
		t.Errorf("zones drawn = %v", zones)
	}
	servers := eval("servers", `Array.from(new Set(Array.from(document.querySelectorAll("#view svg .server")).map(g => g.dataset.server)))`)
	branches := eval("branches", `Array.from(document.querySelectorAll("#view svg .branch")).map(g => g.dataset.name)`)
	if !slices.Contains(servers, "ns1.dnshost.net.") || !slices.Equal(branches, []string{"ns1.dnshost.net."}) {
		t.Errorf("servers drawn = %v, glueless branches %v", servers, branches)
	}

	// Opening the bogus one draws its chain with the failing zone.
	step("open-bogus",
		chromedp.Click(css(`#list li[data-name="www.wrong-ds.dnssec-test.org."]`)),
		chromedp.WaitVisible(css(`#view svg .chain-zone.sec-bogus`)),
	)
	if bogus := eval("bogus", `Array.from(document.querySelectorAll("#view svg .chain-zone.sec-bogus")).map(g => g.dataset.zone)`); !slices.Equal(bogus, []string{"wrong-ds.dnssec-test.org."}) {
		t.Errorf("bogus zones drawn = %v", bogus)
	}

	// Live mode: a new resolution shows within a second of its answer.
	query(t, dnsAddr, "go.example.com.")
	lctx, lcancel := context.WithTimeout(ctx, time.Second)
	err := chromedp.Do(lctx, chromedp.WaitVisible(css(`#list li[data-name="go.example.com."]`)))
	lcancel()
	if err != nil {
		shot("live-failed")
		t.Fatalf("live mode did not show go.example.com. within a second: %v", err)
	}
	if keepAlways {
		step("live", chromedp.Click(css(`#list li[data-name="go.example.com."]`)),
			chromedp.WaitVisible(css(`#view svg .edge-restart`)))
	}

	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrs) > 0 {
		shot("console-errors")
		t.Errorf("browser console errors:\n%s", strings.Join(consoleErrs, "\n"))
	}
}
