package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfig: --check-config reads what the configuration points
// at, and warns about exposure.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badHints := write("bad.hints", ". 3600000 NS a.root.\n")
	tests := []struct {
		name   string
		conf   string
		args   []string
		code   int
		stderr string
	}{
		{"defaults file", "", []string{"--config", "../../examples/serve/addrwalk.toml"}, ExitOK, ""},
		{"example file", "", []string{"--config", "../../examples/serve/addrwalk.example.toml"}, ExitOK, ""},
		{"missing root hints", "[resolver]\nroot-hints = \"/nonexistent/hints\"\n", nil, ExitUsage, "/nonexistent/hints"},
		{"bad root hints", "[resolver]\nroot-hints = \"" + badHints + "\"\n[dnssec]\nvalidation = \"off\"\n", nil, ExitUsage, "no addresses for any NS name"},
		{"missing trust anchor file", "[dnssec]\ntrust-anchor-file = \"/nonexistent/ta\"\n", nil, ExitUsage, "/nonexistent/ta"},
		{"auto trust anchor dir missing", "[dnssec]\nauto-trust-anchor-file = \"/nonexistent/dir/root.key\"\n", nil, ExitUsage, "cannot write dnssec.auto-trust-anchor-file /nonexistent/dir/root.key: no directory /nonexistent/dir"},
		{"auto trust anchor dir exists", "[dnssec]\nauto-trust-anchor-file = \"" + filepath.Join(dir, "root.key") + "\"\n", nil, ExitOK, ""},
		{"missing hosts file", "[local]\nhosts-file = \"/nonexistent/hosts\"\n", nil, ExitUsage, "/nonexistent/hosts"},
		{"open resolver warns", "[access]\nallow = [\"0.0.0.0/0\"]\n", nil, ExitOK, "warning: access.allow has 0.0.0.0/0: this is an open resolver"},
		{"open via flag warns", "", []string{"--allow", "::/0"}, ExitOK, "warning: access.allow has ::/0"},
		{"metrics off loopback warns", "[server]\nmetrics = \"0.0.0.0:9153\"\n", nil, ExitOK, "warning: server.metrics 0.0.0.0:9153 is not on loopback"},
		{"integer ttl is seconds", "[cache]\nmax-ttl = 3600\n", nil, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"serve", "--check-config"}
			if tt.conf != "" {
				args = append(args, "--config", write("c.toml", tt.conf))
			}
			args = append(args, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q (stdout %q)", code, errOut, tt.code, tt.stderr, out)
			}
			if (code == ExitOK) != strings.Contains(out, "configuration OK") {
				t.Errorf("stdout %q with exit %d", out, code)
			}
		})
	}
}
